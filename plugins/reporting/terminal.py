"""The per-host table printed at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class HostOutcome:
    """Test outcomes counted for one host, and the first problem seen.

    >>> o = HostOutcome("c0")
    >>> o.record("failed", "free 1G pages on node 1: 0 < 2")
    >>> o.verdict, o.first_problem
    ('FAILED', 'free 1G pages on node 1: 0 < 2')
    """

    host: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    first_problem: str = ""
    problems: list[str] = field(default_factory=list)

    def record(self, outcome: str, message: str = "") -> None:
        """Count one outcome: passed, failed, error or skipped."""
        if outcome == "passed":
            self.passed += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "error":
            self.errors += 1
        else:
            self.skipped += 1
        if message and outcome in ("failed", "error"):
            self.problems.append(message)
            if not self.first_problem:
                self.first_problem = message

    @property
    def verdict(self) -> str:
        """ERROR beats FAILED beats PASSED; NOT RUN when nothing ran."""
        if self.errors:
            return "ERROR"
        if self.failed:
            return "FAILED"
        if self.passed:
            return "PASSED"
        return "NOT RUN"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 70) -> list[str]:
    """Lay out rows as a fixed-width text table; long cells are cut with '…'.

    >>> render_table(["HOST", "RESULT"], [["c0", "PASSED"]])
    ['HOST  RESULT', '----  ------', 'c0    PASSED']
    """

    def cut(cell: str) -> str:
        cell = " ".join(cell.split())
        return cell if len(cell) <= max_width else cell[: max_width - 1] + "…"

    cells = [[cut(c) for c in row] for row in [list(header), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
