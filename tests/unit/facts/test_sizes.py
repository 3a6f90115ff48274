"""Sizes as the kernel writes them: memparse strings, sysfs dir names, KiB formatting."""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.sizes import format_kib, hugepage_dir_size_kib, parse_size_kib


@pytest.mark.parametrize(
    ("text", "kib"),
    [
        ("1G", 1048576),
        ("1GB", 1048576),
        ("1g", 1048576),
        ("2M", 2048),
        ("2MB", 2048),
        ("32M", 32768),
        ("64K", 64),
        ("2048kB", 2048),
        ("2048K", 2048),
        ("1073741824", 1048576),
        ("0x40000000", 1048576),
        ("16G", 16 * 1048576),
        ("1024M", 1048576),
    ],
)
def test_parse_size_kib_follows_memparse(text: str, kib: int) -> None:
    assert parse_size_kib(text) == kib


@pytest.mark.parametrize("text", ["", "G", "1X", "1GiB", "1 G", "-2M", "2M2", "1023", "1.5G", "0x"])
def test_parse_size_kib_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size_kib(text)


def test_hugepage_dir_size_kib() -> None:
    assert hugepage_dir_size_kib("hugepages-2048kB") == 2048
    assert hugepage_dir_size_kib("hugepages-64kB") == 64
    assert hugepage_dir_size_kib("hugepages-1048576kB") == 1048576


@pytest.mark.parametrize(
    "name", ["hugepages-2048", "hugepages-2MB", "hugepages-kB", "demote_size", "hugepages-02048kB"]
)
def test_hugepage_dir_size_kib_rejects_other_names(name: str) -> None:
    with pytest.raises(ValueError, match="hugepage directory"):
        hugepage_dir_size_kib(name)


@pytest.mark.parametrize(
    ("kib", "text"),
    [(1048576, "1G"), (2048, "2M"), (64, "64K"), (32768, "32M"), (1536, "1536K"), (0, "0K"), (1 << 30, "1T")],
)
def test_format_kib_uses_largest_exact_unit(kib: int, text: str) -> None:
    assert format_kib(kib) == text
    assert parse_size_kib(text) == kib
