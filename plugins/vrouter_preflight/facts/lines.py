"""How the parsers walk a file and split the pieces every /proc table shares.

Kept in one place: numbering lines, telling a plain number, reading an unsigned count, and the
``Node N, zone NAME`` prefix of buddyinfo, pagetypeinfo and zoneinfo rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from vrouter_preflight.facts.errors import FactParseError

_COUNT = re.compile(r"[0-9]+")
#: The most digits a number the kernel prints can have (2**64 - 1 has 20); more is a broken file, and
#: Python refuses to convert strings of more than 4,300 digits with a ValueError of its own.
MAX_DIGITS = 20
#: The most order columns a buddyinfo or pagetypeinfo row can have: an order of 64 would be 2**64 pages.
#: A row of 400,000 columns made ``free_pages`` (sum of ``count << order``) cost seconds, growing as n**2.
MAX_ORDERS = 64
#: A row of counts all well formed, joined by single spaces: read at once, without a test per column.
_PLAIN_COUNTS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}(?: [0-9]{{1,{MAX_DIGITS}}})*")
_NODE_ZONE = re.compile(r"Node\s+(?P<node>[0-9]+),\s+zone\s+(?P<zone>[^\s,]+)")


def is_plain_number(text: str, max_digits: int = MAX_DIGITS) -> bool:
    """True when ``text`` is 1 to ``max_digits`` ASCII digits, which ``int`` converts.

    ``str.isdigit`` alone also takes '²' and other Unicode digits that ``int`` refuses,
    and any number of digits; every test of a number read from a file, a command's
    output or the environment goes through here.

    >>> is_plain_number("042"), is_plain_number("²"), is_plain_number(""), is_plain_number("9" * 21)
    (True, False, False, False)
    """
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_no, line)`` with 1-based numbers and no line endings.

    A missing final newline changes nothing; a final newline adds no line.

    >>> list(numbered_lines("a\\nb"))
    [(1, 'a'), (2, 'b')]
    >>> list(numbered_lines("a\\n"))
    [(1, 'a')]
    """
    yield from enumerate(text.splitlines(), start=1)


def parse_count(token: str, source: str, line_no: int | None, line: str | None, what: str = "count") -> int:
    """Read one unsigned decimal integer token, or raise :class:`FactParseError`.

    ``what`` names the value in the error message.

    >>> parse_count("130376", "/proc/buddyinfo", 3, "...")
    130376
    >>> parse_count("1x", "/proc/buddyinfo", 3, "Node 0 1x", "order-2 count")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /proc/buddyinfo line 3: order-2 count is not a number: '1x':...
    """
    if _COUNT.fullmatch(token) is None:
        raise FactParseError(source, line_no, f"{what} is not a number: {token[:40]!r}", line)
    return int(_bounded_digits(token, source, line_no, line, what))


def _bounded_digits(digits: str, source: str, line_no: int | None, line: str | None, what: str) -> str:
    """``digits`` when it has at most :data:`MAX_DIGITS` digits (a sign aside), else FactParseError.

    >>> _bounded_digits("9" * 21, "/proc/x", 1, "...", "count")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /proc/x line 1: count has 21 digits, more than 64 bits hold...
    """
    count = len(digits.lstrip("+-"))
    if count > MAX_DIGITS:
        raise FactParseError(source, line_no, f"{what} has {count} digits, more than 64 bits hold ({MAX_DIGITS})", line)
    return digits


def parse_signed(token: str, source: str, line_no: int | None, line: str | None, what: str = "integer") -> int:
    """An integer token that may carry a ``-`` sign (some sysctls are ``-1``), at most MAX_DIGITS digits.

    >>> parse_signed("-1", "/proc/sys/vm/x", 1, "-1")
    -1
    """
    return int(_bounded_digits(token, source, line_no, line, what))


def parse_counts(tokens: Sequence[str], source: str, line_no: int, line: str) -> tuple[int, ...]:
    """Read every token with :func:`parse_count`; the error names the column.

    >>> parse_counts(["1", "2"], "/proc/buddyinfo", 1, "...")
    (1, 2)
    >>> parse_counts(["1", "9" * 21], "/proc/buddyinfo", 1, "...")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /proc/buddyinfo line 1: column 2 has 21 digits, more than...
    """
    if _PLAIN_COUNTS.fullmatch(" ".join(tokens)) is not None:  # tokens hold no space: each is a plain count
        return tuple(map(int, tokens))
    return tuple(
        parse_count(token, source, line_no, line, f"column {column}") for column, token in enumerate(tokens, start=1)
    )


def split_node_zone(line: str, source: str, line_no: int) -> tuple[int, str, str]:
    """Split a ``Node N, zone NAME`` row into ``(node, zone, rest)``.

    ``rest`` is what follows the zone name, untouched (it may start with
    ``,`` in pagetypeinfo or be empty in zoneinfo).

    >>> split_node_zone("Node 0, zone   Normal 130376  36589", "/proc/buddyinfo", 1)
    (0, 'Normal', ' 130376  36589')
    >>> split_node_zone("Node    1, zone   Normal, type  Movable 1", "/proc/pagetypeinfo", 9)
    (1, 'Normal', ', type  Movable 1')
    """
    match = _NODE_ZONE.match(line)
    if match is None:
        raise FactParseError(source, line_no, "expected 'Node N, zone NAME'", line)
    node = parse_count(match["node"], source, line_no, line, "node number")
    return node, match["zone"], line[match.end() :]
