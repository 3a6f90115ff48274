"""The atomic floor, the reload replay and the 1G remedy, on built zones and on real captures."""

from __future__ import annotations

import pytest

from tests.unit.facts.corpus import local_capture, read
from vrouter_preflight.contiguity import (
    MEASURED_BLOCKS_PER_1G_4K,
    PLANNING_BLOCKS_PER_1G_4K,
    Remedy,
    ZoneSupply,
    atomic_floor,
    count_usable_blocks,
    describe_remedies,
    freed_1g_blocks,
    normal_protection_index,
    plan_freeing_1g,
    remedies_by_freeing_1g,
    simulate_reload,
    with_freed_1g,
    zone_supplies,
)
from vrouter_preflight.facts.buddyinfo import BuddyInfo, BuddyZone, parse_buddyinfo
from vrouter_preflight.facts.pagetypeinfo import parse_pagetypeinfo
from vrouter_preflight.facts.zoneinfo import ZoneInfo, ZoneWatermarks, parse_zoneinfo

VROUTER_DEFAULT = {10: 44, 9: 2, 8: 1}  # 43 × 4 MiB + nexthop table, 2 × 2 MiB, 1 × 1 MiB (domain §0)
VROUTER_64K = {6: 44, 5: 2, 4: 1}  # the same 4/2/1 MiB chunks with 64 KiB pages
PAGE_4K = 4096
PAGE_64K = 65536


def blocks(orders: int = 11, **counts: int) -> tuple[int, ...]:
    """Free-block tuple with ``o10=3`` style keyword counts."""
    result = [0] * orders
    for key, count in counts.items():
        result[int(key.removeprefix("o"))] = count
    return tuple(result)


def filled(free_pages: int, **counts: int) -> tuple[int, ...]:
    """``blocks(**counts)`` with order-0 pages making up ``free_pages``, so buddyinfo agrees with zoneinfo."""
    higher = blocks(**counts)
    rest = free_pages - sum(count << order for order, count in enumerate(higher))
    assert rest >= 0, f"{counts} hold more than {free_pages} pages"
    return (higher[0] + rest, *higher[1:])


def kernel_grants(free_pages: int, floor_pages: int, order: int) -> bool:
    """The kernel 6.1 check, written as in ``__zone_watermark_ok``."""
    return free_pages - ((1 << order) - 1) > floor_pages


def supplies_from_corpus(buddyinfo: str, zoneinfo: str | None) -> tuple[ZoneSupply, ...]:
    zones = None if zoneinfo is None else parse_zoneinfo(read("zoneinfo", zoneinfo))
    return zone_supplies(parse_buddyinfo(read("buddyinfo", buddyinfo)), zones)


def marks(node: int, zone: str, free: int, min_pages: int, protection: tuple[int, ...]) -> ZoneWatermarks:
    return ZoneWatermarks(node, zone, free, min_pages, min_pages, min_pages, None, None, None, protection)


# --- the floor -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_pages", "protection", "floor"),
    [
        (11_498, 0, 4_312),  # 11498 - 5749 = 5749; 5749 - 5749 // 4 (1437) = 4312
        (8_684, 0, 3_257),  # rhcos Normal: 8684 - 4342 = 4342; 4342 - 1085
        (8_178, 4_065, 7_132),  # rhcos DMA32: 4089 - 1022 = 3067, + protection[Normal]
        (33, 7_894, 7_907),  # rhcos DMA: 17 - 4 = 13, + 7894
        (15_809, 0, 5_929),  # ne-fixture Normal: 7905 - 1976
        (3, 0, 2),  # 3 - 1 = 2; 2 - 0 = 2: integer division as in the kernel
        (0, 0, 0),
    ],
)
def test_atomic_floor_exact_integers(min_pages: int, protection: int, floor: int) -> None:
    assert atomic_floor(min_pages, protection) == floor


def test_atomic_floor_refuses_negative_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        atomic_floor(-1, 0)


@pytest.mark.parametrize("order", [0, 8, 9, 10])
@pytest.mark.parametrize("headroom", [-1, 0, 255, 256, 511, 512, 1023, 1024, 1025, 2047, 2048])
def test_usable_blocks_follow_the_kernel_inequality_at_the_boundary(order: int, headroom: int) -> None:
    floor = 4_312
    supply = ZoneSupply(0, "Normal", blocks(o10=5), floor + headroom, floor)
    expected = 0
    free = floor + headroom
    while expected < 5 << (10 - order) and kernel_grants(free, floor, order):
        expected += 1
        free -= 1 << order
    assert count_usable_blocks(supply, order) == expected


def test_a_zone_at_its_floor_refuses_its_last_blocks() -> None:
    # The §9 false pass: buddyinfo lists 5 order-10 blocks, but only 1,688 pages sit above the floor.
    normal = ZoneSupply(0, "Normal", blocks(o10=5), free_pages=4_312 + 1_688 + 0, floor_pages=4_312)
    sim = simulate_reload({10: 2}, [normal])
    assert (sim.fits, dict(sim.granted), dict(sim.shortfall)) == (False, {10: 1}, {10: 1})
    assert sim.zones[0].free_blocks[10] == 5
    assert sim.zones[0].usable_blocks[10] == 1
    # The same zone read from buddyinfo alone would have passed.
    assert simulate_reload({10: 2}, [ZoneSupply(0, "Normal", blocks(o10=5), None, None)]).fits


def test_a_floor_also_applies_to_normal_zones_and_counts_every_page_taken() -> None:
    # 3 blocks of order 8 fit below 1,000 pages of headroom, a fourth does not (4 × 256 = 1,024).
    normal = ZoneSupply(0, "Normal", blocks(o10=2), free_pages=6_000, floor_pages=5_000)
    sim = simulate_reload({8: 4}, [normal])
    assert dict(sim.granted) == {8: 3}
    # o10 -> o8 taken + o8 + o9 left; the o8; the o9 -> o8 taken + o8 left.
    assert sim.zones[0].left_blocks == blocks(o8=1, o10=1)


def test_dma32_blocks_held_back_by_protection_are_unusable_while_normal_ones_are() -> None:
    # A 384 GiB server: DMA32's protection[Normal] is managed(Normal)/256 = 393,216 pages (1.5 GiB).
    zoneinfo = ZoneInfo(
        (
            marks(0, "DMA", 3_975, 33, (0, 3_828, 397_110, 397_110, 397_110)),
            marks(0, "DMA32", 300_000, 8_178, (0, 0, 393_216, 393_216, 393_216)),
            marks(0, "Normal", 900_000, 11_498, (0, 0, 0, 0, 0)),
            marks(0, "Movable", 0, 0, (0, 0, 0, 0, 0)),
            marks(0, "Device", 0, 0, (0, 0, 0, 0, 0)),
        )
    )
    buddyinfo = BuddyInfo(
        (
            BuddyZone(0, "DMA", filled(3_975, o10=3)),
            BuddyZone(0, "DMA32", filled(300_000, o10=200)),
            BuddyZone(0, "Normal", filled(900_000, o10=2)),
        )
    )
    dma, dma32, normal = zone_supplies(buddyinfo, zoneinfo)
    assert dma32.floor_pages == 3_067 + 393_216
    assert (count_usable_blocks(dma, 10), count_usable_blocks(dma32, 10), count_usable_blocks(normal, 10)) == (0, 0, 2)
    sim = simulate_reload({10: 3}, (dma, dma32, normal))
    assert dict(sim.shortfall) == {10: 1}
    assert [dict(zone.taken) for zone in sim.zones] == [{}, {}, {10: 2}]


# --- protection index ------------------------------------------------------------------------


def test_normal_index_comes_from_the_zones_listed_not_a_fixed_position() -> None:
    # arm64 without DMA32: DMA, Normal, Movable -> Normal is protection[1].
    arm64 = ZoneInfo(
        (
            marks(0, "DMA", 50_000, 1_000, (0, 20_000, 20_000)),
            marks(0, "Normal", 90_000, 2_000, (0, 0, 0)),
            marks(0, "Movable", 0, 0, (0, 0, 0)),
        )
    )
    assert normal_protection_index(arm64) == 1
    buddyinfo = BuddyInfo((BuddyZone(0, "DMA", filled(50_000, o10=40)), BuddyZone(0, "Normal", filled(90_000, o10=1))))
    assert zone_supplies(buddyinfo, arm64)[0].floor_pages == atomic_floor(1_000, 20_000)


def test_normal_index_of_an_old_kernel_that_lists_only_populated_zones() -> None:
    # Before 4.12 node 1 lists only Normal; the index is the largest position seen (node 0's 2).
    old = ZoneInfo(
        (
            marks(0, "DMA", 3_960, 32, (0, 3_237, 7_994, 7_994)),
            marks(0, "DMA32", 800_000, 6_829, (0, 0, 4_756, 4_756)),
            marks(0, "Normal", 600_000, 10_033, (0, 0, 0, 0)),
            marks(1, "Normal", 600_000, 10_033, (0, 0, 0, 0)),
        )
    )
    assert normal_protection_index(old) == 2


def test_without_any_normal_zone_the_largest_protection_is_used() -> None:
    dma_only = ZoneInfo((marks(0, "DMA", 5_410, 181, (0, 7, 9, 9)),))
    assert normal_protection_index(dma_only) is None
    (supply,) = zone_supplies(BuddyInfo((BuddyZone(0, "DMA", filled(5_410, o10=2)),)), dma_only)
    assert supply.floor_pages == atomic_floor(181, 9)


def test_captures_from_different_hosts_are_refused() -> None:
    buddyinfo = BuddyInfo((BuddyZone(1, "Normal", blocks(o10=2)),))
    zoneinfo = ZoneInfo((marks(0, "Normal", 9_000, 100, (0, 0, 0)),))
    with pytest.raises(ValueError, match="node 1 zone Normal but zoneinfo does not"):
        zone_supplies(buddyinfo, zoneinfo)


@pytest.mark.parametrize(
    ("free_pages", "floor_pages", "free_blocks"),
    [(100, None, blocks()), (None, 100, blocks()), (100, 10, blocks(o3=-1)), (-1, 0, blocks())],
)
def test_zone_supply_refuses_inconsistent_values(
    free_pages: int | None, floor_pages: int | None, free_blocks: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match="node 0 Normal"):
        ZoneSupply(0, "Normal", free_blocks, free_pages, floor_pages)


# --- replay rules ----------------------------------------------------------------------------


def test_one_free_order_10_block_splits_into_two_order_9_requests() -> None:
    normal = ZoneSupply(0, "Normal", blocks(o10=1), None, None)
    assert simulate_reload({9: 2}, [normal]).fits
    sim = simulate_reload({9: 3}, [normal])
    assert (dict(sim.granted), dict(sim.shortfall)) == ({9: 2}, {9: 1})


def test_a_request_takes_the_largest_free_block_and_the_next_ones_its_split_off_pieces() -> None:
    # buddyinfo does not say which free blocks are unmovable: the kernel's fallback steals the largest
    normal = ZoneSupply(0, "Normal", blocks(o8=1, o10=1), None, None)
    assert simulate_reload({8: 1}, [normal]).zones[0].left_blocks == blocks(o8=2, o9=1)
    assert simulate_reload({7: 2}, [normal]).zones[0].left_blocks == blocks(o8=2, o9=1)
    assert simulate_reload({8: 2}, [normal]).zones[0].left_blocks == blocks(o8=1, o9=1)
    assert simulate_reload({8: 3}, [normal]).zones[0].left_blocks == blocks(o8=2)


def test_requests_run_smallest_first_the_worst_case_of_any_allocation_order() -> None:
    # Normal (tried first) holds one order-10 block, DMA32 one order-9 block. The order-9 request,
    # replayed first as vRouter's remainder parts may come before its last 4 MiB part, splits
    # Normal's order-10 block, and the order-10 request then finds none.
    supplies = [
        ZoneSupply(0, "DMA32", blocks(o9=1), 100_000, 0),
        ZoneSupply(0, "Normal", blocks(o10=1), 100_000, 0),
    ]
    sim = simulate_reload({9: 1, 10: 1}, supplies)
    assert not sim.fits
    assert list(sim.requested) == [10, 9]
    assert [dict(zone.taken) for zone in sim.zones] == [{}, {9: 1}]
    assert dict(sim.shortfall) == {10: 1, 9: 0}
    assert simulate_reload({9: 1, 10: 1}, [*supplies, ZoneSupply(1, "Normal", blocks(o10=1), 100_000, 0)]).fits


def test_unmovable_free_blocks_serve_the_small_parts_before_any_4mib_block_is_split() -> None:
    plain = ZoneSupply(0, "Normal", blocks(o8=1, o10=2), None, None)
    known = ZoneSupply(0, "Normal", blocks(o8=1, o10=2), None, None, unmovable_blocks=blocks(o8=1))
    assert not simulate_reload({10: 2, 8: 1}, [plain]).fits  # the 1 MiB block may be movable: worst case
    sim = simulate_reload({10: 2, 8: 1}, [known])
    assert sim.fits
    assert sim.zones[0].left_blocks == blocks()


def test_unmovable_blocks_must_lie_within_the_free_blocks() -> None:
    with pytest.raises(ValueError, match="unmovable blocks"):
        ZoneSupply(0, "Normal", blocks(o8=1), None, None, unmovable_blocks=blocks(o8=2))
    with pytest.raises(ValueError, match="unmovable blocks"):
        ZoneSupply(0, "Normal", (1,), None, None, unmovable_blocks=(1, 0))


def test_ubuntu1204_pagetypeinfo_spares_the_two_4mib_blocks_the_small_parts_would_split() -> None:
    buddyinfo = parse_buddyinfo(read("buddyinfo", "ubuntu1204-3.2-8g"))
    zoneinfo = parse_zoneinfo(read("zoneinfo", "ubuntu1204-3.2"))
    pagetypeinfo = parse_pagetypeinfo(read("pagetypeinfo", "ubuntu1204-3.2-8g"))
    with_types = zone_supplies(buddyinfo, zoneinfo, pagetypeinfo)
    normal = with_types[2]
    assert normal.unmovable_blocks[8:] == (69, 14, 2)  # pagetypeinfo's Unmovable row
    # each order capped at buddyinfo's count: the two files are read a moment apart
    assert all(u <= f for s in with_types for u, f in zip(s.unmovable_blocks, s.free_blocks))
    sim = simulate_reload(VROUTER_DEFAULT, with_types)
    worst = simulate_reload(VROUTER_DEFAULT, zone_supplies(buddyinfo, zoneinfo))
    free_4mib = 3 + 800 + 279
    # Unmovable 1 and 2 MiB blocks serve the small parts; without pagetypeinfo each of two splits a 4 MiB block
    assert [sum(z.left_blocks[10] for z in run.zones) for run in (sim, worst)] == [free_4mib - 44, free_4mib - 46]
    assert sim.zones[2].left_blocks[10] == 279 - 44


def test_a_small_part_is_charged_where_it_costs_a_4mib_block_whichever_node_reloads() -> None:
    # Node 0 has unmovable 1 MiB blocks for the order-8 part, node 1 has none: on node 1 it would split
    # a 4 MiB block. The reload may run on either node, so the replay takes the costly one.
    supplies = [
        ZoneSupply(0, "Normal", blocks(o8=1, o10=1), None, None, unmovable_blocks=blocks(o8=1)),
        ZoneSupply(1, "Normal", blocks(o10=1), None, None),
    ]
    sim = simulate_reload({10: 2, 8: 1}, supplies)
    assert [dict(zone.taken) for zone in sim.zones] == [{10: 1}, {8: 1}]
    assert not sim.fits


def test_zonelist_normal_zones_of_every_node_first_then_dma32_then_dma() -> None:
    supplies = [
        ZoneSupply(0, "DMA", blocks(o10=5), 100_000, 0),
        ZoneSupply(0, "DMA32", blocks(o10=5), 100_000, 0),
        ZoneSupply(0, "Normal", blocks(o10=1), 100_000, 0),
        ZoneSupply(1, "Normal", blocks(o10=1), 100_000, 0),
        ZoneSupply(1, "Movable", blocks(o10=9), 100_000, 0),
    ]
    sim = simulate_reload({10: 8}, supplies)
    assert [(zone.node, zone.zone, dict(zone.taken)) for zone in sim.zones] == [
        (0, "DMA", {10: 1}),
        (0, "DMA32", {10: 5}),
        (0, "Normal", {10: 1}),
        (1, "Normal", {10: 1}),
        (1, "Movable", {}),  # above Normal: never used by GFP_ATOMIC
    ]
    assert sim.zones[4].counted is False
    assert sim.zones[4].usable_blocks[10] == 0


def test_the_shortfall_counts_every_missing_block_not_only_the_first() -> None:
    sim = simulate_reload(VROUTER_DEFAULT, [ZoneSupply(0, "Normal", blocks(o10=3), None, None)])
    # the order-8 and the first order-9 part each split a 4 MiB block; the second order-9 takes a piece
    assert dict(sim.granted) == {10: 1, 9: 2, 8: 1}
    assert dict(sim.shortfall) == {10: 43, 9: 0, 8: 0}


def test_a_request_above_the_largest_order_never_fits() -> None:
    sim = simulate_reload({11: 1}, [ZoneSupply(0, "Normal", blocks(o10=99), None, None)])
    assert dict(sim.shortfall) == {11: 1}


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="bad request"):
        simulate_reload({10: -1}, [])
    with pytest.raises(ValueError, match="negative order"):
        count_usable_blocks(ZoneSupply(0, "Normal", blocks(), None, None), -1)


def test_without_zoneinfo_only_normal_zones_count_and_the_result_says_so() -> None:
    buddyinfo = BuddyInfo(
        (
            BuddyZone(0, "DMA", blocks(o10=3)),
            BuddyZone(0, "DMA32", blocks(o10=100)),
            BuddyZone(0, "Normal", blocks(o10=2)),
        )
    )
    supplies = zone_supplies(buddyinfo, None)
    assert [(s.zone, s.free_pages, s.floor_pages) for s in supplies] == [("Normal", None, None)]
    sim = simulate_reload({10: 3}, supplies)
    assert (sim.fits, sim.zoneinfo_used) == (False, False)
    assert "no /proc/zoneinfo: only Normal zones counted" in sim.describe()
    # A lower zone handed in without its floor is not counted either.
    unprotected = ZoneSupply(0, "DMA32", blocks(o10=100), None, None)
    assert simulate_reload({10: 1}, [unprotected]).shortfall == {10: 1}


def test_describe_names_node_zone_free_usable_and_shortfall() -> None:
    supplies = [
        ZoneSupply(0, "DMA32", blocks(o10=3), 200_000, 396_283),
        ZoneSupply(0, "Normal", blocks(o10=2), 900_000, 4_312),
        ZoneSupply(1, "Normal", blocks(o10=1), 900_000, 4_312),
    ]
    text = simulate_reload(VROUTER_DEFAULT, supplies, page_size=PAGE_4K).describe()
    lines = text.splitlines()
    assert lines[0] == (
        "reload does not fit: 44 × order 10 (4 MiB), 2 × order 9 (2 MiB), 1 × order 8 (1 MiB) requested, "
        "43 find no block"
    )  # the order-8 and one order-9 part split node 0's two 4 MiB blocks
    assert lines[1].startswith("  node 0 DMA32: order 10: 3 free, 0 usable;")
    assert lines[1].endswith("(196,283 pages below its floor of 396,283)")
    assert lines[2].startswith("  node 0 Normal: order 10: 2 free, 2 usable; order 9: 0 free, 4 usable;")
    assert lines[3].startswith("  node 1 Normal: order 10: 1 free, 1 usable;")


def test_describe_a_fit() -> None:
    sim = simulate_reload({10: 1}, [ZoneSupply(0, "Normal", blocks(o10=2), 9_000, 10)])
    assert sim.describe().splitlines()[0] == "reload fits: 1 × order 10 requested, all granted"


# --- real captures ---------------------------------------------------------------------------


def test_rhcos_normal_has_no_order_10_but_dma32_protection_allows_its_111() -> None:
    dma, dma32, normal = supplies_from_corpus("rhcos-4.18-el8-1node", "rhcos-4.18-el8")
    assert (dma.floor_pages, dma32.floor_pages, normal.floor_pages) == (7_907, 7_132, 3_257)
    assert count_usable_blocks(normal, 10) == 0
    assert count_usable_blocks(dma32, 10) == 111  # 114,876 pages above the floor: room for all 111
    assert count_usable_blocks(dma, 10) == 0  # 3,975 free, under a floor of 7,907
    sim = simulate_reload(VROUTER_DEFAULT, (dma, dma32, normal))
    assert (sim.fits, sim.zoneinfo_used) == (True, True)
    # The order-8 part goes where it costs the most: it splits one of DMA32's 4 MiB blocks. The order-9
    # parts cost no 4 MiB block anywhere then (DMA32 keeps the 2 MiB piece): Normal, first in the zonelist.
    assert dict(sim.zones[1].taken) == {10: 44, 8: 1}
    assert dict(sim.zones[2].taken) == {9: 2}


def test_rhcos_without_zoneinfo_reads_as_no_fit() -> None:
    supplies = supplies_from_corpus("rhcos-4.18-el8-1node", None)
    sim = simulate_reload(VROUTER_DEFAULT, supplies)
    assert (sim.fits, dict(sim.shortfall)) == (False, {10: 44, 9: 1, 8: 0})


def test_ubuntu1204_fits_and_the_floor_trims_dma32() -> None:
    dma, dma32, normal = supplies_from_corpus("ubuntu1204-3.2-8g", "ubuntu1204-3.2")
    assert count_usable_blocks(normal, 10) == 279
    assert dma32.free_blocks[10] == 800
    assert count_usable_blocks(dma32, 10) == 797  # (823,795 - 7,318) // 1024
    assert count_usable_blocks(dma, 10) == 0
    assert simulate_reload(VROUTER_DEFAULT, (dma, dma32, normal)).fits
    assert simulate_reload({10: 279 + 797 + 1}, (dma, dma32, normal)).shortfall == {10: 1}


def test_el9_small_vm_without_a_normal_zone_uses_dma32_and_dma() -> None:
    # Normal is listed in zoneinfo but empty, so DMA32's protection[Normal] is 0.
    dma, dma32 = supplies_from_corpus("el9-5.14-small-vm-no-normal", "el9-5.14-small-vm")
    assert (dma.floor_pages, dma32.floor_pages) == (72 + 756, 3_168)
    assert (count_usable_blocks(dma, 10), count_usable_blocks(dma32, 10)) == (2, 4)
    # 6 usable 4 MiB blocks, of which the order-8 and order-9 parts split 2 first
    assert simulate_reload(VROUTER_DEFAULT, (dma, dma32)).shortfall[10] == 40


def test_lkml_fb_fragmented_two_nodes_without_zoneinfo_fails() -> None:
    supplies = supplies_from_corpus("lkml-fb-4.0-2node-fragmented", None)
    assert [(s.node, s.zone) for s in supplies] == [(0, "Normal"), (1, "Normal")]
    sim = simulate_reload(VROUTER_DEFAULT, supplies)
    assert (sim.fits, sim.zoneinfo_used, dict(sim.shortfall)) == (False, False, {10: 44, 9: 2, 8: 1})


def test_this_machine_fits_with_its_own_captures() -> None:
    buddyinfo = parse_buddyinfo(local_capture("buddyinfo").read_text())
    zoneinfo = parse_zoneinfo(local_capture("zoneinfo").read_text())
    sim = simulate_reload(VROUTER_DEFAULT, zone_supplies(buddyinfo, zoneinfo))
    assert sim.fits and sim.zoneinfo_used


# --- the field report and the 1G remedy ------------------------------------------------------


def field_report_node() -> tuple[ZoneSupply, ...]:
    """2 NUMA nodes, 384 GiB: 3 free order-10 blocks in Normal (2 + 1), 3 more in DMA32 on node 0."""
    zoneinfo = ZoneInfo(
        (
            marks(0, "DMA", 3_975, 33, (0, 3_828, 397_110, 397_110, 397_110)),
            marks(0, "DMA32", 250_000, 8_178, (0, 0, 393_216, 393_216, 393_216)),
            marks(0, "Normal", 2_000_000, 11_498, (0, 0, 0, 0, 0)),
            marks(0, "Movable", 0, 0, (0, 0, 0, 0, 0)),
            marks(0, "Device", 0, 0, (0, 0, 0, 0, 0)),
            marks(1, "DMA", 0, 0, (0, 0, 0, 0, 0)),
            marks(1, "DMA32", 0, 0, (0, 0, 0, 0, 0)),
            marks(1, "Normal", 1_500_000, 11_498, (0, 0, 0, 0, 0)),
            marks(1, "Movable", 0, 0, (0, 0, 0, 0, 0)),
            marks(1, "Device", 0, 0, (0, 0, 0, 0, 0)),
        )
    )
    buddyinfo = BuddyInfo(
        (
            BuddyZone(0, "DMA", filled(3_975, o9=1, o10=3)),
            BuddyZone(0, "DMA32", filled(250_000, o8=40, o9=20, o10=3)),
            BuddyZone(0, "Normal", filled(2_000_000, o1=200_000, o2=50_000, o7=3, o10=2)),
            BuddyZone(1, "Normal", filled(1_500_000, o1=150_000, o2=50_000, o10=1)),
        )
    )
    return zone_supplies(buddyinfo, zoneinfo)


FIELD_FREE_1G = {0: 14, 1: 14}


def test_field_report_node_does_not_fit() -> None:
    supplies = field_report_node()
    sim = simulate_reload(VROUTER_DEFAULT, supplies)
    assert not sim.fits
    # the order-8 and one order-9 part split Normal 4 MiB blocks first (the other order-9 takes a piece)
    assert dict(sim.shortfall) == {10: 43, 9: 0, 8: 0}
    assert [(z.node, z.zone, z.free_blocks[10], z.usable_blocks[10]) for z in sim.zones] == [
        (0, "DMA", 3, 0),
        (0, "DMA32", 3, 0),  # 250,000 free pages under a floor of 396,283
        (0, "Normal", 2, 2),
        (1, "Normal", 1, 1),
    ]
    # Even the buddyinfo-only sum over Normal and DMA32 (6) is far from 44.
    assert sum(s.free_blocks[10] for s in supplies if s.zone in ("Normal", "DMA32")) == 6


def test_field_report_freeing_one_1g_page_on_either_node_closes_the_gap() -> None:
    supplies = field_report_node()
    remedies = remedies_by_freeing_1g(VROUTER_DEFAULT, supplies, FIELD_FREE_1G, page_size=PAGE_4K)
    assert remedies == (Remedy(0, 1, 14), Remedy(1, 1, 14))
    assert describe_remedies(remedies) == "free 1 × 1G page on node 0 or on node 1"
    for remedy in remedies:
        after = with_freed_1g(supplies, remedy.node, remedy.pages_1g, page_size=PAGE_4K)
        assert simulate_reload(VROUTER_DEFAULT, after).fits


def test_field_report_with_a_margin_of_two_still_needs_one_page() -> None:
    doubled = {order: 2 * count for order, count in VROUTER_DEFAULT.items()}
    remedies = remedies_by_freeing_1g(doubled, field_report_node(), FIELD_FREE_1G, page_size=PAGE_4K)
    assert [(r.node, r.pages_1g) for r in remedies] == [(0, 1), (1, 1)]


def test_freed_1g_page_planning_numbers() -> None:
    assert MEASURED_BLOCKS_PER_1G_4K == (242, 245)
    assert freed_1g_blocks(PAGE_4K, 11) == (10, PLANNING_BLOCKS_PER_1G_4K) == (10, 240)
    after = with_freed_1g(field_report_node(), 1, 1, page_size=PAGE_4K)
    assert (after[3].free_blocks[10], after[3].free_pages) == (241, 1_500_000 + 240 * 1024)
    assert with_freed_1g(field_report_node(), 1, 1, page_size=PAGE_4K, blocks_per_1g_page=256)[3].free_blocks[10] == 257
    with pytest.raises(ValueError, match=r"1\.\.256 blocks"):
        freed_1g_blocks(PAGE_4K, 11, 257)
    with pytest.raises(ValueError, match="power of two"):
        freed_1g_blocks(3000, 11)
    with pytest.raises(ValueError, match="no Normal zone"):
        with_freed_1g(field_report_node(), 2, 1, page_size=PAGE_4K)


def test_the_planning_default_is_conservative() -> None:
    # 250 blocks: one page is enough at the theoretical 256, not at the planning 240.
    empty = [ZoneSupply(0, "Normal", blocks(), None, None)]
    default = remedies_by_freeing_1g({10: 250}, empty, {0: 4}, page_size=PAGE_4K)
    full = remedies_by_freeing_1g({10: 250}, empty, {0: 4}, page_size=PAGE_4K, blocks_per_1g_page=256)
    assert [(r.pages_1g) for r in default] == [2]
    assert [(r.pages_1g) for r in full] == [1]


def test_remedy_re_simulates_a_zone_below_its_floor_instead_of_dividing() -> None:
    # 44 blocks is far less than 240, but node 0's Normal is 300,000 pages under its floor:
    # the first GiB only refills the reserve.
    starved = [ZoneSupply(0, "Normal", blocks(o10=1), 100_000, 400_000)]
    (remedy,) = remedies_by_freeing_1g(VROUTER_DEFAULT, starved, {0: 5}, page_size=PAGE_4K)
    assert remedy == Remedy(0, 2, 5)


def test_nodes_that_cannot_close_the_gap_are_left_out_and_explained_by_the_plan() -> None:
    supplies = [ZoneSupply(n, "Normal", blocks(), None, None) for n in (0, 1, 2)]
    supplies.append(ZoneSupply(3, "DMA32", blocks(), 1_000, 0))
    free = {0: 2, 1: 0, 3: 6}
    assert remedies_by_freeing_1g({10: 700}, supplies, free, page_size=PAGE_4K) == ()
    plan = plan_freeing_1g({10: 700}, supplies, free, page_size=PAGE_4K)
    assert plan == (Remedy(0, 3, 2), Remedy(1, 3, 0), Remedy(3, 0, 6, possible=False))
    assert describe_remedies(plan) == (
        "no node has enough free 1G pages: node 0 could give 2 but 3 are needed; "
        "node 1 could give 0 but 3 are needed; node 3: freeing its 1G pages alone cannot close the gap"
    )
    assert describe_remedies(()) == "no node has free 1G pages that would close the gap"


def test_different_counts_per_node_are_named_fewest_first() -> None:
    # Node 0's Normal is 200,000 pages under its floor: its first GiB leaves room for only 44 blocks.
    supplies = [
        ZoneSupply(0, "Normal", blocks(), 0, 200_000),
        ZoneSupply(1, "Normal", blocks(o10=100), 10_000_000, 0),
    ]
    remedies = remedies_by_freeing_1g({10: 300}, supplies, {0: 4, 1: 4}, page_size=PAGE_4K)
    assert remedies == (Remedy(1, 1, 4), Remedy(0, 2, 4))
    assert describe_remedies(remedies) == "free 1 × 1G page on node 1, or 2 × 1G pages on node 0"


def test_no_remedy_when_the_reload_fits_or_a_request_exceeds_the_largest_block() -> None:
    supplies = [ZoneSupply(0, "Normal", blocks(o10=50), None, None)]
    assert remedies_by_freeing_1g(VROUTER_DEFAULT, supplies, {0: 3}, page_size=PAGE_4K) == ()
    assert plan_freeing_1g({11: 1}, supplies, {0: 3}, page_size=PAGE_4K) == (Remedy(0, 0, 3, possible=False),)


# --- 64 KiB pages ----------------------------------------------------------------------------


def test_64k_pages_capture_serves_4mib_chunks_from_order_13_blocks() -> None:
    supplies = supplies_from_corpus("arm64-64k-hisi-d03-1node-14orders", None)
    (normal,) = supplies
    assert normal.free_blocks[13] == 114
    # orders 6..12 hold 0, 3, 2, 4, 3, 4, 2 blocks: 0 + 6 + 8 + 32 + 48 + 128 + 128 = 350 chunks, plus 114 × 128
    assert count_usable_blocks(normal, 6) == 350 + 114 * 128
    sim = simulate_reload(VROUTER_64K, supplies, page_size=PAGE_64K)
    assert sim.fits
    assert sim.describe().startswith("reload fits: 44 × order 6 (4 MiB), 2 × order 5 (2 MiB), 1 × order 4 (1 MiB)")


def test_64k_pages_one_1g_page_is_planned_as_one_order_13_block() -> None:
    # 1 GiB = 16,384 pages of 64 KiB = 2 blocks of order 13 (512 MiB); planning counts 2 × 240/256 -> 1.
    assert freed_1g_blocks(PAGE_64K, 14) == (13, 1)
    empty = [ZoneSupply(0, "Normal", blocks(14), 50_000, 1_000)]
    (remedy,) = remedies_by_freeing_1g(VROUTER_64K, empty, {0: 8}, page_size=PAGE_64K)
    assert remedy == Remedy(0, 1, 8)
    after = with_freed_1g(empty, 0, 1, page_size=PAGE_64K)
    assert (after[0].free_blocks[13], after[0].free_pages) == (1, 50_000 + 8_192)
    # 300 × 4 MiB = 2.3 blocks of 512 MiB: 3 pages planned, 2 when both blocks are counted.
    assert remedies_by_freeing_1g({6: 300}, empty, {0: 8}, page_size=PAGE_64K)[0].pages_1g == 3
    counted_both = remedies_by_freeing_1g({6: 300}, empty, {0: 8}, page_size=PAGE_64K, blocks_per_1g_page=2)
    assert counted_both[0].pages_1g == 2


# --------------------------------------------------------------------------
# Bounded cost (issue 13): the replay and the remedy do not grow with the numbers asked
# --------------------------------------------------------------------------


def test_the_replay_of_a_huge_request_counts_every_missing_block() -> None:
    normal = ZoneSupply(0, "Normal", blocks(o10=50, o9=3), None, None)
    sim = simulate_reload({10: 10**12, 9: 10**9}, [normal])
    # Order 9 first: its 3 free blocks, then all 50 order-10 blocks split in two; nothing is left for order 10.
    assert (sim.granted[9], sim.shortfall[9]) == (103, 10**9 - 103)
    assert (sim.granted[10], sim.shortfall[10]) == (0, 10**12)
    assert not sim.fits


def test_the_replay_grants_many_whole_blocks_as_one_by_one_would() -> None:
    zones = [
        ZoneSupply(0, "Normal", blocks(o10=70_000), 70_000 * 1024 + 5000, 5000 + 1024 * 3),
        ZoneSupply(1, "Normal", blocks(o10=10), None, None, blocks(o10=4)),
    ]
    sim = simulate_reload({10: 70_005}, zones)
    assert dict(sim.granted) == {10: 70_005}
    assert [dict(zone.taken) for zone in sim.zones] == [{10: 69_997}, {10: 8}]
    assert [zone.left_blocks[10] for zone in sim.zones] == [3, 2]


def test_a_zone_far_below_its_floor_is_planned_in_a_few_replays() -> None:
    starved = [ZoneSupply(0, "Normal", blocks(o10=10), 10_000, 10**15)]
    (remedy,) = plan_freeing_1g({10: 44}, starved, {0: 4}, page_size=PAGE_4K)
    assert remedy.possible and not remedy.closes_gap
    fits = [
        simulate_reload({10: 44}, with_freed_1g(starved, 0, count, page_size=PAGE_4K)).fits
        for count in (remedy.pages_1g - 1, remedy.pages_1g)
    ]
    assert fits == [False, True]
    assert remedy.pages_1g > 4_000_000_000
