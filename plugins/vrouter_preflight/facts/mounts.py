"""``/proc/mounts`` and the hugetlbfs mounts among them.

Each line is ``source mountpoint fstype options dump pass``; the kernel writes
space, tab, newline and backslash inside the first three fields as octal
escapes (``\\040``), which are decoded here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines, parse_count
from vrouter_preflight.facts.sizes import parse_size_kib

HUGETLBFS = "hugetlbfs"
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One mounted filesystem with its comma-separated options in order.

    >>> mount = Mount("nodev", "/dev/hugepages1G", "hugetlbfs", ("rw", "relatime", "pagesize=1024M"))
    >>> mount.option("pagesize"), mount.option("rw"), mount.option("ro")
    ('1024M', '', None)
    """

    source: str
    mountpoint: str
    fstype: str
    options: tuple[str, ...]

    def option(self, name: str) -> str | None:
        """Value of ``name=value`` (the last one wins), ``""`` for a bare flag, ``None`` when absent.

        >>> Mount("none", "/", "tmpfs", ("size=1G", "size=2G")).option("size")
        '2G'
        """
        found: str | None = None
        for option in self.options:
            key, equals, value = option.partition("=")
            if key == name:
                found = value if equals else ""
        return found


@dataclass(frozen=True)
class HugetlbfsMount:
    """A hugetlbfs mount and the page size its files use.

    >>> HugetlbfsMount("/dev/hugepages", 2048).pagesize_kib
    2048
    """

    mountpoint: str
    pagesize_kib: int


def _decode(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), field)


def parse_mounts(text: str, source: str = "/proc/mounts") -> tuple[Mount, ...]:
    """Parse ``/proc/mounts`` (or ``/proc/self/mounts``); every line has six fields.

    >>> parse_mounts("/dev/sda1 /mnt/my\\\\040disk ext4 rw,relatime 0 0\\n")[0].mountpoint
    '/mnt/my disk'
    """
    mounts: list[Mount] = []
    for line_no, line in numbered_lines(text):
        fields = line.split()
        if len(fields) != 6:
            raise FactParseError(source, line_no, f"expected 6 fields, got {len(fields)}", line)
        device, mountpoint, fstype, options, dump, pass_no = fields
        parse_count(dump, source, line_no, line, "dump field")
        parse_count(pass_no, source, line_no, line, "pass field")
        mounts.append(Mount(_decode(device), _decode(mountpoint), _decode(fstype), tuple(options.split(","))))
    return tuple(mounts)


def hugetlbfs_mounts(
    mounts: Iterable[Mount], default_size_kib: int, source: str = "/proc/mounts"
) -> tuple[HugetlbfsMount, ...]:
    """The hugetlbfs mounts with their page size (``pagesize=`` or else the default size).

    >>> mounts = parse_mounts("hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=1G 0 0\\nnone /x hugetlbfs rw 0 0\\n")
    >>> [(mount.mountpoint, mount.pagesize_kib) for mount in hugetlbfs_mounts(mounts, 2048)]
    [('/dev/hugepages', 1048576), ('/x', 2048)]
    """
    found: list[HugetlbfsMount] = []
    for mount in mounts:
        if mount.fstype != HUGETLBFS:
            continue
        pagesize = mount.option("pagesize")
        if pagesize is None:
            found.append(HugetlbfsMount(mount.mountpoint, default_size_kib))
            continue
        try:
            found.append(HugetlbfsMount(mount.mountpoint, parse_size_kib(pagesize)))
        except ValueError:
            raise FactParseError(
                source, None, f"hugetlbfs at {mount.mountpoint}: pagesize={pagesize!r} is not a size"
            ) from None
    return tuple(found)
