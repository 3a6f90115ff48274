"""The report's pictures: real PNGs of the right shape, the same bytes for the same numbers, and the
remediation's before/after drawn from a real journal."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from matplotlib.image import imread

from vrouter_preflight.remediation.journal import Journal
from vrouter_preflight.reporting import charts
from vrouter_preflight.reporting.check_charts import charts_enabled, pool_counts, remediation_charts, zone_blocks

FIELD = [200000, 150000, 80000, 30000, 10000, 3000, 800, 200, 40, 6, 2]


def size_of(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels."""
    height, width = imread(io.BytesIO(png), format="png").shape[:2]
    return width, height


def test_free_blocks_chart_is_a_png_one_panel_per_node_and_deterministic() -> None:
    one = [charts.ZoneBlocks(0, "Normal", tuple(FIELD))]
    two = [*one, charts.ZoneBlocks(0, "DMA32", (1, 2, 3)), charts.ZoneBlocks(1, "Normal", tuple(FIELD))]
    png = charts.free_blocks_chart(two, {10: 44, 9: 2}, title="c0")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == charts.free_blocks_chart(two, {10: 44, 9: 2}, title="c0"), "same numbers, same bytes"
    assert size_of(png)[0] > size_of(charts.free_blocks_chart(one, title="c0"))[0], "a panel per NUMA node"
    assert size_of(png)[0] <= 1000, "small enough for a report page"


def test_zero_and_unreadable_counts_still_draw() -> None:
    assert charts.free_blocks_chart([charts.ZoneBlocks(0, "Normal", (0,) * 11)], {10: 44}, title="empty")
    pools = [charts.PoolCounts(0, "1G", None, None), charts.PoolCounts(1, "1G", 0, 0)]
    assert charts.hugepage_pools_chart(pools, title="unreadable", min_free=1).startswith(b"\x89PNG")
    assert charts.pool_stages_chart([("before", {0: None})], title="t", what="1G pages").startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="no hugepage pools"):
        charts.hugepage_pools_chart([], title="none")


def test_inputs_from_facts_journal_and_summary_shapes() -> None:
    assert zone_blocks([{"node": 1, "zone": "Normal", "free_blocks": [1, 2]}]) == [
        charts.ZoneBlocks(1, "Normal", (1, 2))
    ]
    rows = pool_counts(
        [
            {"node": 0, "size_kib": 2048, "nr": 0, "free": 0},
            {"node": None, "size_kib": 1048576, "nr": 340, "free": 28},
            {"node": 1, "size_kib": 1048576, "nr": 170, "free": 14},
        ]
    )
    assert rows == [charts.PoolCounts(1, "1G", 170, 14), charts.PoolCounts(0, "2M", 0, 0)], "1G first, no global"


def test_charts_can_be_switched_off() -> None:
    assert charts_enabled({}) and charts_enabled({"VRPF_CHARTS": "on"})
    assert not charts_enabled({"VRPF_CHARTS": "OFF"}) and not charts_enabled({"VRPF_CHARTS": "0"})


class _Host:
    name = "c0"


def test_remediation_pictures_come_from_the_journal(tmp_path: Path) -> None:
    pools = [{"node": n, "size_kib": 1048576, "nr": 170, "free": 14, "resv": 0, "surplus": 0} for n in (0, 1)]
    before = [{"node": n, "zone": "Normal", "free_blocks": FIELD} for n in (0, 1)]
    after = [{"node": 0, "zone": "Normal", "free_blocks": [*FIELD[:10], 300]}, before[1]]
    journal = Journal.open(tmp_path, "c0", begin={"host": {"name": "c0"}, "requests": {"10": 44}, "restore": []})
    journal.record("baseline", pools=pools, buddy=before, vm={})
    journal.record("released", nr={"0": 169, "1": 170})
    journal.record("measured", fits=True, buddy=after, pools=pools)
    journal.record("restored", nr={"0": 170, "1": 170}, shortfall={})
    journal.close("ok")
    funcargs: dict[str, Any] = {"host": _Host()}
    pictures = remediation_charts(funcargs, {"journal": str(journal.path)})
    assert [name for name, _ in pictures] == [
        "chart: free blocks before and after the release",
        "chart: 1G pages before, released, given back",
    ]
    assert all(png.startswith(b"\x89PNG") for _, png in pictures)
    assert remediation_charts(funcargs, {"plan": "release 1 page"}) == [], "a plan changes nothing: no picture"
    assert remediation_charts(funcargs, {"journal": str(tmp_path / "gone.json")}) == []
