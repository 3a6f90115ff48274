"""Which pictures each check gets in the Allure report, drawn from what the check already has.

When a check concludes (:meth:`vrouter_preflight.wiring.verdict.Verdict.conclude`), this module's
hook calls :func:`attach_check_charts` while Allure records, so every check's page carries its pictures without the
check asking for them:

=====================  ==========================================================
``contiguous_blocks``  free blocks per order, per NUMA node and zone; the reload's
                       requests in red
``hugepages_per_node`` total and free pages of every pool, per NUMA node
``remediation``        free blocks per order before and after the release, and
                       the 1G pools before, released and given back (from the
                       run's journal)
=====================  ==========================================================

The inputs are the check's own fixtures (``item.funcargs``) and the
``details`` it recorded, so nothing is read twice. Drawing costs about
0.1 s a picture; set ``VRPF_CHARTS=off`` to leave them out of very large runs.
A picture that cannot be drawn becomes a text attachment saying why: a
chart never changes a check's outcome.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.facts.sizes import format_kib
from vrouter_preflight.reporting import charts
from vrouter_preflight.wiring.allure_attach import allure_active, attach_png, attach_text

Chart = tuple[str, bytes]


def charts_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """False when ``VRPF_CHARTS`` says off (``off``, ``0``, ``no``, ``false``).

    >>> charts_enabled({}), charts_enabled({"VRPF_CHARTS": "off"}), charts_enabled({"VRPF_CHARTS": "1"})
    (True, False, True)
    """
    return environ.get("VRPF_CHARTS", "").strip().lower() not in ("off", "0", "no", "false")


def zone_blocks(zones: Sequence[Any]) -> list[charts.ZoneBlocks]:
    """ZoneSupply objects, BuddyZone objects or journal/summary records → chart rows.

    >>> zone_blocks([{"node": 0, "zone": "Normal", "free_blocks": [3, 2]}])
    [ZoneBlocks(node=0, zone='Normal', free_blocks=(3, 2))]
    """
    rows = []
    for zone in zones:
        if isinstance(zone, Mapping):
            rows.append(charts.ZoneBlocks(int(zone["node"]), str(zone["zone"]), tuple(zone["free_blocks"])))
        else:
            rows.append(charts.ZoneBlocks(zone.node, zone.zone, tuple(zone.free_blocks)))
    return rows


def contiguous_blocks_charts(funcargs: Mapping[str, Any], details: Mapping[str, Any] | None) -> list[Chart]:
    """The ``contiguous_blocks`` picture: free blocks of every zone per order, the reload's demand in red.

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.contiguity.supply import ZoneSupply
    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import VrouterOverrides
    >>> funcargs = {"host": SimpleNamespace(name="c0"),
    ...             "demand": vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096),
    ...             "supplies": (ZoneSupply(0, "Normal", (5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 2), None, None),)}
    >>> [(name, png[:4]) for name, png in contiguous_blocks_charts(funcargs, None)]
    [('chart: free blocks per order and NUMA node', b'\\x89PNG')]
    >>> contiguous_blocks_charts({"host": SimpleNamespace(name="c0")}, None)  # no supply or demand: no picture
    []
    """
    supplies, demand, host = funcargs.get("supplies"), funcargs.get("demand"), funcargs.get("host")
    if not supplies or demand is None or host is None:
        return []
    png = charts.free_blocks_chart(
        zone_blocks(supplies),
        demand.blocks_with_margin(),
        title=f"{host.name}: free blocks per order (red: what a vRouter reload asks for)",
    )
    return [("chart: free blocks per order and NUMA node", png)]


def pool_counts(pools: Sequence[Any]) -> list[charts.PoolCounts]:
    """Per-node HugepagePool objects or journal records (``size_kib``, ``nr``, ``free``) → chart rows.

    Global pools (``node`` None) are left out.

    >>> pool_counts([{"node": 1, "size_kib": 1048576, "nr": 170, "free": 14}, {"node": None, "size_kib": 2048}])
    [PoolCounts(node=1, size='1G', total=170, free=14)]
    """
    rows = []
    for pool in pools:
        record = pool if isinstance(pool, Mapping) else vars(pool)
        if record.get("node") is None:
            continue
        rows.append(
            charts.PoolCounts(int(record["node"]), format_kib(int(record["size_kib"])), record["nr"], record["free"])
        )
    return sorted(rows, key=lambda row: (row.size != "1G", row.size, row.node))


def hugepages_per_node_charts(funcargs: Mapping[str, Any], details: Mapping[str, Any] | None) -> list[Chart]:
    """The ``hugepages_per_node`` picture: every per-node pool of the host, ``min_free_1g_per_node`` in red.

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> from vrouter_preflight.inventory import HostSpec
    >>> pools = HugepagePools((HugepagePool(1048576, 0, 170, 14, 0), HugepagePool(1048576, 1, 170, 0, 0)))
    >>> host = SimpleNamespace(name="c0", spec=HostSpec(name="c0", min_free_1g_per_node=1),
    ...                        facts=SimpleNamespace(hugepages=pools))
    >>> [(name, png[:4]) for name, png in hugepages_per_node_charts({"host": host, "node": 1}, None)]
    [('chart: hugepage pools per NUMA node', b'\\x89PNG')]
    >>> host.facts.hugepages = HugepagePools((HugepagePool(2048, None, 8, 8, 0),))  # a global pool only
    >>> hugepages_per_node_charts({"host": host, "node": 0}, None)
    []
    """
    host = funcargs.get("host")
    if host is None:
        return []
    rows = pool_counts(host.facts.hugepages.pools)
    if not rows:
        return []
    node = funcargs.get("node")
    png = charts.hugepage_pools_chart(
        rows,
        title=f"{host.name}: hugepage pools per NUMA node (this check: node {node})",
        min_free=host.spec.min_free_1g_per_node or None,
    )
    return [("chart: hugepage pools per NUMA node", png)]


def _events(path: str) -> dict[str, Mapping[str, Any]]:
    from vrouter_preflight.remediation.journal import load_journal

    return {record.event: record.data for record in load_journal(path).records}


def _per_node(values: Mapping[str, Any] | None) -> dict[int, int | None]:
    return {int(node): None if value is None else int(value) for node, value in (values or {}).items()}


def remediation_charts(funcargs: Mapping[str, Any], details: Mapping[str, Any] | None) -> list[Chart]:
    """The ``remediation`` pictures, read from the run's journal (``details["journal"]``); none without one.

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.remediation.journal import Journal
    >>> host = SimpleNamespace(name="c0")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     journal = Journal.open(d, "c0", begin={"host": {"name": "c0"}, "requests": {"10": 44}, "restore": []})
    ...     journal.record("baseline", pools=[{"node": 0, "size_kib": 1048576, "nr": 170, "free": 14}], buddy=[])
    ...     journal.record("released", nr={"0": 169})
    ...     journal.record("restored", nr={"0": 170}, shortfall={})
    ...     journal.close("ok")
    ...     [(name, png[:4]) for name, png in remediation_charts({"host": host}, {"journal": str(journal.path)})]
    [('chart: 1G pages before, released, given back', b'\\x89PNG')]
    >>> remediation_charts({"host": host}, {"plan": "release 1 page"})  # a plan changes nothing: no picture
    []
    """
    host = funcargs.get("host")
    journal = (details or {}).get("journal")
    if host is None or not journal or not os.path.isfile(str(journal)):
        return []
    events = _events(str(journal))
    baseline, measured = events.get("baseline"), events.get("measured")
    out: list[Chart] = []
    if baseline and measured and baseline.get("buddy") and measured.get("buddy"):
        requests = {int(order): int(count) for order, count in (events.get("begin", {}).get("requests") or {}).items()}
        png = charts.free_blocks_before_after_chart(
            zone_blocks(baseline["buddy"]),
            zone_blocks(measured["buddy"]),
            requests,
            title=f"{host.name}: free blocks per order, before and after releasing 1G pages",
            after_label="after release + compaction",
        )
        out.append(("chart: free blocks before and after the release", png))
    if baseline:
        gig = [p for p in baseline.get("pools") or [] if p.get("size_kib") == 1048576 and p.get("node") is not None]
        stages: list[tuple[str, Mapping[int, int | None]]] = [("before", {int(p["node"]): p["nr"] for p in gig})]
        if "released" in events:
            stages.append(("released", _per_node(events["released"].get("nr"))))
        if "restored" in events:
            stages.append(("given back", _per_node(events["restored"].get("nr"))))
        if gig:
            png = charts.pool_stages_chart(
                stages, title=f"{host.name}: 1G hugepages per NUMA node through the remediation", what="1G pages"
            )
            out.append(("chart: 1G pages before, released, given back", png))
    return out


CHARTS: dict[CheckId, Callable[[Mapping[str, Any], Mapping[str, Any] | None], list[Chart]]] = {
    CheckId.CONTIGUOUS_BLOCKS: contiguous_blocks_charts,
    CheckId.HUGEPAGES_PER_NODE: hugepages_per_node_charts,
    CheckId.REMEDIATION: remediation_charts,
}


def attach_check_charts(check_id: str, funcargs: Mapping[str, Any], details: Mapping[str, Any] | None) -> int:
    """Draw and attach the pictures of ``check_id`` (see :data:`CHARTS`); returns how many were attached.

    Nothing happens while Allure is not recording or with ``VRPF_CHARTS=off``.

    >>> attach_check_charts(CheckId.CONTIGUOUS_BLOCKS.id, {}, None)
    0
    """
    check = CheckId.named(check_id)
    draw = None if check is None else CHARTS.get(check)
    if draw is None or not allure_active() or not charts_enabled():
        return 0
    try:
        pictures = draw(funcargs, details)
    except Exception as exc:  # a picture must never change the check's outcome
        attach_text("chart not drawn", f"{type(exc).__name__}: {exc}")
        return 0
    for name, png in pictures:
        attach_png(name, png)
    return len(pictures)


def pytest_vrouter_preflight_check_concluded(item: Any, check_id: str, details: Mapping[str, Any] | None) -> None:
    """The wiring's hook (:mod:`vrouter_preflight.wiring.hookspecs`): attach the concluded check's pictures.

    >>> from types import SimpleNamespace
    >>> pytest_vrouter_preflight_check_concluded(SimpleNamespace(funcargs={}), CheckId.CONTIGUOUS_BLOCKS.id, None)
    """
    attach_check_charts(check_id, getattr(item, "funcargs", {}), details)
