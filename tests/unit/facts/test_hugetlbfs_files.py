"""The table-file listing the capture makes on hugetlbfs mounts."""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.hugetlbfs_files import HugetlbfsFile, parse_hugetlbfs_files


def test_sizes_paths_and_tables() -> None:
    files = parse_hugetlbfs_files("1073741824 /dev/hugepages1G/bridge\n1073741824 /dev/hugepages1G/flow\n")
    assert files == (
        HugetlbfsFile("/dev/hugepages1G/bridge", 1073741824),
        HugetlbfsFile("/dev/hugepages1G/flow", 1073741824),
    )
    assert [f.table for f in files] == ["bridge", "flow"]
    assert {f.directory for f in files} == {"/dev/hugepages1G"}


def test_path_with_spaces_is_kept_whole() -> None:
    (only,) = parse_hugetlbfs_files("4194304 /mnt/huge pages/flow")
    assert only.path == "/mnt/huge pages/flow"


@pytest.mark.parametrize("line", ["4194304", "big /dev/hugepages/flow", "4194304 relative/flow"])
def test_malformed_lines_name_the_line(line: str) -> None:
    with pytest.raises(FactParseError, match=r"hugetlbfs:tables line 2"):
        parse_hugetlbfs_files("1 /dev/hugepages/bridge\n" + line + "\n")
