"""The agent's hugepage-backed table files found on hugetlbfs mounts.

The capture lists ``<bytes> <path>`` for every ``flow`` and ``bridge`` file on
a hugetlbfs mount (see ``plugins/vrouter_preflight/capture.py``). These files keep their pages
across agent restarts and module reloads, and the agent reuses them.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines, parse_count


@dataclass(frozen=True)
class HugetlbfsFile:
    """One table file: where it is, which table, and its size in bytes.

    >>> HugetlbfsFile("/dev/hugepages1G/flow", 1073741824).table
    'flow'
    """

    path: str
    size_bytes: int

    @property
    def table(self) -> str:
        """``flow`` or ``bridge`` (the file's name)."""
        return posixpath.basename(self.path)

    @property
    def directory(self) -> str:
        """The mount point the file lives on."""
        return posixpath.dirname(self.path)


def parse_hugetlbfs_files(text: str, source: str = "hugetlbfs:tables") -> tuple[HugetlbfsFile, ...]:
    """Parse ``<bytes> <path>`` lines; an empty capture means no files.

    >>> parse_hugetlbfs_files("1073741824 /dev/hugepages1G/flow\\n1073741824 /dev/hugepages1G/bridge\\n")[1].table
    'bridge'
    >>> parse_hugetlbfs_files("")
    ()
    """
    files = []
    for line_no, line in numbered_lines(text):
        size, sep, path = line.partition(" ")
        if not sep or not path.startswith("/"):
            raise FactParseError(source, line_no, "expected '<bytes> <absolute path>'", line)
        files.append(HugetlbfsFile(path, parse_count(size, source, line_no, line, "file size")))
    return tuple(files)
