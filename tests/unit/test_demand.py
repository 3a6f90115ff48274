"""The demand model against every worked figure of domain notes §0, §1.3, §2.4 and §3.4.

>>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
>>> from vrouter_preflight.demand import VrouterOverrides
>>> vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096).blocks_by_order()
{10: 44, 9: 2, 8: 1}
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from vrouter_preflight.demand import (
    MAX_TABLE_ENTRIES,
    R1911,
    R2005,
    BuddyRequest,
    VrouterDemand,
    VrouterOverrides,
    VrouterSettings,
    auto_overflow,
    btable_orders,
    get_order,
    parse_release,
    vrouter_demand,
    vrouter_settings,
)

KIB = 1024
MIB = 1024 * KIB
G1_KIB = 1_048_576
M2_KIB = 2048


def demand(page_size: int = 4096, params: dict[str, str] | None = None, **overrides: object) -> VrouterDemand:
    settings = vrouter_settings(VrouterOverrides(**overrides), params or {})  # type: ignore[arg-type]
    return vrouter_demand(settings, page_size)


def orders_of(d: VrouterDemand, purpose_prefix: str) -> dict[int, int]:
    blocks: dict[int, int] = {}
    for request in d.buddy_requests:
        if request.purpose.startswith(purpose_prefix):
            blocks[request.order] = blocks.get(request.order, 0) + request.count
    return blocks


def table_blocks(d: VrouterDemand) -> dict[int, int]:
    """Blocks of the flow and bridge tables only (the §1.3 totals leave out the nexthop table)."""
    blocks = d.blocks_by_order()
    for order, count in orders_of(d, "nexthop table").items():
        blocks[order] -= count
    return {order: count for order, count in blocks.items() if count}


# --------------------------------------------------------------------------
# get_order and vr_btable_alloc
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "page_size", "order"),
    [
        (1, 4096, 0),
        (4096, 4096, 0),
        (4097, 4096, 1),
        (8192, 4096, 1),
        (8193, 4096, 2),
        (1 * MIB, 4096, 8),
        (1_835_008, 4096, 9),  # 1.75 MiB: 448 pages round up to 512
        (2 * MIB, 4096, 9),
        (3_407_872, 4096, 10),  # 3.25 MiB: 832 pages round up to 1024
        (4 * MIB, 4096, 10),
        (4 * MIB + 1, 4096, 11),
        (4 * MIB, 65536, 6),
        (1_835_008, 65536, 5),
        (1 * MIB, 65536, 4),
        (65536, 65536, 0),
        (4 * MIB, 16384, 8),
    ],
)
def test_get_order_matches_the_kernel(size: int, page_size: int, order: int) -> None:
    assert get_order(size, page_size) == order


@pytest.mark.parametrize(("size", "page_size"), [(0, 4096), (-1, 4096), (4096, 1000), (4096, 2048), (4096, 0)])
def test_get_order_refuses_what_the_kernel_leaves_undefined(size: int, page_size: int) -> None:
    with pytest.raises(ValueError, match=r"get_order|page size"):
        get_order(size, page_size)


def test_btable_full_parts_then_one_remainder_part() -> None:
    assert btable_orders(524_288, 256, 4096) == [10] * 32  # 128 MiB: no remainder part
    assert btable_orders(105_472, 256, 4096) == [10] * 6 + [9]
    assert btable_orders(105_472, 128, 4096) == [10] * 3 + [8]  # 13,500,416 B
    assert btable_orders(53_248, 64, 4096) == [10]
    assert btable_orders(65_536, 8, 4096) == [7]  # <= R1910 nexthop table, 512 KiB
    assert btable_orders(105_472, 256, 65536) == [6] * 6 + [5]
    assert btable_orders(0, 64, 4096) == []


def test_buddy_request_sizes() -> None:
    request = BuddyRequest(10, 32, "flow table: main entries, 4 MiB chunks")
    assert request.total_bytes(4096) == 134_217_728
    assert BuddyRequest(6, 1, "x").block_bytes(65536) == 4 * MIB


# --------------------------------------------------------------------------
# Worked default, R1911+ (§0, §1.3, §2.4)
# --------------------------------------------------------------------------


def test_default_settings_r1911_and_later() -> None:
    settings = vrouter_settings(VrouterOverrides(), {})
    assert (settings.flow_entries, settings.oflow_entries) == (524_288, 105_472)
    assert (settings.bridge_entries, settings.bridge_oentries) == (262_144, 53_248)
    assert (settings.flow_entry_bytes, settings.nexthops, settings.new_table_layout) == (256, 524_288, True)
    assert settings.hugepage_size_kib is None
    assert settings.hugepage_mode is False
    assert settings.contiguity_margin == 1.0
    assert settings.release is None
    assert settings.warnings == ()
    assert settings.flow_table_entries == 629_760  # `flow -l`: entries 629760


def test_default_table_bytes() -> None:
    d = demand()
    assert d.flow_table_bytes == 161_218_560  # `flow -l`: size 161218560, 153.75 MiB
    assert d.bridge_table_bytes == 20_185_088  # 19.25 MiB
    assert d.page_size == 4096
    assert d.chunk_order == 10


def test_default_pieces_one_by_one() -> None:
    d = demand()
    assert orders_of(d, "flow table: main entries") == {10: 32}
    assert orders_of(d, "flow table: overflow entries") == {10: 6, 9: 1}
    assert orders_of(d, "flow table: delete data") == {9: 1}
    assert orders_of(d, "bridge table: main entries") == {10: 4}
    assert orders_of(d, "bridge table: overflow entries") == {10: 1}
    assert orders_of(d, "bridge table: delete data") == {8: 1}
    assert orders_of(d, "nexthop table") == {10: 1}


def test_default_totals_43_2_1_plus_nexthop() -> None:
    d = demand()
    assert table_blocks(d) == {10: 43, 9: 2, 8: 1}
    assert d.blocks_by_order() == {10: 44, 9: 2, 8: 1}
    assert d.hugepages_needed == {}
    assert d.buddy_bytes == 44 * 4 * MIB + 2 * 2 * MIB + 1 * MIB


def test_requests_are_largest_order_first() -> None:
    orders = [request.order for request in demand().buddy_requests]
    assert orders == sorted(orders, reverse=True)
    assert sum(request.count for request in demand().buddy_requests) == 47


def test_release_r1911_and_later_spellings_give_the_default() -> None:
    for release in ("R1911", "1912", "R2003", "R2011", "21.4.L2", "master"):
        assert demand(release=release).blocks_by_order() == {10: 44, 9: 2, 8: 1}, release


# --------------------------------------------------------------------------
# <= R1910 (128-byte flow entries, 64K nexthops)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["R1910", "R1907", "R5.0", "R4.1", "R3.2", "3.2", "5.1"])
def test_r1910_and_earlier(release: str) -> None:
    d = demand(release=release)
    settings = d.settings
    assert (settings.new_table_layout, settings.flow_entry_bytes, settings.nexthops) == (False, 128, 65_536)
    assert d.flow_table_bytes == 80_609_280
    assert d.bridge_table_bytes == 20_185_088
    assert orders_of(d, "flow table: main entries") == {10: 16}
    assert orders_of(d, "flow table: overflow entries") == {10: 3, 8: 1}
    assert orders_of(d, "flow table: delete data") == {9: 1}
    assert table_blocks(d) == {10: 24, 9: 1, 8: 2}
    assert orders_of(d, "nexthop table") == {7: 1}
    assert d.blocks_by_order() == {10: 24, 9: 1, 8: 2, 7: 1}


# --------------------------------------------------------------------------
# 4M flows (§1.3)
# --------------------------------------------------------------------------


def test_four_million_flows() -> None:
    d = demand(flow_entries=4_194_304)
    assert d.settings.oflow_entries == 839_680
    assert d.flow_table_bytes == 1_288_699_904
    assert table_blocks(d) == {10: 316, 8: 2}
    # the delete data (4,194,304 / 4 records of 16 B = 16 MiB) is a btable of 4 MiB parts too
    assert orders_of(d, "flow table: delete data") == {10: 4}
    assert d.blocks_by_order() == {10: 317, 8: 2}


def test_four_million_flows_from_the_module_parameter() -> None:
    d = demand(params={"vr_flow_entries": "4194304\n", "vr_oflow_entries": "0\n"})
    assert table_blocks(d) == {10: 316, 8: 2}
    assert d.settings.sources["flow_entries"] == "module parameter"


# --------------------------------------------------------------------------
# Hugepage mode (§0.5, §2.4, §3.4)
# --------------------------------------------------------------------------


def test_hugepage_1g_defaults() -> None:
    d = demand(hugepage_size="1G")
    assert d.settings.hugepage_mode is True
    assert d.hugepages_needed == {G1_KIB: 2}  # one page per file
    assert d.flow_table_bytes == 161_218_560  # the file sizes do not change


def test_hugepage_2m_defaults() -> None:
    d = demand(hugepage_size="2M")
    assert d.hugepages_needed == {M2_KIB: 87}
    bridge_pages = -(-d.bridge_table_bytes // (2 * MIB))
    flow_pages = -(-d.flow_table_bytes // (2 * MIB))
    assert (bridge_pages, flow_pages) == (10, 77)


@pytest.mark.parametrize("size", ["1G", "2M"])
def test_hugepage_residual_buddy_requests(size: str) -> None:
    d = demand(hugepage_size=size)
    assert orders_of(d, "nexthop table") == {10: 1}
    assert orders_of(d, "flow table: delete data") == {9: 1}
    assert orders_of(d, "bridge table: delete data") == {8: 1}
    assert orders_of(d, "flow table: struct page") == {7: 1}
    assert orders_of(d, "bridge table: struct page") == {4: 1}
    assert orders_of(d, "flow table: main") == orders_of(d, "flow table: overflow") == {}
    assert orders_of(d, "bridge table: main") == orders_of(d, "bridge table: overflow") == {}
    assert d.blocks_by_order() == {10: 1, 9: 1, 8: 1, 7: 1, 4: 1}


def test_hugepage_four_million_flows_page_array_needs_order_10() -> None:
    d = demand(flow_entries=4_194_304, hugepage_size="1G")
    assert d.hugepages_needed == {G1_KIB: 2 + 1}  # flow 1.2 GiB -> 2 pages, bridge 1 page
    (array,) = [r for r in d.buddy_requests if r.purpose.startswith("flow table: struct page")]
    assert array.order == 10  # 314,624 pages x 8 B = 2.4 MiB
    assert orders_of(d, "flow table: delete data") == {10: 4}
    assert d.too_large(10) == ()


def test_hugepage_mode_from_agent_config() -> None:
    settings = vrouter_settings(VrouterOverrides(), {}, agent_hugepage_size_kib=G1_KIB)
    assert (settings.hugepage_size_kib, settings.hugepage_mode) == (G1_KIB, True)
    assert settings.sources["hugepage_size_kib"] == "agent config"
    assert vrouter_demand(settings, 4096).hugepages_needed == {G1_KIB: 2}


def test_inventory_hugepage_size_beats_agent_config() -> None:
    none = vrouter_settings(VrouterOverrides(hugepage_size="none"), {}, agent_hugepage_size_kib=G1_KIB)
    assert (none.hugepage_size_kib, none.hugepage_mode, none.sources["hugepage_size_kib"]) == (None, False, "inventory")
    two = vrouter_settings(VrouterOverrides(hugepage_size="2M"), {}, agent_hugepage_size_kib=G1_KIB)
    assert (two.hugepage_size_kib, two.sources["hugepage_size_kib"]) == (M2_KIB, "inventory")
    assert vrouter_demand(none, 4096).blocks_by_order() == {10: 44, 9: 2, 8: 1}


def test_no_hugepage_information_is_buddy_mode() -> None:
    settings = vrouter_settings(VrouterOverrides(), {}, agent_hugepage_size_kib=None)
    assert (settings.hugepage_size_kib, settings.sources["hugepage_size_kib"]) == (None, "default")


def test_bad_agent_hugepage_size() -> None:
    with pytest.raises(ValueError, match="agent hugepage size"):
        vrouter_settings(VrouterOverrides(), {}, agent_hugepage_size_kib=4096)


@pytest.mark.parametrize("release", ["R1911", "R2003", "R4.1", "R3.2"])
@pytest.mark.parametrize("size", ["1G", "2M"])
def test_hugepage_mode_before_r2005_falls_back_to_buddy(release: str, size: str) -> None:
    """Decision: the size is honoured (kept, source inventory) but the demand is buddy mode, with a warning."""
    d = demand(release=release, hugepage_size=size)
    settings = d.settings
    assert settings.hugepage_size_kib == {"1G": G1_KIB, "2M": M2_KIB}[size]
    assert settings.sources["hugepage_size_kib"] == "inventory"
    assert settings.hugepage_mode is False
    name = parse_release(release).name
    assert settings.warnings == (f"hugepage mode needs R2005 or later; {name} falls back to buddy allocation",)
    assert d.hugepages_needed == {}
    assert d.blocks_by_order() == demand(release=release).blocks_by_order()


def test_hugepage_mode_before_r2005_from_agent_config_too() -> None:
    settings = vrouter_settings(VrouterOverrides(release="R1911"), {}, agent_hugepage_size_kib=M2_KIB)
    assert settings.hugepage_mode is False
    assert settings.warnings == ("hugepage mode needs R2005 or later; R1911 falls back to buddy allocation",)


@pytest.mark.parametrize("release", ["R2005", "2011", "21.3", "22.1", "latest", None])
def test_hugepage_mode_from_r2005_or_unknown_release(release: str | None) -> None:
    d = demand(release=release, hugepage_size="1G")
    assert d.settings.hugepage_mode is True
    assert d.settings.warnings == ()
    assert d.hugepages_needed == {G1_KIB: 2}


# --------------------------------------------------------------------------
# Precedence: inventory > module parameter > default; 0 = auto
# --------------------------------------------------------------------------

MODULE = {
    "vr_flow_entries": "1048576\n",
    "vr_oflow_entries": "8192\n",
    "vr_bridge_entries": "131072\n",
    "vr_bridge_oentries": "0\n",
    "vr_nexthops": "65536\n",
    "vr_mpls_labels": "5120\n",  # not a table the model sizes: ignored
}


def test_module_parameters_beat_defaults() -> None:
    settings = vrouter_settings(VrouterOverrides(), MODULE)
    assert (settings.flow_entries, settings.oflow_entries) == (1_048_576, 8192)
    assert (settings.bridge_entries, settings.bridge_oentries) == (131_072, auto_overflow(131_072))
    assert settings.nexthops == 65_536
    assert settings.sources["flow_entries"] == "module parameter"
    assert settings.sources["oflow_entries"] == "module parameter"
    assert settings.sources["bridge_oentries"] == "derived"
    assert settings.sources["nexthops"] == "module parameter"


def test_inventory_beats_module_parameters() -> None:
    overrides = VrouterOverrides(
        flow_entries=2_097_152, oflow_entries=4096, bridge_entries=65_536, bridge_oentries=1024, nexthops=262_144
    )
    settings = vrouter_settings(overrides, MODULE)
    assert (settings.flow_entries, settings.oflow_entries) == (2_097_152, 4096)
    assert (settings.bridge_entries, settings.bridge_oentries, settings.nexthops) == (65_536, 1024, 262_144)
    for name in ("flow_entries", "oflow_entries", "bridge_entries", "bridge_oentries", "nexthops"):
        assert settings.sources[name] == "inventory", name


def test_defaults_and_their_sources() -> None:
    settings = vrouter_settings(VrouterOverrides(), {})
    assert settings.sources["flow_entries"] == settings.sources["bridge_entries"] == "default"
    assert settings.sources["nexthops"] == settings.sources["flow_entry_bytes"] == "default"
    assert settings.sources["oflow_entries"] == settings.sources["bridge_oentries"] == "derived"
    assert settings.sources["release"] == settings.sources["contiguity_margin"] == "default"
    with_release = vrouter_settings(VrouterOverrides(release="R2011"), {})
    assert with_release.sources["release"] == "inventory"
    assert with_release.sources["flow_entry_bytes"] == "derived"


def test_auto_overflow_figures() -> None:
    assert auto_overflow(524_288) == 105_472
    assert auto_overflow(262_144) == 53_248
    assert auto_overflow(4_194_304) == 839_680
    assert auto_overflow(1000) == 1024  # 200 + 1023, rounded down to a multiple of 1024
    assert auto_overflow(4) == 0  # (0 + 1023) & ~1023


def test_zero_overflow_means_auto_everywhere() -> None:
    from_params = vrouter_settings(VrouterOverrides(), {"vr_oflow_entries": "0", "vr_bridge_oentries": "0"})
    from_inventory = vrouter_settings(VrouterOverrides(oflow_entries=0, bridge_oentries=0), {})
    for settings in (from_params, from_inventory):
        assert (settings.oflow_entries, settings.bridge_oentries) == (105_472, 53_248)
        assert settings.sources["oflow_entries"] == settings.sources["bridge_oentries"] == "derived"
    # an inventory 0 is auto even when the module has an explicit overflow size
    assert vrouter_settings(VrouterOverrides(oflow_entries=0), {"vr_oflow_entries": "8192"}).oflow_entries == 105_472


def test_auto_overflow_follows_the_effective_main_size() -> None:
    # inventory flow size, no overflow anywhere: 20% of the inventory size
    settings = vrouter_settings(VrouterOverrides(flow_entries=4_194_304), {})
    assert settings.oflow_entries == 839_680


def test_resolved_auto_value_in_sysfs_is_read_as_auto_when_the_inventory_changes_the_size() -> None:
    """A loaded module shows 105472 (the kernel writes the auto value back), not 0."""
    loaded = {"vr_flow_entries": "524288", "vr_oflow_entries": "105472", "vr_bridge_entries": "262144"}
    loaded["vr_bridge_oentries"] = "53248"
    same = vrouter_settings(VrouterOverrides(), loaded)
    assert (same.oflow_entries, same.sources["oflow_entries"]) == (105_472, "module parameter")
    bigger = vrouter_settings(VrouterOverrides(flow_entries=4_194_304, bridge_entries=1_048_576), loaded)
    assert (bigger.oflow_entries, bigger.sources["oflow_entries"]) == (839_680, "derived")
    assert (bigger.bridge_oentries, bigger.sources["bridge_oentries"]) == (auto_overflow(1_048_576), "derived")
    # an explicit, non-auto module value is kept
    explicit = vrouter_settings(VrouterOverrides(flow_entries=4_194_304), {**loaded, "vr_oflow_entries": "8192"})
    assert explicit.oflow_entries == 8192


def test_nexthop_default_follows_the_release_but_a_parameter_wins() -> None:
    assert vrouter_settings(VrouterOverrides(release="R1910"), {}).nexthops == 65_536
    assert vrouter_settings(VrouterOverrides(release="R1911"), {}).nexthops == 524_288
    old = vrouter_settings(VrouterOverrides(release="R1910"), {"vr_nexthops": "524288"})
    assert (old.nexthops, old.sources["nexthops"]) == (524_288, "module parameter")


@pytest.mark.parametrize("value", ["lots", "", "-1", "1e6", "0x100", "12 34", "²"])
def test_module_parameter_not_an_integer_names_the_parameter(value: str) -> None:
    with pytest.raises(ValueError, match="module parameter vr_flow_entries"):
        vrouter_settings(VrouterOverrides(), {"vr_flow_entries": value})


def test_module_parameter_whitespace_is_ignored() -> None:
    assert vrouter_settings(VrouterOverrides(), {"vr_flow_entries": " 1048576\n"}).flow_entries == 1_048_576


@pytest.mark.parametrize("name", ["vr_flow_entries", "vr_bridge_entries", "vr_nexthops"])
def test_empty_main_table_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        vrouter_settings(VrouterOverrides(), {name: "0"})


@pytest.mark.parametrize("field", ["flow_entries", "bridge_entries", "nexthops"])
@pytest.mark.parametrize("value", [0, -5, True])
def test_bad_inventory_count_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        vrouter_settings(VrouterOverrides(**{field: value}), {})  # type: ignore[arg-type]


def test_bad_inventory_overflow_is_refused() -> None:
    with pytest.raises(ValueError, match="oflow_entries"):
        vrouter_settings(VrouterOverrides(oflow_entries=-1), {})


def test_bad_release_in_inventory_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vRouter release 'R1913'"):
        vrouter_settings(VrouterOverrides(release="R1913"), {})


def test_release_kept_as_given() -> None:
    settings = vrouter_settings(VrouterOverrides(release="1912"), {})
    assert settings.release == "1912"
    assert settings.release_info is not None
    assert settings.release_info.name == "R1912"


def test_settings_type_is_frozen() -> None:
    settings = vrouter_settings(VrouterOverrides(), {})
    assert isinstance(settings, VrouterSettings)
    with pytest.raises(AttributeError):
        settings.flow_entries = 1  # type: ignore[misc]


# --------------------------------------------------------------------------
# Release parsing
# --------------------------------------------------------------------------

SPELLINGS = {
    "R3.2": "R3.2",
    "3.2": "R3.2",
    "R4.1": "R4.1",
    "R5.0": "R5.0",
    "5.0.2": "R5.0.2",
    "r5.1": "R5.1",
    "R1907": "R1907",
    "R1910": "R1910",
    "R1911": "R1911",
    "1912": "R1912",
    "R2003": "R2003",
    "R2005": "R2005",
    "2011": "R2011",
    "R2011": "R2011",
    "2011.L3": "R2011.L3",
    "21.3": "R21.3",
    "R21.4": "R21.4",
    "21.4.L2": "R21.4.L2",
    "22.1": "R22.1",
    "master": "master",
    "latest": "master",
    "Master": "master",
    " R2011 ": "R2011",
}


@pytest.mark.parametrize(("text", "name"), SPELLINGS.items())
def test_release_spellings(text: str, name: str) -> None:
    info = parse_release(text)
    assert info.name == name
    assert info.text == text


@pytest.mark.parametrize(
    ("text", "new_layout", "hugepages"),
    [
        ("R3.2", False, False),
        ("R4.1", False, False),
        ("R5.0", False, False),
        ("R1907", False, False),
        ("R1910", False, False),
        ("R1911", True, False),
        ("1912", True, False),
        ("R2003", True, False),
        ("R2005", True, True),
        ("2011", True, True),
        ("R2011", True, True),
        ("21.3", True, True),
        ("R21.4", True, True),
        ("21.4.L2", True, True),
        ("22.1", True, True),
        ("master", True, True),
        ("latest", True, True),
    ],
)
def test_release_boundaries(text: str, new_layout: bool, hugepages: bool) -> None:
    info = parse_release(text)
    assert info.new_table_layout is new_layout
    assert info.hugepage_mode_supported is hugepages


def test_releases_sort_in_release_order() -> None:
    ordered = ["R3.2", "R4.1", "R5.0", "5.0.2", "R5.1", "R1907", "R1910", "R1911", "1912", "R2003"]
    ordered += ["R2005", "R2011", "2011.L3", "21.3", "R21.4", "21.4.L2", "22.1", "master"]
    infos = [parse_release(text) for text in ordered]
    assert infos == sorted(infos)
    assert all(a < b for a, b in zip(infos, infos[1:]))
    assert parse_release("R1911") == R1911 and parse_release("2005") == R2005
    assert parse_release("latest") == parse_release("master")


@pytest.mark.parametrize(
    "text",
    ["", "R", "R1913", "R1900", "R1813", "2113", "R2.0", "R6.0", "19.11", "20.3", "21.13", "R21.4.L", "1911a",
     "R 1911", "newest", "3", "R3.", "21.4.M2", "R2011.L"],
)  # fmt: skip
def test_bad_release_lists_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="unknown vRouter release") as info:
        parse_release(text)
    message = str(info.value)
    for form in ("R3.2", "R1907", "R2011", "21.4.L2", "master"):
        assert form in message


# --------------------------------------------------------------------------
# Margin, 64 KiB pages, orders the buddy allocator cannot serve
# --------------------------------------------------------------------------


def test_default_margin_changes_nothing_and_the_default_spare_adds_two_4mib_blocks() -> None:
    d = demand()
    assert d.blocks_with_margin() == {**d.blocks_by_order(), 10: d.blocks_by_order()[10] + 2}
    assert demand(contiguity_spare_blocks=0).blocks_with_margin() == d.blocks_by_order()


def test_spare_blocks_go_to_the_chunk_order_after_the_margin() -> None:
    assert demand(contiguity_spare_blocks=5).blocks_with_margin() == {10: 49, 9: 2, 8: 1}
    assert demand(contiguity_margin=2.0, contiguity_spare_blocks=1).blocks_with_margin() == {10: 89, 9: 4, 8: 2}
    assert demand(page_size=65536, contiguity_spare_blocks=0).spare_blocks == 0
    assert demand(page_size=65536, contiguity_spare_blocks=3).spare_blocks == 3


@pytest.mark.parametrize("spare", [-1, True, 1.5])
def test_bad_spare_blocks_are_refused(spare: object) -> None:
    with pytest.raises(ValueError, match="contiguity_spare_blocks"):
        vrouter_settings(VrouterOverrides(contiguity_spare_blocks=spare), {})  # type: ignore[arg-type]


def test_margin_rounds_up() -> None:
    assert demand(contiguity_margin=2.0, contiguity_spare_blocks=0).blocks_with_margin() == {10: 88, 9: 4, 8: 2}
    # 2.5 -> 3, 1.25 -> 2
    assert demand(contiguity_margin=1.25, contiguity_spare_blocks=0).blocks_with_margin() == {10: 55, 9: 3, 8: 2}
    # 46.2 -> 47
    assert demand(contiguity_margin=1.05, contiguity_spare_blocks=0).blocks_with_margin() == {10: 47, 9: 3, 8: 2}


def test_margin_has_no_float_error() -> None:
    assert 100 * 1.1 > 110  # the trap: 110.00000000000001 in binary floating point
    requests = (BuddyRequest(10, 100, "x"), BuddyRequest(9, 50, "y"), BuddyRequest(8, 3, "z"))
    d = replace(demand(contiguity_margin=1.1, contiguity_spare_blocks=0), buddy_requests=requests)
    assert d.blocks_with_margin() == {10: 110, 9: 55, 8: 4}  # 3.3 -> 4


@pytest.mark.parametrize("margin", [0.0, 0.99, -1.0, float("nan"), float("inf")])
def test_bad_margin_is_refused(margin: float) -> None:
    with pytest.raises(ValueError, match="contiguity_margin"):
        vrouter_settings(VrouterOverrides(contiguity_margin=margin), {})


def test_64k_pages_default() -> None:
    d = demand(page_size=65536)
    assert d.chunk_order == 6
    assert d.flow_table_bytes == 161_218_560
    assert orders_of(d, "flow table: overflow entries") == {6: 6, 5: 1}
    assert orders_of(d, "flow table: delete data") == {5: 1}  # 2 MiB = 32 pages
    assert orders_of(d, "bridge table: overflow entries") == {6: 1}  # 52 pages round up to 64
    assert orders_of(d, "bridge table: delete data") == {4: 1}  # 1 MiB = 16 pages
    assert d.blocks_by_order() == {6: 44, 5: 2, 4: 1}


def test_64k_pages_r1910_and_4m_flows() -> None:
    assert demand(page_size=65536, release="R1910").blocks_by_order() == {6: 24, 5: 1, 4: 2, 3: 1}
    assert table_blocks(demand(page_size=65536, flow_entries=4_194_304)) == {6: 316, 4: 2}


def test_64k_pages_hugepage_residual() -> None:
    d = demand(page_size=65536, hugepage_size="2M")
    assert d.hugepages_needed == {M2_KIB: 87}
    assert orders_of(d, "flow table: struct page") == {0: 1}  # 2,460 pages x 8 B fit in one 64 KiB page
    assert orders_of(d, "bridge table: struct page") == {0: 1}
    assert d.blocks_by_order() == {6: 1, 5: 1, 4: 1, 0: 2}


def test_too_large_requests_are_visible() -> None:
    assert demand().too_large(10) == ()
    big = demand(flow_entries=8_388_608, hugepage_size="1G")
    (request,) = big.too_large(10)
    assert request.order == 11
    assert request.purpose.startswith("flow table: struct page * array")
    # the same table on 64 KiB pages is small
    assert demand(page_size=65536, flow_entries=8_388_608, hugepage_size="1G").too_large(13) == ()
    # a caller with a smaller maximum (e.g. a kernel built with a lower MAX_ORDER) sees the 4 MiB chunks
    assert sum(r.count for r in demand().too_large(9)) == 44


@pytest.mark.parametrize("page_size", [0, 1000, 2048, 4095, 12288])
def test_bad_page_size_is_refused(page_size: int) -> None:
    with pytest.raises(ValueError, match="page size"):
        demand(page_size=page_size)


# --------------------------------------------------------------------------
# Implausible figures (issue 13): refused with the parameter, the value and the range
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("vr_flow_entries", "1099511627776", "got 1099511627776"),
        ("vr_flow_entries", "1" + "0" * 30, "got an integer of 31 digits"),
        ("vr_nexthops", "99999999999999", "got 99999999999999"),
        ("vr_oflow_entries", "99999999999999", "got 99999999999999"),
        ("vr_bridge_entries", "99999999999999", "got 99999999999999"),
        ("vr_bridge_oentries", "1" + "0" * 5000, "got an integer of 5,001 digits"),
    ],
)
def test_a_targets_implausible_table_size_is_refused(name: str, value: str, shown: str) -> None:
    with pytest.raises(ValueError, match=name) as info:
        vrouter_settings(VrouterOverrides(), {name: value + "\n"})
    message = str(info.value)
    expected_range = (
        "from 0 (auto: 20% of the main table) to 67,108,864"
        if "oentries" in name or "oflow" in name
        else ("from 1 to 67,108,864")
    )
    assert message.startswith(f"module parameter {name}: expected an integer {expected_range}, {shown} ")
    assert message.endswith(f"(from /sys/module/vrouter/parameters/{name})")
    assert len(message) < 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("flow_entries", 10**30),
        ("nexthops", 99_999_999_999_999),
        ("contiguity_spare_blocks", 100_000),
        ("contiguity_margin", 1e300),
    ],
)
def test_implausible_overrides_built_in_code_are_refused_too(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field} from inventory: expected|^{field}: expected"):
        vrouter_settings(VrouterOverrides(**{field: value}), {})  # type: ignore[arg-type]


def test_the_largest_plausible_demand_is_a_few_thousand_blocks() -> None:
    most = MAX_TABLE_ENTRIES
    overrides = VrouterOverrides(
        release="R1910",
        flow_entries=most,
        oflow_entries=most,
        bridge_entries=most,
        bridge_oentries=most,
        nexthops=most,
        contiguity_margin=10.0,
        contiguity_spare_blocks=1024,
    )
    for page_size in (4096, 65536):
        d = vrouter_demand(vrouter_settings(overrides, {}), page_size)
        assert sum(d.blocks_by_order().values()) <= 11_000
        assert sum(d.blocks_with_margin().values()) <= 110_000
        assert len(d.buddy_requests) <= 20


def test_settings_out_of_range_cannot_be_made_by_replace() -> None:
    with pytest.raises(ValueError, match="flow_entries: expected an integer from 1 to 67,108,864, got 1099511627776"):
        replace(vrouter_settings(VrouterOverrides(), {}), flow_entries=1_099_511_627_776)
