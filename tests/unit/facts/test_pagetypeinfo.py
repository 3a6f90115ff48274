"""/proc/pagetypeinfo on every captured file, cross-checks with buddyinfo, and error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, local_capture, read
from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.pagetypeinfo import MigrateTypeFree, PageTypeInfo, parse_pagetypeinfo

FILES = corpus("pagetypeinfo")

OLD = ("Unmovable", "Reclaimable", "Movable", "Reserve", "Isolate")
OLD_CMA = ("Unmovable", "Reclaimable", "Movable", "Reserve", "CMA", "Isolate")
NEW = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
NEW_CMA = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")

# file -> (page block order, migrate types in file order, zones of the block table as "node:name")
SHAPES = {
    "arm32-android-3.4-highmem": (10, OLD, ("0:Normal", "0:HighMem")),
    "arm32-qcom-3.18-cma-before-reserve": (
        10,
        ("Unmovable", "Reclaimable", "Movable", "CMA", "Reserve", "Isolate"),
        ("0:Normal",),
    ),
    "arm32-router-4.1-cma": (10, OLD_CMA, ("0:Normal",)),
    "arm32-zynq-4.4-cma": (10, NEW_CMA, ("0:Normal",)),
    "chromeos-6.6-x86-pbo10": (10, NEW[:4], ("0:DMA", "0:DMA32", "0:Normal")),
    "el9-5.14-small-vm-cma": (9, NEW_CMA, ("0:DMA", "0:DMA32")),
    "lkml-fb-3.10-2node-repeated-header": (9, OLD, ("0:DMA", "0:DMA32", "0:Normal", "1:Normal")),
    "lkml-fb-4.0-2node-fragmented": (9, OLD_CMA, ("0:DMA", "0:DMA32", "0:Normal", "1:Normal")),
    "rhcos-4.18-el8-1node": (9, NEW, ("0:DMA", "0:DMA32", "0:Normal")),
    "ubuntu1204-3.2-8g": (9, OLD, ("0:DMA", "0:DMA32", "0:Normal")),
    "ubuntu1404-3.13-reserve-cma": (9, OLD_CMA, ("0:DMA", "0:DMA32", "0:Normal")),
}


def test_every_corpus_file_has_an_expected_shape() -> None:
    assert sorted(SHAPES) == [path.stem for path in FILES]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_parses_corpus_file(path: Path) -> None:
    info = parse_pagetypeinfo(path.read_text(), str(path))
    order, types, zones = SHAPES[path.stem]
    assert (info.page_block_order, info.pages_per_block) == (order, 1 << order)
    assert info.migrate_types == types
    assert tuple(f"{row.node}:{row.zone}" for row in info.blocks) == zones
    assert all(tuple(row.counts) == types for row in info.blocks)
    assert len(info.free) == len(zones) * len(types)
    assert all(len(row.free_blocks) == 11 and not row.is_capped for row in info.free)


def test_lkml_fb_4_0_per_node_sections() -> None:
    info = parse_pagetypeinfo(read("pagetypeinfo", "lkml-fb-4.0-2node-fragmented"))
    unmovable = info.zone_free(0, "Normal")[0]
    assert unmovable == MigrateTypeFree(0, "Normal", "Unmovable", (115050, 40237, 3785, 0, 0, 0, 0, 0, 0, 0, 0))
    node1 = {row.migrate_type: row.free_blocks for row in info.zone_free(1, "Normal")}
    assert node1["Reserve"] == (0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0)
    assert all(sum(blocks[4:]) == 0 for blocks in node1.values())
    normal0 = info.zone_blocks(0, "Normal")
    normal1 = info.zone_blocks(1, "Normal")
    assert normal0 is not None
    assert normal1 is not None
    assert dict(normal0.counts) == {
        "Unmovable": 6634,
        "Reclaimable": 3757,
        "Movable": 21351,
        "Reserve": 2,
        "CMA": 0,
        "Isolate": 0,
    }
    assert normal1.counts["Movable"] == 25345


def test_lkml_fb_3_10_repeated_header_without_blank_line() -> None:
    info = parse_pagetypeinfo(read("pagetypeinfo", "lkml-fb-3.10-2node-repeated-header"))
    blocks = info.zone_blocks(1, "Normal")
    assert blocks is not None
    assert tuple(blocks.counts.values()) == (868, 433, 31465, 2, 0)
    assert info.zone_free(1, "Normal")[2].free_blocks[:3] == (1, 2919, 1131)


def test_vendor_migrate_type_order_is_taken_from_the_file() -> None:
    info = parse_pagetypeinfo(read("pagetypeinfo", "arm32-qcom-3.18-cma-before-reserve"))
    cma = info.zone_free(0, "Normal")[3]
    assert (cma.migrate_type, cma.free_blocks) == ("CMA", (0, 1, 1, 1, 0, 1, 0, 2, 1, 2, 0))
    blocks = info.zone_blocks(0, "Normal")
    assert blocks is not None
    assert list(blocks.counts.items()) == [
        ("Unmovable", 5),
        ("Reclaimable", 2),
        ("Movable", 34),
        ("CMA", 2),
        ("Reserve", 1),
        ("Isolate", 0),
    ]


def test_zynq_cma_holds_free_high_order_blocks() -> None:
    info = parse_pagetypeinfo(read("pagetypeinfo", "arm32-zynq-4.4-cma"))
    cma = next(row for row in info.free if row.migrate_type == "CMA")
    assert cma.free_blocks[10] == 3


@pytest.mark.parametrize(
    ("pagetypeinfo", "buddyinfo"),
    [
        ("ubuntu1204-3.2-8g", "ubuntu1204-3.2-8g"),
        ("ubuntu1404-3.13-reserve-cma", "ubuntu1404-3.13-8g"),
        ("el9-5.14-small-vm-cma", "el9-5.14-small-vm-no-normal"),
        ("arm32-qcom-3.18-cma-before-reserve", "arm32-qcom-3.18-single-normal"),
    ],
)
def test_same_instant_captures_sum_to_buddyinfo(pagetypeinfo: str, buddyinfo: str) -> None:
    assert_sums_match(parse_pagetypeinfo(read("pagetypeinfo", pagetypeinfo)), read("buddyinfo", buddyinfo))


def test_local_capture_sums_to_local_buddyinfo() -> None:
    path = local_capture("pagetypeinfo")
    info = parse_pagetypeinfo(path.read_text(), str(path))
    assert info.migrate_types == NEW
    assert_sums_match(info, local_capture("buddyinfo").read_text())


def assert_sums_match(info: PageTypeInfo, buddyinfo_text: str) -> None:
    buddy = parse_buddyinfo(buddyinfo_text)
    for zone in buddy.zones:
        rows = info.zone_free(zone.node, zone.zone)
        assert rows, f"no pagetypeinfo rows for node {zone.node} {zone.zone}"
        per_order = tuple(sum(column) for column in zip(*(row.free_blocks for row in rows)))
        assert per_order == zone.free_blocks, f"node {zone.node} {zone.zone}"


CAPPED = """\
Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1      2
Node    0, zone   Normal, type    Unmovable  12345 >100000 99999
Node    0, zone   Normal, type      Movable >100000 >100000    1

Number of blocks type     Unmovable      Movable
Node 0, zone   Normal          280         2026
"""


def test_capped_counts_shift_columns_but_parse() -> None:
    # No capture in the corpus reaches the cap; this follows the kernel's "%s%6lu " with ">".
    info = parse_pagetypeinfo(CAPPED)
    unmovable, movable = info.free
    assert unmovable.free_blocks == (12345, 100000, 99999)
    assert unmovable.capped_orders == frozenset({1})
    assert movable.capped_orders == frozenset({0, 1})
    assert movable.is_capped
    assert movable.free_pages == 100000 + 200000 + 4


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (("   280         2026", "   280"), r"^/proc/pagetypeinfo line 9: expected 2 counts, got 1: "),
        ((" 99999", ""), r"^/proc/pagetypeinfo line 5: expected 3 counts, got 2: "),
        (("99999", "9999x"), r"^/proc/pagetypeinfo line 5: column 3 is not a number: '9999x'"),
        (("12345", ">>12345"), r"line 5: column 1 is not a number: '>12345'"),
        ((", type      Movable", ", tipe      Movable"), r"line 6: expected ', type NAME' after the zone"),
        (("order       0      1      2", "order       1      2"), r"line 4: orders must count up from 0"),
        (
            ("Pages per block:  512", "Pages per block:  1024"),
            r"^/proc/pagetypeinfo: pages per block 1024 is not 2\*\*9$",
        ),
        (("Page block order: 9\n", ""), r"^/proc/pagetypeinfo: missing 'Page block order'"),
        (("Number of blocks type", "Number of block type"), r"line 8: unexpected line"),
        (("Free pages count per migrate type at order       0      1      2\n", ""), r"line 4: zone row before any"),
        (("Movable >100000", "Unmovable >100000"), r"line 6: row repeats an earlier row"),
    ],
)
def test_bad_lines_raise_with_source_and_line(broken: tuple[str, str], message: str) -> None:
    old, new = broken
    assert old in CAPPED
    with pytest.raises(FactParseError, match=message):
        parse_pagetypeinfo(CAPPED.replace(old, new, 1))


def test_repeated_section_must_agree_on_page_block_order() -> None:
    text = read("pagetypeinfo", "lkml-fb-3.10-2node-repeated-header")
    second = text.index("Page block order: 9", 1)
    with pytest.raises(FactParseError, match=r"line 25: page block order 10 differs from earlier 9"):
        parse_pagetypeinfo(text[:second] + text[second:].replace("order: 9", "order: 10", 1))


def test_empty_file_is_an_error() -> None:
    with pytest.raises(FactParseError, match=r"^/proc/pagetypeinfo: missing"):
        parse_pagetypeinfo("")
