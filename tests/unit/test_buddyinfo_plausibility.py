"""Issue 13 item 9: refuse a /proc/buddyinfo the kernel cannot print, and one that zoneinfo contradicts.

Every real capture must still be accepted: the corpus (kernels 2.6 to 6.18, x86-64, 32-bit ARM,
arm64 with 64 KiB pages), its captures taken together, this machine's capture and its live files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, local_capture, read
from vrouter_preflight.contiguity import zone_supplies
from vrouter_preflight.contiguity.plausibility import (
    ORDER_COLUMNS_BY_PAGE_SIZE,
    ImplausibleBuddyInfo,
    check_buddyinfo_plausible,
    check_free_pages_fit,
    check_order_columns,
)
from vrouter_preflight.contiguity.supply import FreePagesDisagree, check_free_pages_agree, free_pages_tolerance
from vrouter_preflight.facts.buddyinfo import BuddyInfo, BuddyZone, parse_buddyinfo
from vrouter_preflight.facts.meminfo import parse_meminfo
from vrouter_preflight.facts.zoneinfo import ZoneInfo, ZonePagesets, ZoneWatermarks, parse_zoneinfo

PAGE_4K = 4096
PAGE_64K = 65536
BUDDYINFO = corpus("buddyinfo")
NOT_X86 = {"arm32-android-3.4-highmem", "arm32-qcom-3.18-single-normal", "arm32-router-4.1-fragmented"}
NOT_X86 |= {"arm32-zynq-4.4-single-normal", "arm64-64k-hisi-d03-1node-14orders", "arm720t-2.6-dma-only"}

# buddyinfo -> meminfo of the same machine
SAME_MACHINE_MEMINFO = {
    "arm32-android-3.4-highmem": "arm32-android-3.4-highmem",
    "arm32-router-4.1-fragmented": "arm32-router-4.1-cma",
    "arm32-zynq-4.4-single-normal": "arm32-zynq-4.4-cma",
    "chromeos-6.6-x86": "chromeos-6.6-x86-no-hugetlb",
    "debian11-5.10-2g": "debian11-5.10-2g",
    "el9-5.14-small-vm-no-normal": "el9-5.14-small-vm",
    "rhcos-4.18-el8-1node": "rhcos-4.18-el8-8g",
    "ubuntu1204-3.2-8g": "ubuntu1204-3.2-8g",
    "ubuntu1404-3.13-8g": "ubuntu1404-3.13-8g",
}

# buddyinfo -> zoneinfo of the same capture (SOURCES.md: same repository and commit)
SAME_CAPTURE_ZONEINFO = {
    "arm32-router-4.1-fragmented": "arm32-router-4.1-near-watermark",
    "arm720t-2.6-dma-only": "arm720t-2.6-old-format",
    "el9-5.14-small-vm-no-normal": "el9-5.14-small-vm",
    "rhcos-4.18-el8-1node": "rhcos-4.18-el8",
    "ubuntu1204-3.2-8g": "ubuntu1204-3.2",
}


def page_size_of(name: str) -> int:
    return PAGE_64K if "64k" in name else PAGE_4K


def widened(text: str, columns: int) -> str:
    """A real buddyinfo with zero counts appended up to ``columns`` order columns."""
    info = parse_buddyinfo(text)
    extra = " 0" * (columns - info.orders)
    return "".join(line.rstrip() + extra + "\n" for line in text.splitlines())


# --- every real capture is accepted ----------------------------------------------------------


@pytest.mark.parametrize("path", BUDDYINFO, ids=ids(BUDDYINFO))
def test_every_corpus_buddyinfo_is_plausible_for_its_page_size_and_architecture(path: Path) -> None:
    buddy = parse_buddyinfo(path.read_text())
    meminfo_name = SAME_MACHINE_MEMINFO.get(path.stem)
    mem_total = None if meminfo_name is None else parse_meminfo(read("meminfo", meminfo_name)).kib("MemTotal")
    zoneinfo_name = SAME_CAPTURE_ZONEINFO.get(path.stem)
    zoneinfo = None if zoneinfo_name is None else parse_zoneinfo(read("zoneinfo", zoneinfo_name))
    check_buddyinfo_plausible(
        buddy, zoneinfo, page_size=page_size_of(path.stem), x86=path.stem not in NOT_X86, mem_total_kib=mem_total
    )


@pytest.mark.parametrize(("buddyinfo", "zoneinfo"), sorted(SAME_CAPTURE_ZONEINFO.items()))
def test_captures_taken_together_agree_on_free_pages(buddyinfo: str, zoneinfo: str) -> None:
    buddy = parse_buddyinfo(read("buddyinfo", buddyinfo))
    zones = parse_zoneinfo(read("zoneinfo", zoneinfo))
    check_free_pages_agree(buddy, zones)
    assert zone_supplies(buddy, zones)


def test_the_rhcos_sosreport_is_1182_pages_apart_in_dma32_within_its_tolerance() -> None:
    buddy = parse_buddyinfo(read("buddyinfo", "rhcos-4.18-el8-1node"))
    zones = parse_zoneinfo(read("zoneinfo", "rhcos-4.18-el8"))
    dma32 = buddy.zone(0, "DMA32")
    marks = zones.zone(0, "DMA32")
    assert dma32 is not None and marks is not None
    assert dma32.free_pages - marks.free_pages == 1_182
    # 2 CPUs × (threshold 24 + high 186) + 995,127 managed // 256
    assert free_pages_tolerance(marks, zones.pageset(0, "DMA32")) == 48 + 372 + 3_887


def test_this_machines_capture_is_plausible_and_agrees() -> None:
    buddy = parse_buddyinfo(local_capture("buddyinfo").read_text())
    zones = parse_zoneinfo(local_capture("zoneinfo").read_text())
    check_buddyinfo_plausible(buddy, zones, page_size=PAGE_4K, x86=True, mem_total_kib=None)
    check_free_pages_agree(buddy, zones)


def test_this_machines_live_files_read_back_to_back_agree_every_time() -> None:
    # As the capture reads them: buddyinfo, then zoneinfo, one after the other.
    for _ in range(50):
        buddy = parse_buddyinfo(Path("/proc/buddyinfo").read_text())
        zones = parse_zoneinfo(Path("/proc/zoneinfo").read_text())
        check_free_pages_agree(buddy, zones)


# --- order columns -----------------------------------------------------------------------------


def test_issue_13_sixteen_columns_with_4k_pages_on_x86_are_refused() -> None:
    sixteen = parse_buddyinfo(widened(read("buddyinfo", "ubuntu1204-3.2-8g"), 16))
    assert sixteen.orders == 16
    with pytest.raises(ImplausibleBuddyInfo) as caught:
        check_order_columns(sixteen, PAGE_4K, x86=True)
    assert str(caught.value) == "/proc/buddyinfo has 16 order columns (0-15), an x86 kernel prints 11 (0-10)"


@pytest.mark.parametrize("columns", [10, 12, 14])
def test_an_x86_kernel_prints_exactly_11_columns(columns: int) -> None:
    text = read("buddyinfo", "ubuntu1204-3.2-8g")
    check_order_columns(parse_buddyinfo(text), PAGE_4K, x86=True)
    short = "".join(" ".join(line.split()[: 4 + columns]) + "\n" for line in text.splitlines())
    with pytest.raises(ImplausibleBuddyInfo, match=rf"has {columns} order columns"):
        check_order_columns(parse_buddyinfo(widened(short, columns)), PAGE_4K, x86=True)


@pytest.mark.parametrize(
    ("page_size", "columns", "plausible"),
    [
        (PAGE_4K, 8, False),
        (PAGE_4K, 9, True),  # 32-bit ARM SA1111
        (PAGE_4K, 16, True),  # arm64 6.3 built with ARCH_FORCE_MAX_ORDER=16: an x86 host is refused above
        (PAGE_4K, 17, True),  # ia64 with hugetlb
        (PAGE_4K, 18, False),
        (PAGE_64K, 6, False),
        (PAGE_64K, 9, True),  # POWER9 ppc64le with 64 KiB pages
        (PAGE_64K, 14, True),  # arm64 64 KiB (the corpus' Hisilicon D03)
        (PAGE_64K, 18, False),
        (12345, 40, True),  # a page size no kernel uses: not checked here
    ],
)
def test_other_architectures_are_bounded_by_their_page_size(page_size: int, columns: int, plausible: bool) -> None:
    buddy = BuddyInfo((BuddyZone(0, "Normal", (1,) * columns),))
    if plausible:
        check_order_columns(buddy, page_size, x86=False)
        return
    fewest, most = ORDER_COLUMNS_BY_PAGE_SIZE[page_size]
    message = (
        f"/proc/buddyinfo has {columns} order columns (0-{columns - 1}), "
        f"a kernel with {page_size // 1024} KiB pages prints {fewest} to {most}"
    )
    with pytest.raises(ImplausibleBuddyInfo, match=f"^{re.escape(message)}$"):
        check_order_columns(buddy, page_size, x86=False)


def test_without_page_size_or_architecture_nothing_is_assumed() -> None:
    check_order_columns(BuddyInfo((BuddyZone(0, "Normal", (1,) * 40),)), None, x86=False)


# --- counts beyond the memory ----------------------------------------------------------------


def test_counts_beyond_memtotal_are_refused() -> None:
    text = read("buddyinfo", "ubuntu1204-3.2-8g")
    mem_total = parse_meminfo(read("meminfo", "ubuntu1204-3.2-8g")).kib("MemTotal")
    check_free_pages_fit(parse_buddyinfo(text), None, page_size=PAGE_4K, mem_total_kib=mem_total)
    # the Normal zone's 279 free order-10 blocks become 2,790: 10.9 GiB in them alone, on an 8 GiB machine
    inflated = parse_buddyinfo(text.replace("    279 ", "   2790 "))
    with pytest.raises(ImplausibleBuddyInfo) as caught:
        check_free_pages_fit(inflated, None, page_size=PAGE_4K, mem_total_kib=mem_total)
    assert str(caught.value) == ("/proc/buddyinfo lists 4,006,293 free pages (15.3 GiB), more than MemTotal (7.8 GiB)")


def test_counts_beyond_the_zones_span_are_refused() -> None:
    zones = parse_zoneinfo(read("zoneinfo", "ubuntu1204-3.2"))
    # DMA has 3,960 free pages and only 3,900 present (before 3.8 present left out the struct pages):
    # the span (4,080) is the bound.
    check_free_pages_fit(
        parse_buddyinfo(read("buddyinfo", "ubuntu1204-3.2-8g")), zones, page_size=None, mem_total_kib=None
    )
    huge = BuddyInfo((BuddyZone(0, "DMA", (0,) * 10 + (5,)),))
    with pytest.raises(ImplausibleBuddyInfo) as caught:
        check_free_pages_fit(huge, zones, page_size=None, mem_total_kib=None)
    assert str(caught.value) == (
        "/proc/buddyinfo lists 5,120 free pages in node 0 DMA, "
        "more than the 4,080 pages the zone spans in /proc/zoneinfo"
    )


def test_an_absurd_count_is_refused_in_bounded_time() -> None:
    absurd = BuddyInfo((BuddyZone(0, "Normal", (0,) * 10 + (10**30,)),))
    with pytest.raises(ImplausibleBuddyInfo, match="more than MemTotal"):
        check_free_pages_fit(absurd, None, page_size=PAGE_4K, mem_total_kib=8_133_452)


# --- buddyinfo against zoneinfo ----------------------------------------------------------------


def test_two_captures_of_different_moments_disagree_and_both_figures_are_named() -> None:
    # node_exporter's buddyinfo fixture (2017) and zoneinfo fixture (2020): not one host at one moment.
    buddy = parse_buddyinfo(read("buddyinfo", "ne-fixture-x86-1node-3zones"))
    zones = parse_zoneinfo(read("zoneinfo", "ne-fixture-5.x"))
    with pytest.raises(FreePagesDisagree) as caught:
        zone_supplies(buddy, zones)
    assert str(caught.value) == (
        "node 0 DMA: buddyinfo's free blocks make 3,973 free pages, zoneinfo's pages free says 2,949 "
        "(1,024 apart; two reads a moment apart differ by at most 79 here)"
    )


def marks(free: int, managed: int | None) -> ZoneWatermarks:
    return ZoneWatermarks(0, "Normal", free, 10, 12, 14, None, None, managed, (0, 0))


@pytest.mark.parametrize(
    ("apart", "agrees"), [(0, True), (7_080, True), (-7_080, True), (7_081, False), (-7_081, False)]
)
def test_the_tolerance_boundary(apart: int, agrees: bool) -> None:
    # 2 CPUs: thresholds 2 × 28, lists 2 × 3,000; 262,144 managed pages // 256 = 1,024
    pagesets = ZonePagesets(0, "Normal", cpus=2, high_pages=6_000, stat_threshold_pages=56)
    assert free_pages_tolerance(marks(0, 262_144), pagesets) == 7_080
    buddy = BuddyInfo((BuddyZone(0, "Normal", (100_000,)),))
    zones = ZoneInfo((marks(100_000 - apart, 262_144),), (pagesets,))
    if agrees:
        check_free_pages_agree(buddy, zones)
    else:
        with pytest.raises(FreePagesDisagree, match=f"{abs(apart):,} apart; .* at most 7,080 here"):
            check_free_pages_agree(buddy, zones)


def test_without_pagesets_or_sizes_the_figures_must_match() -> None:
    # A zone with neither printed pagesets nor a size leaves nothing to explain a difference.
    assert free_pages_tolerance(marks(10, None), None) == 0
