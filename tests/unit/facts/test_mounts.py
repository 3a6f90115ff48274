"""/proc/mounts and hugetlbfs page sizes (no mounts capture in the corpus: kernel-format samples)."""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.mounts import HugetlbfsMount, Mount, hugetlbfs_mounts, parse_mounts

MOUNTS = """\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
/dev/mapper/vg-root / xfs rw,relatime,attr2,inode64,noquota 0 0
hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0
none /mnt/huge-1G hugetlbfs rw,relatime,pagesize=1024M 0 0
nodev /mnt/huge hugetlbfs rw,relatime 0 0
/dev/sdb1 /mnt/my\\040disk\\011tab ext4 ro,relatime 0 0"""


def test_parses_fields_and_decodes_octal_escapes() -> None:
    mounts = parse_mounts(MOUNTS)
    assert len(mounts) == 7
    assert mounts[2] == Mount("/dev/mapper/vg-root", "/", "xfs", ("rw", "relatime", "attr2", "inode64", "noquota"))
    assert mounts[-1].mountpoint == "/mnt/my disk\ttab"


def test_option_value_flag_and_absent() -> None:
    hugepages = parse_mounts(MOUNTS)[3]
    assert hugepages.option("pagesize") == "2M"
    assert hugepages.option("relatime") == ""
    assert hugepages.option("size") is None


def test_hugetlbfs_mounts_with_and_without_pagesize() -> None:
    assert hugetlbfs_mounts(parse_mounts(MOUNTS), default_size_kib=2048) == (
        HugetlbfsMount("/dev/hugepages", 2048),
        HugetlbfsMount("/mnt/huge-1G", 1048576),
        HugetlbfsMount("/mnt/huge", 2048),
    )
    assert hugetlbfs_mounts(parse_mounts(MOUNTS)[5:6], default_size_kib=1048576) == (
        HugetlbfsMount("/mnt/huge", 1048576),
    )


def test_bad_pagesize_raises() -> None:
    mounts = parse_mounts("none /mnt/h hugetlbfs rw,pagesize=huge 0 0\n")
    with pytest.raises(FactParseError, match=r"^/proc/mounts: hugetlbfs at /mnt/h: pagesize='huge' is not a size$"):
        hugetlbfs_mounts(mounts, 2048)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0\n", r"^/proc/mounts line 2: expected 6 fields, got 5: "),
        ("proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 x\n", r"line 2: pass field is not a number: 'x'"),
        ("proc /proc proc rw a 0\n", r"line 1: dump field is not a number: 'a'"),
    ],
)
def test_bad_lines_raise_with_source_and_line(text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_mounts(text)


def test_empty_mount_table_is_empty() -> None:
    assert parse_mounts("") == ()
