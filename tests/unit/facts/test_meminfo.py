"""/proc/meminfo and per-node meminfo on every captured file, and the error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, local_capture, read
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.meminfo import parse_meminfo, parse_node_meminfo

FILES = corpus("meminfo")
NODE_FILES = corpus("node-meminfo")

# file -> (MemTotal kB, MemAvailable kB or None, HugePages_Total or None, Hugepagesize kB or None)
TOTALS = {
    "arm32-android-3.4-highmem": (990732, None, None, None),
    "arm32-router-4.1-cma": (94412, 40016, None, None),
    "arm32-zynq-4.4-cma": (252308, 215100, None, None),
    "chromeos-6.6-x86-no-hugetlb": (7905520, 5106572, None, None),
    "debian11-5.10-2g": (2030236, 1621752, 0, 2048),
    "el9-5.14-small-vm": (789952, 506936, 0, 2048),
    "hwloc-arm64-5.15-4node": (527031224, 478155232, 0, 2048),
    "hwloc-arm64-6.17-gb10": (125508468, 121737812, 0, 2048),
    "hwloc-debian12-6.1-hybrid": (32489496, 28934524, 0, 2048),
    "hwloc-el7-3.10-2node-hp4096": (97445600, 83337000, 4096, 2048),
    "hwloc-ppc64le-4.14-gpunodes": (358162944, 346254144, 0, 2048),
    "hwloc-s390x-1m-hugepages": (2053992, None, 0, 1024),
    "lkml-amd-4node-3.2-swapstorm": (65915384, None, 0, 2048),
    "ne-fixture-x86-4g": (3742148, None, 0, 2048),
    "procfs-fixture-zswap": (15666184, None, 0, 2048),
    "rhcos-4.18-el8-8g": (8164548, 1950080, 0, 2048),
    "ubuntu1204-3.2-8g": (8133452, None, 0, 2048),
    "ubuntu1404-3.13-8g": (8131884, None, 0, 2048),
}

# file -> (node, MemTotal kB, HugePages_Total, HugePages_Free)
NODE_TOTALS = {
    "hwloc-arm64-5.15-node1": (1, 132117940, 0, 0),
    "hwloc-el7-3.10-node0-hp2048": (0, 47925628, 2048, 2048),
    "hwloc-el7-3.10-node1-hp2048": (1, 49519964, 2048, 2048),
    "hwloc-ppc64le-gpu-node252": (252, 15728640, 0, 0),
    "ne-fixture-node0-128g": (0, 134182340, 0, 0),
    "ne-fixture-node1-128g": (1, 134217728, 0, 0),
}


def test_every_corpus_file_has_expected_values() -> None:
    assert sorted(TOTALS) == [path.stem for path in FILES]
    assert sorted(NODE_TOTALS) == [path.stem for path in NODE_FILES]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_parses_corpus_file(path: Path) -> None:
    info = parse_meminfo(path.read_text(), str(path))
    total, available, hugepages_total, hugepage_size = TOTALS[path.stem]
    assert info.kib("MemTotal") == total
    assert info.kib("MemAvailable") == available
    assert info.get("HugePages_Total") == hugepages_total
    assert info.kib("Hugepagesize") == hugepage_size
    assert all(unit in ("kB", "") for unit in info.units.values())
    assert {key for key, unit in info.units.items() if not unit} <= {
        "HugePages_Total",
        "HugePages_Free",
        "HugePages_Rsvd",
        "HugePages_Surp",
    }


@pytest.mark.parametrize("path", NODE_FILES, ids=ids(NODE_FILES))
def test_parses_node_corpus_file(path: Path) -> None:
    info = parse_node_meminfo(path.read_text(), str(path))
    node, total, hugepages_total, hugepages_free = NODE_TOTALS[path.stem]
    assert info.node == node
    assert info.kib("MemTotal") == total
    assert (info.get("HugePages_Total"), info.get("HugePages_Free"), info.get("HugePages_Rsvd")) == (
        hugepages_total,
        hugepages_free,
        None,
    )
    mem_free, mem_used = info.kib("MemFree"), info.kib("MemUsed")
    assert mem_free is not None
    assert mem_used is not None
    assert mem_free + mem_used == total


def test_absent_keys_are_none_not_zero() -> None:
    android = parse_meminfo(read("meminfo", "arm32-android-3.4-highmem"))
    assert android.kib("HighTotal") == 521216
    assert android.get("HugePages_Total") is None
    assert android.kib("Hugetlb") is None
    el7 = parse_meminfo(read("meminfo", "hwloc-el7-3.10-2node-hp4096"))
    assert el7.get("Hugetlb") is None
    assert el7.kib("DirectMap1G") == 91226112


def test_hugepage_counts_are_not_kib() -> None:
    info = parse_meminfo(read("meminfo", "hwloc-el7-3.10-2node-hp4096"))
    assert info.get("HugePages_Free") == 4096
    assert info.units["HugePages_Free"] == ""
    with pytest.raises(ValueError, match="HugePages_Free is a count"):
        info.kib("HugePages_Free")


def test_xsos_extract_with_reserved_pages() -> None:
    info = parse_meminfo(read("other", "xsos-meminfo-hugepage-extract-rsvd"))
    assert dict(info.values) == {
        "HugePages_Total": 32161,
        "HugePages_Free": 9000,
        "HugePages_Rsvd": 7191,
        "HugePages_Surp": 0,
        "Hugepagesize": 2048,
    }


def test_node_hugepages_sum_to_global() -> None:
    nodes = [parse_node_meminfo(read("node-meminfo", f"hwloc-el7-3.10-node{n}-hp2048"), f"node{n}") for n in (0, 1)]
    assert sum(node.get("HugePages_Total") or 0 for node in nodes) == parse_meminfo(
        read("meminfo", "hwloc-el7-3.10-2node-hp4096")
    ).get("HugePages_Total")


def test_misaligned_node_field() -> None:
    info = parse_node_meminfo(read("node-meminfo", "hwloc-arm64-5.15-node1"), "node1/meminfo")
    assert info.kib("FileHugePages") == 0
    assert info.kib("FilePmdMapped") == 0


def test_local_capture() -> None:
    path = local_capture("meminfo")
    info = parse_meminfo(path.read_text(), str(path))
    assert info.kib("MemTotal") == 24684084
    assert (info.get("HugePages_Total"), info.kib("Hugepagesize"), info.kib("Hugetlb")) == (0, 2048, 0)


def test_absurd_values_and_missing_final_newline_parse() -> None:
    info = parse_meminfo("MemTotal:  1 kB\nCommitLimit:    737869762947802600 kB")
    assert info.kib("CommitLimit") == 737869762947802600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MemTotal: 1 kB\nMemFree 1 kB\n", r"^/proc/meminfo line 2: expected 'Key: value \[kB\]': 'MemFree 1 kB'$"),
        ("MemTotal: 1 kB\nMemFree: x kB\n", r"line 2: MemFree is not a number: 'x'"),
        ("MemTotal: 1 kB\nMemFree: 1 MB\n", r"line 2: unknown unit 'MB'"),
        ("MemTotal: 1 kB\nMemFree:\n", r"line 2: expected 'Key: value"),
        ("MemTotal: 1 kB\nMemTotal: 2 kB\n", r"line 2: MemTotal appears twice"),
        ("MemTotal: 1 kB\nMemFree: 1 kB extra\n", r"line 2: expected 'Key: value"),
        ("", r"^/proc/meminfo: no values$"),
    ],
)
def test_bad_lines_raise_with_source_and_line(text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_meminfo(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Node 0 MemTotal: 1 kB\nNode 1 MemFree: 1 kB\n", r"^node0/meminfo line 2: node 1 differs from node 0"),
        ("Node 0 MemTotal: 1 kB\nMemFree: 1 kB\n", r"line 2: expected 'Node N Key: value'"),
        ("Node 0 MemTotal: 1 kB\nNode 0 MemFree: 1x kB\n", r"line 2: MemFree is not a number"),
        ("", r"^node0/meminfo: no values$"),
    ],
)
def test_bad_node_lines_raise_with_source_and_line(text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_node_meminfo(text, "node0/meminfo")
