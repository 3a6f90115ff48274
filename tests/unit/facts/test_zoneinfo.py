"""/proc/zoneinfo on every captured file (2.6 to 6.18 layouts) and the error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, local_capture, read
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.zoneinfo import ZonePagesets, ZoneWatermarks, parse_zoneinfo

FILES = corpus("zoneinfo")
X86_5 = ("DMA", "DMA32", "Normal", "Movable", "Device")

# file -> (zone names of node 0, has 'managed')
SHAPES = {
    "arm32-router-4.1-near-watermark": (("Normal",), True),
    "arm720t-2.6-old-format": (("DMA",), False),
    "el9-5.14-small-vm": (X86_5, True),
    "ne-fixture-5.x": (X86_5, True),
    "procfs-fixture-5.x": (X86_5, True),
    "rhcos-4.18-el8": (X86_5, True),
    "ubuntu1204-3.2": (("DMA", "DMA32", "Normal"), False),
}


def test_every_corpus_file_has_an_expected_shape() -> None:
    assert sorted(SHAPES) == [path.stem for path in FILES]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_parses_corpus_file(path: Path) -> None:
    info = parse_zoneinfo(path.read_text(), str(path))
    names, has_managed = SHAPES[path.stem]
    assert info.nodes == (0,)
    assert tuple(zone.zone for zone in info.zones) == names
    assert all((zone.managed is not None) == has_managed for zone in info.zones)
    assert all(zone.min_pages <= zone.low_pages <= zone.high_pages for zone in info.zones)
    # one protection entry per zone the kernel was built with, printed or not
    assert len({len(zone.protection) for zone in info.zones}) == 1


def test_router_is_just_above_its_low_watermark() -> None:
    zone = parse_zoneinfo(read("zoneinfo", "arm32-router-4.1-near-watermark")).zone(0, "Normal")
    assert zone == ZoneWatermarks(0, "Normal", 388, 306, 382, 459, 32768, 32768, 23603, (0, 0))


def test_old_2_6_format() -> None:
    zone = parse_zoneinfo(read("zoneinfo", "arm720t-2.6-old-format")).zone(0, "DMA")
    assert zone == ZoneWatermarks(0, "DMA", 5410, 181, 226, 271, 8192, 8192, None, (0, 0, 0, 0))


def test_el9_empty_normal_zone_has_zero_watermarks() -> None:
    info = parse_zoneinfo(read("zoneinfo", "el9-5.14-small-vm"))
    assert info.zone(0, "Normal") == ZoneWatermarks(0, "Normal", 0, 0, 0, 0, 0, 0, 0, (0, 0, 0, 0, 0))
    dma = info.zone(0, "DMA")
    assert dma is not None
    assert (dma.free_pages, dma.min_pages, dma.managed, dma.protection) == (3808, 190, 3840, (0, 756, 756, 756, 756))


def test_ne_fixture_per_node_stats_and_no_final_newline() -> None:
    text = read("zoneinfo", "ne-fixture-5.x")
    assert not text.endswith("\n")
    info = parse_zoneinfo(text)
    dma32 = info.zone(0, "DMA32")
    assert dma32 == ZoneWatermarks(
        0, "DMA32", 528427, 1078, 1600, 2122, 1044480, 546847, 530339, (0, 0, 29893, 29893, 29893)
    )
    normal = info.zone(0, "Normal")
    assert normal is not None
    assert normal.free_pages == 4539739


def test_ubuntu1204_3_2_has_no_managed_line() -> None:
    normal = parse_zoneinfo(read("zoneinfo", "ubuntu1204-3.2")).zone(0, "Normal")
    assert normal == ZoneWatermarks(0, "Normal", 607278, 10033, 12541, 15049, 1236992, 1217664, None, (0, 0, 0, 0))


def test_rhcos_normal_zone() -> None:
    normal = parse_zoneinfo(read("zoneinfo", "rhcos-4.18-el8")).zone(0, "Normal")
    assert normal is not None
    assert (normal.free_pages, normal.min_pages, normal.low_pages, normal.high_pages) == (10852, 8684, 10855, 13026)


def test_local_capture_6_18_with_promo_watermark() -> None:
    path = local_capture("zoneinfo")
    info = parse_zoneinfo(path.read_text(), str(path))
    assert tuple(zone.zone for zone in info.zones) == X86_5
    assert info.zone(0, "Normal") == ZoneWatermarks(
        0, "Normal", 47158, 4649, 5811, 6973, 5505024, 5505024, 294912, (0, 0, 0, 0, 0)
    )
    movable = info.zone(0, "Movable")
    assert movable is not None
    assert (movable.free_pages, movable.min_pages, movable.present) == (0, 32, 0)


# file -> per zone of node 0: (CPUs, sum of their lists' high, sum of their vm stats thresholds)
PAGESETS = {
    "arm32-router-4.1-near-watermark": {"Normal": (2, 36, 8)},
    "arm720t-2.6-old-format": {"DMA": (1, 8, 0)},  # one CPU, a hot (high 6) and a cold (high 2) list; no threshold
    "el9-5.14-small-vm": {"DMA": (1, 237, 2), "DMA32": (1, 10557, 8)},
    "ne-fixture-5.x": {"DMA": (8, 0, 64), "DMA32": (8, 3024, 384), "Normal": (8, 3024, 576)},
    "procfs-fixture-5.x": {"DMA": (8, 0, 64), "DMA32": (8, 3024, 384), "Normal": (8, 3024, 448)},
    "rhcos-4.18-el8": {"DMA": (2, 0, 8), "DMA32": (2, 372, 48), "Normal": (2, 84, 48)},
    "ubuntu1204-3.2": {"DMA": (8, 0, 64), "DMA32": (8, 1488, 384), "Normal": (8, 1488, 448)},
}


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_pagesets_are_summed_per_populated_zone(path: Path) -> None:
    info = parse_zoneinfo(path.read_text(), str(path))
    expected = {
        zone: ZonePagesets(0, zone, cpus, high, threshold)
        for zone, (cpus, high, threshold) in PAGESETS[path.stem].items()
    }
    assert {pageset.zone: pageset for pageset in info.pagesets} == expected
    # empty zones (Movable, Device, el9's Normal) print no pagesets
    assert all(info.pageset(0, zone.zone) is None for zone in info.zones if zone.zone not in expected)


def test_local_capture_6_18_pagesets_use_high_not_its_tuning_bounds() -> None:
    # 6.7+ prints high_min and high_max next to high; the lists hold at most high now.
    info = parse_zoneinfo(local_capture("zoneinfo").read_text())
    assert info.pageset(0, "Normal") == ZonePagesets(0, "Normal", 2, 5936, 40)


GOOD = """\
Node 0, zone      DMA
  pages free     2949
        min      8
        low      11
        high     14
        spanned  4095
        present  3997
        protection: (0, 2039)
Node 0, zone   Normal
  pages free     10
        min      1
        low      2
        high     3
        protection: (0, 0)
"""


def test_minimal_zones_parse_with_optional_fields_absent() -> None:
    normal = parse_zoneinfo(GOOD).zone(0, "Normal")
    assert normal == ZoneWatermarks(0, "Normal", 10, 1, 2, 3, None, None, None, (0, 0))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  pages free     10\n",
            "",
            r"^/proc/zoneinfo line 9: zone Normal of node 0 has no 'pages free': 'Node 0, zone   Normal'$",
        ),
        ("        protection: (0, 0)\n", "", r"line 9: zone Normal of node 0 has no 'protection'"),
        ("        low      11\n", "", r"line 1: zone DMA of node 0 has no 'low'"),
        ("        min      8", "        min      8x", r"line 3: min is not a number: '8x'"),
        (
            "        high     3",
            "        high     3\n        high     4",
            r"line 14: second 'high' line in zone Normal: '        high     4'$",
        ),
        ("(0, 2039)", "(0, 20 39)", r"line 8: protection entry is not a number: '20 39'"),
        ("(0, 2039)", "(0, 2039", r"line 8: expected 'protection: \(N, N, ...\)'"),
        ("Node 0, zone   Normal", "Node 0, zone   Normal extra", r"line 9: unexpected text after the zone name"),
        ("Node 0, zone   Normal", "Node 0, zone      DMA", r"line 9: node 0 zone DMA appears twice"),
        ("Node 0, zone   Normal", "Node 0, zo", r"line 9: expected 'Node N, zone NAME'"),
        ("Node 0, zone      DMA\n", "", r"line 1: indented line before the first zone header"),
        (
            "        protection: (0, 0)\n",
            "        protection: (0, 0)\n  pagesets\n    cpu: x\n",
            r"line 16: cpu is not a number",
        ),
        (
            "        protection: (0, 0)\n",
            "        protection: (0, 0)\n      high:  6\n",
            r"line 15: 'high' before the first",
        ),
    ],
)
def test_bad_zones_raise_with_source_and_line(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(FactParseError, match=message):
        parse_zoneinfo(GOOD.replace(old, new, 1))


def test_empty_file_is_an_error() -> None:
    with pytest.raises(FactParseError, match=r"^/proc/zoneinfo: no zones$"):
        parse_zoneinfo("\n")
