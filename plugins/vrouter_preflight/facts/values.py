"""One-value and one-line files: ``/proc/sys/vm/*`` and kernel id lists."""

from __future__ import annotations

import re

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import parse_count, parse_signed

_SIGNED = re.compile(r"-?[0-9]+")
#: The most ids a kernel list can name: CPU ids stop below NR_CPUS (at most 8,192), node ids below 1,024.
MAX_LIST_IDS = 1 << 16


def _single_line(text: str, source: str) -> str:
    """The only line of a one-line file (its newline removed)."""
    lines = text.splitlines()
    if len(lines) > 1:
        raise FactParseError(source, 2, "expected a single line", lines[1])
    return lines[0] if lines else ""


def parse_int_value(text: str, source: str) -> int:
    """Read a file holding one integer, such as ``/proc/sys/vm/nr_hugepages``.

    A sign is allowed (some sysctls are ``-1``); nothing else is.

    >>> parse_int_value("0\\n", "/proc/sys/vm/nr_hugepages")
    0
    >>> parse_int_value("", "/proc/sys/vm/nr_hugepages")
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /proc/sys/vm/nr_hugepages line 1: expected one integer: ''
    """
    line = _single_line(text, source)
    if _SIGNED.fullmatch(line.strip()) is None:
        raise FactParseError(source, 1, "expected one integer", line)
    return parse_signed(line.strip(), source, 1, line)


def parse_count_value(text: str, source: str) -> int:
    """Read a file holding one unsigned count, such as ``free_hugepages``.

    >>> parse_count_value("512\\n", "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
    512
    """
    line = _single_line(text, source)
    return parse_count(line.strip(), source, 1, line)


def parse_int_vector(text: str, source: str) -> tuple[int, ...]:
    """Read a one-line, whitespace separated list of integers.

    >>> parse_int_vector("256\\t256\\t32\\t0\\t0\\n", "/proc/sys/vm/lowmem_reserve_ratio")
    (256, 256, 32, 0, 0)
    """
    line = _single_line(text, source)
    tokens = line.split()
    if not tokens:
        raise FactParseError(source, 1, "expected at least one integer", line)
    for token in tokens:
        if _SIGNED.fullmatch(token) is None:
            raise FactParseError(source, 1, f"not an integer: {token[:40]!r}", line)
    return tuple(parse_signed(token, source, 1, line) for token in tokens)


def parse_id_list(text: str, source: str) -> tuple[int, ...]:
    """Expand the kernel list format (``0-3,8,10-11``) into sorted ids.

    An empty file is the empty list (e.g. ``/sys/devices/system/node/has_cpu``
    on a CPU-less node).

    >>> parse_id_list("0-3,8,10-11\\n", "/sys/devices/system/node/online")
    (0, 1, 2, 3, 8, 10, 11)
    >>> parse_id_list("\\n", "/sys/devices/system/node/has_cpu")
    ()
    >>> parse_id_list("0-99999999999999\\n", "/sys/devices/system/node/online")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /sys/devices/system/node/online line 1: range '0-99999999999999' \
names more than 65536 ids...
    """
    line = _single_line(text, source)
    body = line.strip()
    if not body:
        return ()
    ids: set[int] = set()
    for part in body.split(","):
        first_text, dash, last_text = part.partition("-")
        first = parse_count(first_text, source, 1, line, "list entry")
        last = parse_count(last_text, source, 1, line, "range end") if dash else first
        if last < first:
            raise FactParseError(source, 1, f"range {part[:60]!r} runs backwards", line)
        if last - first >= MAX_LIST_IDS - len(ids):
            raise FactParseError(source, 1, f"range {part[:60]!r} names more than {MAX_LIST_IDS} ids", line)
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))
