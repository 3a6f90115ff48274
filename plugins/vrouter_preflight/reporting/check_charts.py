"""The pictures a check draws while the run records Allure results: only the destructive stage's.

Pictures cost 0.1-0.4 s of CPU each, and the change board needs them for the
hosts held back or close to the limit, not for every healthy host: the free
blocks and hugepage pools of those hosts are drawn by ``make report`` from the
JSON summary, in parallel (:mod:`vrouter_preflight.reporting.build_report`). A
run draws only what exists only during the run, the remediation's before and
after from its journal (a handful of hosts):

=====================  ==========================================================
``remediation``        free blocks per order before and after the release, and
                       the 1G pools before, released and given back (from the
                       run's journal)
=====================  ==========================================================

When a check concludes (:meth:`vrouter_preflight.wiring.verdict.Verdict.conclude`),
this module's hook calls :func:`attach_check_charts` while Allure records. Set
``VRPF_CHARTS=off`` to leave even these out. A picture that cannot be drawn
becomes a text attachment saying why: a chart never changes a check's outcome.
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
