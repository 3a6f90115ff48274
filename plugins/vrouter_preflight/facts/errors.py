"""The one error every fact parser raises when its input does not fit."""

from __future__ import annotations

from vrouter_preflight.errors import PreflightError

#: How much of the offending line a message quotes (a hostile host may print one line of megabytes).
LINE_LIMIT = 200


class FactParseError(PreflightError):
    """A captured file does not have the layout its parser expects.

    ``source`` is the path the text came from, ``line_no`` the 1-based line
    (``None`` when the problem is the file as a whole), ``reason`` what is
    wrong and ``line`` the offending line as read (without its newline).

    >>> str(FactParseError("/proc/buddyinfo", 3, "expected 11 counts, got 10", "Node 0, zone Normal 1"))
    "/proc/buddyinfo line 3: expected 11 counts, got 10: 'Node 0, zone Normal 1'"
    >>> str(FactParseError("/proc/zoneinfo", None, "no zones"))
    '/proc/zoneinfo: no zones'
    >>> len(str(FactParseError("/proc/cmdline", 1, "too long", "x" * 300_000)))
    235
    """

    def __init__(self, source: str, line_no: int | None, reason: str, line: str | None = None) -> None:
        self.source = source
        self.line_no = line_no
        self.reason = reason
        self.line = line
        where = source if line_no is None else f"{source} line {line_no}"
        message = f"{where}: {reason}"
        if line is not None:
            message += f": {line[:LINE_LIMIT]!r}" + ("…" if len(line) > LINE_LIMIT else "")
        super().__init__(message)
