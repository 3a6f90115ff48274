"""Running the suite as an operator would (``pytest checks …`` in a subprocess) and reading what it printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from vrouter_preflight.reporting.build_report import ALLURE

ROOT = Path(__file__).resolve().parents[1]
#: The Allure command line `make test` installs into the checkout (npm ci in tools/report).
INSTALLED_ALLURE = ROOT / ALLURE


def run_suite(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the checks from the repository root with ``args``."""
    argv = [sys.executable, "-m", "pytest", "checks", "-p", "no:cacheprovider", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)


def summary_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last line, e.g. {'passed': 4, 'error': 1}."""
    last = output.strip().splitlines()[-1]
    return {word.rstrip("s"): int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def host_row(output: str, host: str) -> str:
    """The row of ``host`` in the per-host table."""
    section = output.split("vrouter-preflight: per-host result", 1)[1]
    return next(line for line in section.splitlines() if line.startswith(host + " "))
