"""Running the suite as an operator would (``pytest checks …`` in a subprocess) and reading what it printed.

Every JSON summary such a run writes is checked against ``docs/summary.schema.json`` before the test sees it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.summaries import load_summary
from vrouter_preflight.reporting.build_report import ALLURE

ROOT = Path(__file__).resolve().parents[1]
#: The Allure command line `make test` installs into the checkout (npm ci in tools/report).
INSTALLED_ALLURE = ROOT / ALLURE


def summary_path(args: Sequence[str], start: Path = ROOT) -> Path:
    """Where a run started in ``start`` with ``args`` writes its JSON summary (``--summary-json``, else ./reports/).

    >>> str(summary_path(["--summary-json=/tmp/s.json"])), str(summary_path(["--summary-json", "s.json"], Path("/x")))
    ('/tmp/s.json', '/x/s.json')
    >>> summary_path([]) == ROOT / "reports" / "summary.json"
    True
    """
    for index, arg in enumerate(args):
        if arg.startswith("--summary-json="):
            return start / arg.split("=", 1)[1]
        if arg == "--summary-json" and index + 1 < len(args):
            return start / args[index + 1]
    return start / "reports" / "summary.json"


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def run_suite(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the checks from the repository root with ``args``; the summary it writes must follow the schema."""
    __tracebackhide__ = True
    argv = [sys.executable, "-m", "pytest", "checks", "-p", "no:cacheprovider", *args]
    summary = summary_path(args)
    before = _stamp(summary)
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    after = _stamp(summary)
    if after is not None and after != before:
        load_summary(summary)
    return result


def summary_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last line, e.g. {'passed': 4, 'error': 1}."""
    last = output.strip().splitlines()[-1]
    return {word.rstrip("s"): int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def host_row(output: str, host: str) -> str:
    """The row of ``host`` in the per-host table."""
    section = output.split("vrouter-preflight: per-host result", 1)[1]
    return next(line for line in section.splitlines() if line.startswith(host + " "))
