"""Memory sizes as the kernel writes and reads them, in KiB.

Hugepage sizes appear as ``hugepagesz=1G`` (kernel ``memparse``), as sysfs
directory names ``hugepages-2048kB`` and as mount options ``pagesize=2M``.
Everything here converts to an integer number of KiB.
"""

from __future__ import annotations

import re

_UNIT_SHIFT = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}
# memparse: a C integer literal (0x.. hex, 0.. octal, else decimal), then an
# optional K/M/G/T/P/E suffix; the kernel ignores what follows the suffix, we
# accept only a trailing "B"/"b" (as in "1GB", "2048kB") and reject the rest.
_MEMPARSE = re.compile(r"(?P<number>0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?P<unit>[kKmMgGtTpPeE]?)(?:[bB])?")
_HUGEPAGE_DIR = re.compile(r"hugepages-(?P<kib>[1-9][0-9]*)kB")
_FORMAT_UNITS = (("T", 1 << 30), ("G", 1 << 20), ("M", 1 << 10), ("K", 1))

#: The two hugepage sizes vRouter uses, in KiB as sysfs names them (hugepages-1048576kB, hugepages-2048kB).
GIB_KIB = 1 << 20
MIB2_KIB = 2048


def parse_size_kib(text: str) -> int:
    """Parse a size with kernel ``memparse`` rules and return it in KiB.

    A plain number is bytes and must be a whole number of KiB; a ``B`` after
    the unit is accepted (``1GB``). Anything else raises ``ValueError``.

    >>> parse_size_kib("1G"), parse_size_kib("1GB"), parse_size_kib("2M"), parse_size_kib("2048kB")
    (1048576, 1048576, 2048, 2048)
    >>> parse_size_kib("1073741824")
    1048576
    """
    match = _MEMPARSE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    digits = match["number"]
    if digits[:2] in ("0x", "0X"):
        number = int(digits, 16)
    elif digits.startswith("0"):
        number = int(digits, 8)
    else:
        number = int(digits)
    size_bytes = number << _UNIT_SHIFT[match["unit"].lower()]
    if size_bytes % 1024:
        raise ValueError(f"size {text!r} is not a whole number of KiB")
    return size_bytes // 1024


def hugepage_dir_size_kib(name: str) -> int:
    """The page size in KiB named by a hugepage sysfs directory.

    >>> hugepage_dir_size_kib("hugepages-1048576kB")
    1048576
    """
    match = _HUGEPAGE_DIR.fullmatch(name)
    if match is None:
        raise ValueError(f"not a hugepage directory name: {name!r}")
    return int(match["kib"])


def format_kib(kib: int) -> str:
    """Write a KiB amount in the largest unit that divides it exactly.

    >>> format_kib(1048576), format_kib(2048), format_kib(64), format_kib(3072)
    ('1G', '2M', '64K', '3M')
    """
    if kib < 0:
        raise ValueError(f"negative size: {kib}")
    for unit, factor in _FORMAT_UNITS:
        if kib and kib % factor == 0:
            return f"{kib // factor}{unit}"
    return "0K"
