"""The ``vrouter-preflight`` command: pytest with the suite's checks selected, and ``merge``.

Every option is pytest's or the suite's, the same as ``pytest --inventory …``;
without ``--inventory`` the built-in local inventory checks this machine.
``--help`` shows the suite's options first. pytest's cache is not written, so
a run leaves nothing in the working directory but ``reports/``.

``vrouter-preflight merge --summary-json OUT SUMMARY…`` merges the summaries of
a sharded run (``--shard I/N``) into one; its exit status is the merged run's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from vrouter_preflight.plugin import SUITE_REQUEST_ATTRIBUTE
from vrouter_preflight.reporting.merge import MergeError, merge_summaries, read_summary
from vrouter_preflight.reporting.metrics import write_metrics
from vrouter_preflight.reporting.summary import write_summary
from vrouter_preflight.wiring.options import GROUP

PROG = "vrouter-preflight"


class _SuiteRequest:
    """Marks a run started by the command: the entry point then always collects the checks."""

    def __init__(self) -> None:
        setattr(self, SUITE_REQUEST_ATTRIBUTE, True)


def suite_options_first(help_text: str, prefix: str = GROUP) -> str:
    """pytest's help with the sections whose title starts with ``prefix`` moved up, right after the usage.

    A section starts at a line with no indent that ends with ``:``.

    >>> text = "usage: x\\n\\npositional arguments:\\n  file\\n\\ngeneral:\\n  -k\\n\\n"
    >>> text += "vrouter-preflight:\\n  --inventory\\n"
    >>> print(suite_options_first(text), end="")
    usage: x
    <BLANKLINE>
    vrouter-preflight:
      --inventory
    <BLANKLINE>
    positional arguments:
      file
    <BLANKLINE>
    general:
      -k
    """
    sections: list[list[str]] = [[]]
    for line in help_text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            sections.append([])
        sections[-1].append(line)
    blocks = ["\n".join(section).strip("\n") for section in sections]
    head, rest = blocks[0], blocks[1:]
    ours = [block for block in rest if block.startswith(prefix)]
    theirs = [block for block in rest if not block.startswith(prefix)]
    return "\n\n".join([head, *ours, *theirs]) + "\n"


def merge_command(argv: Sequence[str]) -> int:
    """``vrouter-preflight merge``: one summary (and exit status) from the shards' summaries.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     merge_command(["--summary-json", f"{d}/all.json", f"{d}/missing.json"])
    2
    """
    parser = argparse.ArgumentParser(prog=f"{PROG} merge", description=merge_summaries.__doc__)
    parser.add_argument("--summary-json", required=True, type=Path, metavar="OUT", help="the merged summary")
    parser.add_argument("--metrics", type=Path, metavar="PATH", help="also write the merged run's Prometheus metrics")
    parser.add_argument("summaries", nargs="+", type=Path, metavar="SUMMARY", help="the shards' summaries")
    args = parser.parse_args(list(argv))
    try:
        merged = merge_summaries([(str(path), read_summary(path)) for path in args.summaries])
    except MergeError as exc:
        print(f"{PROG} merge: {exc}", file=sys.stderr)
        return 2
    write_summary(args.summary_json, merged)
    if args.metrics is not None:
        write_metrics(args.metrics, merged)
    print(
        f"{args.summary_json}: {len(merged['hosts'])} hosts from {len(args.summaries)} summaries, "
        f"verdict {merged['verdict']}, exit status {merged['exit_status']}"
    )
    return int(merged["exit_status"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite as pytest would with ``argv``; returns pytest's exit status.

    For example ``main(["--inventory", "/srv/fleet.yaml", "-n", "4"])`` is what
    ``vrouter-preflight --inventory /srv/fleet.yaml -n 4`` runs (exit status 0, 1 or 4
    as for ``pytest``); ``tests/integration/test_installed.py`` runs it from a wheel.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["merge"]:
        return merge_command(args[1:])
    args = ["-p", "no:cacheprovider", *args]
    if "--help" in args or "-h" in args:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            status = pytest.main(args, plugins=[_SuiteRequest()])
        text = re.sub(r"^usage: \S+ ", f"usage: {PROG} ", buffer.getvalue(), count=1)
        sys.stdout.write(suite_options_first(text))
        return int(status)
    return int(pytest.main(args, plugins=[_SuiteRequest()]))
