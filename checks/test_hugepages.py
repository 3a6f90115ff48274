"""Hugepage pools per NUMA node, and whether hugepages can back vRouter's tables.

Check ids: ``hugepages_per_node`` (one test per host and NUMA node),
``hugepage_backing``.
"""

from __future__ import annotations

import math

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.facts.hugepages import HugepagePool
from vrouter_preflight.facts.sizes import GIB_KIB, format_kib
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.wiring.check_inputs import host_demand
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict
from vrouter_preflight.wording import plural


@check(CheckId.HUGEPAGES_PER_NODE)
def test_hugepages_per_node(
    host: HostUnderTest, node: int, node_pools: tuple[HugepagePool, ...], verdict: Verdict
) -> None:
    """Total, free and surplus pages of every size on this node; free 1G pages >= min_free_1g_per_node."""
    figures = "; ".join(
        f"{format_kib(p.size_kib)}: total {p.nr}, free {p.free}, surplus {p.surplus}" for p in node_pools
    )
    minimum = host.spec.min_free_1g_per_node
    gig = next((p for p in node_pools if p.size_kib == GIB_KIB), None)
    free_1g = gig.free if gig is not None and gig.free is not None else 0
    if free_1g < minimum:
        verdict.conclude(
            False,
            f"node {node} has {plural(free_1g, 'free 1G hugepage')}, needs {minimum} (min_free_1g_per_node); {figures}",
        )
    verdict.conclude(True, f"node {node}: {figures}")


def buddy_mode(host: HostUnderTest) -> str | None:
    """Why the check does not apply: vRouter's tables live in the buddy allocator's memory, not in hugepages."""
    settings = host_demand(host).settings
    if settings.hugepage_mode and settings.hugepage_size_kib is not None:
        return None
    why = "; ".join(settings.warnings) or (
        "no vrouter.hugepage_size in the inventory and no huge_page_1G/2M in the agent config"
        if settings.sources.get("hugepage_size_kib") == "default"
        else f"hugepage_size none (from {settings.sources.get('hugepage_size_kib')})"
    )
    return f"vRouter does not use hugepages for its tables (buddy mode: {why})"


@check(CheckId.HUGEPAGE_BACKING, not_applicable=buddy_mode)
def test_hugepage_backing(host: HostUnderTest, kernel_vrouter: None, demand: VrouterDemand, verdict: Verdict) -> None:
    """In hugepage mode, free minus reserved pages (or existing table files) cover the flow and bridge tables."""
    reason = buddy_mode(host)
    if reason is not None:
        verdict.not_applicable(reason)
    size = demand.settings.hugepage_size_kib
    assert size is not None  # buddy_mode() said so
    size_name = format_kib(size)
    facts = host.facts
    mounts = [m for m in facts.hugetlbfs_mounts or () if m.pagesize_kib == size]
    tables = {"flow": demand.flow_table_bytes, "bridge": demand.bridge_table_bytes}
    backed = {
        f.table
        for f in facts.hugetlbfs_files or ()
        if f.table in tables
        and any(m.mountpoint == f.directory for m in mounts)
        and f.size_bytes >= math.ceil(tables[f.table] / (size * 1024)) * size * 1024
    }
    still_needed = sum(math.ceil(tables[t] / (size * 1024)) for t in tables if t not in backed)
    pool = facts.hugepages.global_pool(size)
    verdict.attach_json(
        "hugepage backing",
        {
            "page_size": size_name,
            "pages_needed": demand.hugepages_needed,
            "tables_bytes": tables,
            "already_backed": sorted(backed),
            "mounts": [m.mountpoint for m in mounts],
            "pool": None if pool is None else {"total": pool.nr, "free": pool.free, "resv": pool.resv},
        },
    )
    if not mounts:
        verdict.conclude(
            False,
            f"no hugetlbfs mount with pagesize={size_name}: the agent cannot map its flow and bridge files "
            f"and the reload falls back to buddy allocation; mount one (e.g. /dev/hugepages{size_name})",
        )
    if pool is None or pool.free is None:
        verdict.conclude(False, f"the kernel has no {size_name} hugepage pool; vRouter is configured for {size_name}")
        return
    available = pool.free - (pool.resv or 0)
    where = ", ".join(m.mountpoint for m in mounts)
    if available < still_needed:
        verdict.conclude(
            False,
            f"{plural(available, f'{size_name} hugepage')} available (free {pool.free} − reserved {pool.resv or 0}), "
            f"the tables need {still_needed}: the reload would fall back to buddy allocation; "
            f"reserve {still_needed - available} more {size_name} pages",
        )
    reused = f"; {' and '.join(sorted(backed))} already on {where}" if backed else ""
    verdict.conclude(
        True,
        f"{size_name} hugepages back the tables: {still_needed} needed, {available} available "
        f"(free {pool.free} − reserved {pool.resv or 0}) on {where}{reused}",
    )
