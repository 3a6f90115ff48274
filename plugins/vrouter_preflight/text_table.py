"""Fixed-width text tables: the per-host table at the end of a run, the tables attached to reports."""

from __future__ import annotations

from collections.abc import Sequence


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
