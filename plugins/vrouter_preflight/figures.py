"""What a reload needs and what a host has, as the JSON summary and the certificates write them.

Pure functions of the typed facts: orders and sizes become string keys, and a
fact that could not be read is ``null`` (absent is never zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vrouter_preflight.facts.buddyinfo import BuddyInfo
from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
from vrouter_preflight.facts.sizes import format_kib


def demand_json(blocks_by_order: Mapping[int, int], hugepages_needed: Mapping[int, int]) -> dict[str, Any]:
    """What vRouter needs: free blocks per buddy order, hugepages per page size (KiB).

    Orders become string keys, highest first; page sizes are written as the
    kernel's ``hugepagesz=`` would (``1G``, ``2M``), largest first.

    >>> demand_json({8: 1, 10: 44, 9: 2}, {1048576: 2, 2048: 0})
    {'buddy_blocks': {'10': 44, '9': 2, '8': 1}, 'hugepages': {'1G': 2, '2M': 0}}
    """
    for order, count in blocks_by_order.items():
        if order < 0 or count < 0:
            raise ValueError(f"buddy demand order {order}: {count} blocks; neither may be negative")
    for size_kib, pages in hugepages_needed.items():
        if size_kib <= 0 or pages < 0:
            raise ValueError(f"hugepage demand {size_kib} KiB: {pages} pages; want a positive size, pages >= 0")
    return {
        "buddy_blocks": {str(order): blocks_by_order[order] for order in sorted(blocks_by_order, reverse=True)},
        "hugepages": {format_kib(size): hugepages_needed[size] for size in sorted(hugepages_needed, reverse=True)},
    }


def _pool_json(pool: HugepagePool, *, full: bool) -> dict[str, int | None]:
    counts: dict[str, int | None] = {"total": pool.nr, "free": pool.free, "surplus": pool.surplus}
    if full:
        counts.update(resv=pool.resv, overcommit=pool.overcommit)
    return counts


def supply_json(buddyinfo: BuddyInfo | None, hugepage_pools: HugepagePools | None) -> dict[str, Any]:
    """What the host has: free blocks per node and zone, hugepage pools per size and node.

    Node keys are strings; hugepage size keys are the KiB number as sysfs names
    it (``"1048576"``). A fact that could not be read is ``null``, and so is a
    pool count whose file was not captured: absent is never zero.
    ``hugepages`` holds the per-node pools (a size with only a global pool maps
    to ``{}``); ``hugepages_global`` the global ones.

    >>> from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
    >>> buddy = parse_buddyinfo("Node 0, zone Normal 5 4 3\\nNode 1, zone Normal 0 0 1\\n")
    >>> pools = HugepagePools((HugepagePool(2048, None, 8, 8, 0, 0, 8, 0), HugepagePool(2048, 0, 8, 8, 0)))
    >>> s = supply_json(buddy, pools)
    >>> s["free_blocks"], s["hugepages"]
    ({'0': {'Normal': [5, 4, 3]}, '1': {'Normal': [0, 0, 1]}}, {'2048': {'0': {'total': 8, 'free': 8, 'surplus': 0}}})
    >>> s["hugepages_global"]
    {'2048': {'total': 8, 'free': 8, 'surplus': 0, 'resv': 0, 'overcommit': 0}}
    >>> supply_json(None, None)
    {'free_blocks': None, 'hugepages': None, 'hugepages_global': None}
    """
    free_blocks: dict[str, dict[str, list[int]]] | None = None
    if buddyinfo is not None:
        free_blocks = {}
        for zone in buddyinfo.zones:
            free_blocks.setdefault(str(zone.node), {})[zone.zone] = list(zone.free_blocks)
    per_node: dict[str, dict[str, dict[str, int | None]]] | None = None
    global_pools: dict[str, dict[str, int | None]] | None = None
    if hugepage_pools is not None:
        per_node = {}
        global_pools = {}
        for size in hugepage_pools.sizes_kib:
            per_node[str(size)] = {
                str(pool.node): _pool_json(pool, full=False) for pool in hugepage_pools.node_pools(size)
            }
            global_pool = hugepage_pools.global_pool(size)
            if global_pool is not None:
                global_pools[str(size)] = _pool_json(global_pool, full=True)
    return {"free_blocks": free_blocks, "hugepages": per_node, "hugepages_global": global_pools}
