"""The fleet bench's results: which hosts a run lost, one row per run, and the table (pure functions).

A host is lost when the suite's JSON summary lacks it or gives it an error
for reachability (its gather failed, or its ``reachable`` check errored); for
pytest-testinfra, when any of its tests failed or errored, or it has none.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REACHABILITY_CHECK = "reachable"


def hosts_lost(summary: Mapping[str, Any] | None, names: Sequence[str]) -> list[str]:
    """The hosts the suite did not reach, from its ``--summary-json`` (all of them without a summary).

    >>> summary = {"hosts": {
    ...     "c0": {"error": None, "checks": [{"id": "reachable", "outcome": "passed"}]},
    ...     "c1": {"error": "c1 (127.0.0.1:22): connection refused", "checks": []},
    ...     "c2": {"error": None, "checks": [{"id": "reachable", "outcome": "error"}]},
    ...     "c3": {"error": None, "checks": [{"id": "facts_parse", "outcome": "failed"}]}}}
    >>> hosts_lost(summary, ["c0", "c1", "c2", "c3", "c4"])
    ['c1', 'c2', 'c4']
    >>> hosts_lost(None, ["c0"])
    ['c0']
    """
    hosts = (summary or {}).get("hosts") or {}
    lost = []
    for name in names:
        host = hosts.get(name)
        unreachable = host is None or host.get("error") is not None
        checks = () if host is None else host.get("checks", ())
        if unreachable or any(c.get("id") == REACHABILITY_CHECK and c.get("outcome") == "error" for c in checks):
            lost.append(name)
    return lost


_TESTINFRA_ID = re.compile(r"(?:ssh|paramiko)://(?:[^@\s\]]+@)?([A-Za-z0-9._-]+)")


def junit_host_of(test_name: str, names: Collection[str]) -> str | None:
    """The inventory host a pytest-testinfra test ran on, from its name (ids are joined with ``-``).

    >>> junit_host_of("test_read[ssh://root@bench-0001-getconf:PAGESIZE]", {"bench-0001"})
    'bench-0001'
    >>> junit_host_of("test_read[/proc/cmdline-ssh://bench-0002]", {"bench-0002"})
    'bench-0002'
    >>> junit_host_of("test_read[/proc/cmdline]", {"bench-0002"}) is None
    True
    """
    for token in _TESTINFRA_ID.findall(test_name):
        cuts = [index for index, char in enumerate(token) if char == "-"] + [len(token)]
        for cut in reversed(cuts):
            name: str = token[:cut]
            if name in names:
                return name
    return None


def junit_hosts_lost(junit_xml: str | None, names: Sequence[str]) -> list[str]:
    """The hosts with a failed or erroring pytest-testinfra test, or with none, from its JUnit XML.

    >>> xml = ('<testsuites><testsuite>'
    ...        '<testcase name="test_read[ssh://bench-0000-/proc/cmdline]"/>'
    ...        '<testcase name="test_read[ssh://bench-0001-/proc/cmdline]"><failure message="rc 255"/></testcase>'
    ...        '</testsuite></testsuites>')
    >>> junit_hosts_lost(xml, ["bench-0000", "bench-0001", "bench-0002"])
    ['bench-0001', 'bench-0002']
    """
    if not junit_xml:
        return list(names)
    known = set(names)
    seen: set[str] = set()
    bad: set[str] = set()
    for case in ElementTree.fromstring(junit_xml).iter("testcase"):
        host = junit_host_of(case.get("name", ""), known)
        if host is None:
            continue
        seen.add(host)
        if case.find("failure") is not None or case.find("error") is not None:
            bad.add(host)
    return [name for name in names if name in bad or name not in seen]


@dataclass(frozen=True)
class RunRow:
    """One run of the bench, as the table shows it (CPU in ms per host, memory in MB)."""

    hosts: int
    tool: str
    workers: int
    finished: bool
    wall_s: float
    controller_ms: float
    compute_ms: float
    sshd_ms: float
    rss_largest_mb: float
    rss_tree_mb: float
    lost: int
    load_before: float
    others_cores: float
    #: Hosts on which no command ran to its end (from the command wrapper's records).
    silent: int = 0


COLUMNS = (
    "hosts",
    "tool",
    "-n",
    "wall s",
    "controller CPU ms/host",
    "compute CPU ms/host",
    "sshd CPU ms/host",
    "controller peak RSS MB (largest process / whole tree)",
    "hosts lost",
    "load avg (1 min) at start",
    "others' cores",
)


def row_cells(row: RunRow, cap_s: float) -> list[str]:
    """The table cells of one run.

    A run stopped at the wall cap says so instead of a wall time, its CPU
    and memory figures (what it used until it was stopped) read ``≥``, and
    it has no summary to count lost hosts in: the hosts on which no command
    ran to its end stand in.

    >>> row = RunRow(100, "vrouter-preflight", 2, True, 10.24, 812.3, 55.21, 31.04, 412.5, 780.2, 0, 1.37, 0.42)
    >>> row_cells(row, 900)
    ['100', 'vrouter-preflight', '2', '10.2', '812', '55.2', '31.0', '412 / 780', '0', '1.37', '0.42']
    >>> row_cells(RunRow(1000, "vrouter-preflight", 1, False, 900.1, 640, 45, 30, 300, 500, 1000, 0.5, 0.1), 900)[3:9]
    ['did not finish (cap 900 s)', '≥ 640', '≥ 45.0', '≥ 30.0', '≥ 300 / 500', 'no summary; 0 ran no command']
    """
    wall = f"{row.wall_s:.1f}" if row.finished else f"did not finish (cap {cap_s:.0f} s)"
    at_least = "" if row.finished else "≥ "
    return [
        str(row.hosts),
        row.tool,
        str(row.workers),
        wall,
        f"{at_least}{row.controller_ms:.0f}",
        f"{at_least}{row.compute_ms:.1f}",
        f"{at_least}{row.sshd_ms:.1f}",
        f"{at_least}{row.rss_largest_mb:.0f} / {row.rss_tree_mb:.0f}",
        str(row.lost) if row.finished else f"no summary; {row.silent} ran no command",
        f"{row.load_before:.2f}",
        f"{row.others_cores:.2f}",
    ]


def render_table(rows: Sequence[RunRow], cap_s: float) -> str:
    """A Markdown table of the runs (it pastes into an issue note as it is).

    >>> rows = [RunRow(100, "vrouter-preflight", 1, True, 12.0, 800, 55, 30, 400, 400, 0, 1.0, 0.1)]
    >>> print(render_table(rows, 900))  # doctest: +NORMALIZE_WHITESPACE
    | hosts | tool | -n | wall s | controller CPU ms/host | compute CPU ms/host | sshd CPU ms/host
      | controller peak RSS MB (largest process / whole tree) | hosts lost | load avg (1 min) at start | others' cores |
    |---|---|---|---|---|---|---|---|---|---|---|
    | 100 | vrouter-preflight | 1 | 12.0 | 800 | 55.0 | 30.0 | 400 / 400 | 0 | 1.00 | 0.10 |
    """
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row_cells(row, cap_s)) + " |" for row in rows]
    return "\n".join(lines)


#: The tool name of the baseline install's rows (``--baseline-python``).
BASELINE = "baseline"


def ratio_lines(rows: Sequence[RunRow]) -> list[str]:
    """Ratios within one fleet size: ``-n 1`` over ``-n 2``, pytest-testinfra over the suite, and the suite's
    controller CPU and wall time over a baseline install's, run by turns on the same fleet.

    >>> rows = [RunRow(100, "vrouter-preflight", 1, True, 12.0, 0, 0, 0, 0, 0, 0, 0, 0),
    ...         RunRow(100, "vrouter-preflight", 2, True, 8.0, 30.0, 0, 0, 0, 0, 0, 0, 0),
    ...         RunRow(100, "baseline", 2, True, 10.0, 40.0, 0, 0, 0, 0, 0, 0, 0),
    ...         RunRow(100, "pytest-testinfra", 2, True, 80.0, 0, 0, 0, 0, 0, 0, 0, 0)]
    >>> for line in ratio_lines(rows): print(line)
    100 hosts: vrouter-preflight -n 2 is 1.50x as fast as -n 1
    100 hosts: pytest-testinfra -n 2 takes 10.0x the wall time of vrouter-preflight -n 2
    100 hosts -n 2: vrouter-preflight uses 0.75x the controller CPU of the baseline, 0.80x its wall time
    """
    lines: list[str] = []
    against_baseline: list[str] = []
    finished = {(row.hosts, row.tool, row.workers): row for row in rows if row.finished}
    for hosts, workers in sorted({(row.hosts, row.workers) for row in rows if row.tool == BASELINE}):
        base, suite = finished.get((hosts, BASELINE, workers)), finished.get((hosts, "vrouter-preflight", workers))
        if base is not None and suite is not None and base.controller_ms and base.wall_s:
            against_baseline.append(
                f"{hosts} hosts -n {workers}: vrouter-preflight uses {suite.controller_ms / base.controller_ms:.2f}x "
                f"the controller CPU of the baseline, {suite.wall_s / base.wall_s:.2f}x its wall time"
            )
    for hosts in sorted({row.hosts for row in rows}):
        one, two = finished.get((hosts, "vrouter-preflight", 1)), finished.get((hosts, "vrouter-preflight", 2))
        if one is not None and two is not None:
            lines.append(f"{hosts} hosts: vrouter-preflight -n 2 is {one.wall_s / two.wall_s:.2f}x as fast as -n 1")
        peer = finished.get((hosts, "pytest-testinfra", 2))
        if peer is not None and two is not None:
            ratio = peer.wall_s / two.wall_s
            lines.append(
                f"{hosts} hosts: pytest-testinfra -n 2 takes {ratio:.1f}x the wall time of vrouter-preflight -n 2"
            )
    return lines + against_baseline
