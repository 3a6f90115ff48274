"""The fault matrix of the destructive stage: one record per (fault, step) cell, as JSON and as a markdown table.

tests/integration/test_fault_matrix.py fills one :class:`Cell` per test and, at the end of the
module, writes ``reports/fault-matrix.json`` (every cell that ran) and ``reports/fault-matrix.md``
(``docs/fault-matrix.md`` too with ``VRPF_FAULT_MATRIX_DOC=1`` when the whole matrix ran).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Cell:
    """One faulted run and its replay: where the fault landed and what the replay left.

    ``attempts`` counts the runs it took (``missed`` says why a run went on unstruck: its step was not
    caught running, or never came); ``run_said`` is the faulted run's own remediation message (empty:
    it was killed or interrupted before writing one); ``pages_out`` is how many 1G pages of node 0 were
    still released when the faulted run had ended (what the replay had to give back); ``pages_lost`` is,
    per pool, ``nr_hugepages`` before the run minus after the replay (every node and the global
    counters; 0 everywhere when all came back).
    """

    fault: str
    step: str
    landed: str = "?"
    journal_at_fault: str = "?"
    command: str | None = None
    run_rc: int | None = None
    run_said: str = ""
    after_run: str = "?"
    pages_out: int | None = None
    replay_rc: int | None = None
    replay: str = "?"
    pages_lost: dict[str, int] = field(default_factory=dict)
    second_replay: str = "?"
    seconds: float = 0.0
    attempts: int = 0
    missed: list[str] = field(default_factory=list)
    run_seconds: float | None = None
    replay_seconds: float | None = None
    passed: bool = False
    problem: str | None = None

    @property
    def lost(self) -> int | None:
        """Every page lost, summed over the pools (None when the cell never got that far).

        >>> Cell("kill -9", "record", pages_lost={"global 1048576kB": 0, "node0 1048576kB": 0}).lost
        0
        """
        return sum(self.pages_lost.values()) if self.pages_lost else None


def pages_lost(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """``nr_hugepages`` before minus after, per pool, from two :func:`tests.kernel_pools.pool_snapshot` readings.

    >>> base = "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB"
    >>> pages_lost({f"{base}/nr_hugepages": 2, f"{base}/free_hugepages": 2}, {f"{base}/nr_hugepages": 1})
    {'node0 1048576kB': 1}
    """
    lost: dict[str, int] = {}
    for path, nr in before.items():
        if path.endswith("/nr_hugepages"):
            parts = path.split("/")
            where = parts[5] if parts[2] == "devices" else "global"
            lost[f"{where} {parts[-2].removeprefix('hugepages-')}"] = nr - after.get(path, 0)
    return lost


def write_json(path: Path, cells: Sequence[Cell], meta: Mapping[str, object]) -> Path:
    """``{"meta": …, "cells": [...]}`` to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": dict(meta), "cells": [asdict(c) for c in cells]}, indent=2) + "\n")
    return path


def _mark(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    verdict = "ok" if cell.passed else "**FAILED**"
    lost = "?" if cell.lost is None else str(cell.lost)
    return f"{verdict}: run left {cell.after_run}; replay: {cell.replay}; lost {lost}"


def matrix_table(cells: Sequence[Cell], faults: Sequence[str], steps: Sequence[str]) -> str:
    """Steps × faults, one verdict per cell: what the faulted run left, what the replay did, the pages lost.

    >>> cell = Cell("kill -9", "release", after_run="open at release", replay="pools restored",
    ...             pages_lost={"node0 1048576kB": 0}, passed=True)
    >>> print(matrix_table([cell], ["kill -9", "hang"], ["release"]))
    | step | kill -9 | hang |
    |---|---|---|
    | release | ok: run left open at release; replay: pools restored; lost 0 | not run |
    """
    by_key = {(c.fault, c.step): c for c in cells}
    lines = ["| step | " + " | ".join(faults) + " |", "|---" * (len(faults) + 1) + "|"]
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(_mark(by_key.get((f, step))) for f in faults) + " |")
    return "\n".join(lines)


def markdown(cells: Sequence[Cell], faults: Mapping[str, str], steps: Sequence[str], intro: str) -> str:
    """``intro``, the matrix, what each fault is, and one line per cell with where it landed, as markdown.

    >>> cell = Cell("kill -9", "record", "record", "claim", "capture", -9, "", "open at claim", 0, 0, "restored",
    ...             {"node0 1048576kB": 0}, "no-op", 4.2, passed=True)
    >>> text = markdown([cell], {"kill -9": "SIGKILL of the run"}, ["record"], "Intro.")
    >>> "| record | claim | capture | -9 | open at claim | 0 | rc 0: restored | 0 | no-op | 0 | 4.2 |" in text
    True
    """
    lines = [intro, "", matrix_table(cells, list(faults), steps), "", "Faults:", ""]
    lines += [f"- **{name}**: {what}" for name, what in faults.items()]
    lines += [
        "",
        "Every cell: the step the fault landed in, read back from the journal's last event when it struck and the "
        "command it caught on the host; the faulted run's exit status and what its journal said after it; the 1G "
        "pages still out then; what the one `--rollback-journal` did; the pages lost (before − after, every pool); "
        "the second replay; the runs it took (a run whose step was not caught running goes on unstruck).",
        "",
        "| fault | step | landed in | journal at fault | command | run rc | journal after the run | pages out "
        "| replay | pages lost | 2nd replay | runs | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.fault} | {c.step} | {c.landed} | {c.journal_at_fault} | {c.command or '-'} | {c.run_rc} "
            f"| {c.after_run} | {c.pages_out} | rc {c.replay_rc}: {c.replay} | {c.lost} | {c.second_replay} "
            f"| {c.attempts} | {c.seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"
