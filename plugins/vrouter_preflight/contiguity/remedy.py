"""The field workaround, planned: how many free 1G hugepages to give back, and on which node.

Freeing a free 1G page returns its GiB to the buddy allocator in the zone of
its node (normally Normal), where it coalesces to the largest order: with
4 KiB pages up to 256 order-10 blocks. The lab (domain notes, lab step 4)
measured +242 to +245 for a boot-time page on 6.1, the rest parked on per-CPU
lists or taken again within milliseconds; planning uses 240
(:data:`PLANNING_BLOCKS_PER_1G_4K`), scaled by ``240/256`` for other page
sizes. The zone's free pages grow by the pages of the blocks planned (245,760
for 240 blocks rather than the full 262,144: pages on per-CPU lists are not
counted free), which keeps the floor check conservative too.

Each node is planned alone: the fewest pages freed on *that* node that make
:func:`simulate_reload` fit, found by re-simulating (a bisection over the
count, so a few replays whatever the gap), not by dividing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from vrouter_preflight.contiguity.simulate import simulate_reload
from vrouter_preflight.contiguity.supply import NORMAL, ZoneSupply

GIB = 1 << 30
FULL_BLOCKS_PER_1G_4K = 256
MEASURED_BLOCKS_PER_1G_4K = (242, 245)
PLANNING_BLOCKS_PER_1G_4K = 240


def freed_1g_blocks(page_size: int, orders: int, blocks_per_1g_page: int | None = None) -> tuple[int, int]:
    """``(order, blocks)`` one freed 1G page is planned to add, for a zone with ``orders`` order columns.

    >>> freed_1g_blocks(4096, 11)            # 4 KiB pages, orders 0..10
    (10, 240)
    >>> freed_1g_blocks(65536, 14)           # 64 KiB pages: 16,384 pages = 2 order-13 blocks, plan 1
    (13, 1)
    >>> freed_1g_blocks(4096, 11, 256)
    (10, 256)
    """
    if page_size <= 0 or page_size & (page_size - 1) or page_size > GIB:
        raise ValueError(f"page size must be a power of two up to 1 GiB, got {page_size}")
    if orders <= 0:
        raise ValueError(f"a zone needs at least one order column, got {orders}")
    pages = GIB // page_size
    order = min(orders - 1, pages.bit_length() - 1)
    full = pages >> order
    if blocks_per_1g_page is None:
        return order, max(1, full * PLANNING_BLOCKS_PER_1G_4K // FULL_BLOCKS_PER_1G_4K)
    if not 0 < blocks_per_1g_page <= full:
        raise ValueError(f"a 1G page holds 1..{full} blocks of order {order}, not {blocks_per_1g_page}")
    return order, blocks_per_1g_page


def with_freed_1g(
    supplies: Sequence[ZoneSupply],
    node: int,
    pages_1g: int,
    *,
    page_size: int,
    blocks_per_1g_page: int | None = None,
) -> tuple[ZoneSupply, ...]:
    """``supplies`` as they would be after freeing ``pages_1g`` 1G pages into ``node``'s Normal zone.

    >>> normal = ZoneSupply(1, "Normal", (0,) * 11, 5000, 4000)
    >>> after = with_freed_1g([normal], 1, 2, page_size=4096)
    >>> after[0].free_blocks[10], after[0].free_pages
    (480, 496520)
    """
    if pages_1g < 0:
        raise ValueError(f"negative 1G page count: {pages_1g}")
    result = list(supplies)
    for index, supply in enumerate(result):
        if supply.node == node and supply.zone == NORMAL:
            order, blocks = freed_1g_blocks(page_size, len(supply.free_blocks), blocks_per_1g_page)
            added = blocks * pages_1g
            free_blocks = list(supply.free_blocks)
            free_blocks[order] += added
            free_pages = None if supply.free_pages is None else supply.free_pages + (added << order)
            result[index] = replace(supply, free_blocks=tuple(free_blocks), free_pages=free_pages)
            return tuple(result)
    raise ValueError(f"node {node} has no Normal zone to free 1G pages into")


@dataclass(frozen=True)
class Remedy:
    """Freeing ``pages_1g`` 1G pages on ``node`` alone would let the reload fit.

    From :func:`plan_freeing_1g` a remedy may also say what does *not* work:
    ``pages_1g`` more than ``free_1g_available``, or ``possible=False`` when no
    number of 1G pages on this node closes the gap (no Normal zone on it, or a
    request larger than the largest buddy block); ``pages_1g`` is then 0.

    >>> Remedy(0, 1, 14).describe()
    'free 1 × 1G page on node 0 (14 free)'
    >>> Remedy(1, 3, 2).closes_gap, Remedy(1, 3, 2).describe()
    (False, 'node 1 could give 2 but 3 are needed')
    """

    node: int
    pages_1g: int
    free_1g_available: int
    possible: bool = True

    @property
    def closes_gap(self) -> bool:
        """Whether the node has the 1G pages this needs.

        >>> Remedy(0, 2, 2).closes_gap, Remedy(0, 0, 5, possible=False).closes_gap
        (True, False)
        """
        return self.possible and self.pages_1g <= self.free_1g_available

    def describe(self) -> str:
        """One clause for the operator.

        >>> Remedy(2, 0, 4, possible=False).describe()
        'node 2: freeing its 1G pages alone cannot close the gap'
        """
        if not self.possible:
            return f"node {self.node}: freeing its 1G pages alone cannot close the gap"
        if self.closes_gap:
            return f"free {_pages(self.pages_1g)} on node {self.node} ({self.free_1g_available} free)"
        verb = "is" if self.pages_1g == 1 else "are"
        return f"node {self.node} could give {self.free_1g_available} but {self.pages_1g} {verb} needed"


def _pages(count: int) -> str:
    return f"{count} × 1G page{'' if count == 1 else 's'}"


def fewest(fits: Callable[[int], bool], most: int) -> int | None:
    """The smallest count from 1 to ``most`` that ``fits``, or None: a bisection, ``log2(most)`` calls.

    Freeing more pages never takes a block away, so ``fits`` is monotonic in
    the count and the bisection finds what a count-by-count search would, at a
    cost that does not grow with the gap (a zone far below its floor).

    >>> fewest(lambda count: count >= 37, 1000), fewest(lambda count: False, 1000), fewest(lambda count: True, 0)
    (37, None, None)
    """
    if most < 1 or not fits(most):
        return None
    low, high = 1, most  # fits(high) holds; every count below low does not fit
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    return high


def _fits_after_freeing(
    requests: Mapping[int, int],
    supplies: Sequence[ZoneSupply],
    node: int,
    page_size: int,
    blocks_per_1g_page: int | None,
    pages_1g: int,
) -> bool:
    after = with_freed_1g(supplies, node, pages_1g, page_size=page_size, blocks_per_1g_page=blocks_per_1g_page)
    return simulate_reload(requests, after).fits


def plan_freeing_1g(
    requests: Mapping[int, int],
    supplies: Sequence[ZoneSupply],
    free_1g_by_node: Mapping[int, int],
    *,
    page_size: int,
    blocks_per_1g_page: int | None = None,
) -> tuple[Remedy, ...]:
    """For every node of ``free_1g_by_node``, the fewest 1G pages freed there alone that make the reload fit.

    Unlike :func:`remedies_by_freeing_1g` this keeps the nodes that cannot
    close the gap, so :func:`describe_remedies` can say why. Empty when the
    reload already fits.

    >>> normal = [ZoneSupply(n, "Normal", (0,) * 10 + (1,), 300_000, 5_000) for n in (0, 1)]
    >>> for remedy in plan_freeing_1g({10: 300}, normal, {0: 1, 1: 3}, page_size=4096):
    ...     print(remedy.describe())
    node 0 could give 1 but 2 are needed
    free 2 × 1G pages on node 1 (3 free)
    """
    if simulate_reload(requests, supplies).fits:
        return ()
    wanted_pages = sum(count << order for order, count in requests.items())
    plan: list[Remedy] = []
    for node in sorted(free_1g_by_node):
        available = max(0, free_1g_by_node[node])
        normal = next((s for s in supplies if s.node == node and s.zone == NORMAL), None)
        if normal is None:
            plan.append(Remedy(node, 0, available, possible=False))
            continue
        order, blocks = freed_1g_blocks(page_size, len(normal.free_blocks), blocks_per_1g_page)
        deficit = max(0, -(normal.headroom_pages or 0))
        enough = -(-(wanted_pages + deficit) // (blocks << order)) + 1
        freeing = partial(_fits_after_freeing, requests, supplies, node, page_size, blocks_per_1g_page)
        needed = fewest(freeing, enough)
        plan.append(Remedy(node, needed or 0, available, possible=needed is not None))
    return tuple(plan)


def remedies_by_freeing_1g(
    requests: Mapping[int, int],
    supplies: Sequence[ZoneSupply],
    free_1g_by_node: Mapping[int, int],
    *,
    page_size: int,
    blocks_per_1g_page: int | None = None,
) -> tuple[Remedy, ...]:
    """The nodes where freeing their own free 1G pages closes the gap, fewest pages first.

    ``free_1g_by_node`` is free minus reserved 1G pages per node. Empty when
    the reload fits already or no node can close the gap; for the message in
    the second case pass :func:`plan_freeing_1g` to :func:`describe_remedies`.

    >>> normal = [ZoneSupply(n, "Normal", (0,) * 10 + (1,), None, None) for n in (0, 1)]
    >>> remedies = remedies_by_freeing_1g({10: 44}, normal, {0: 14, 1: 14}, page_size=4096)
    >>> describe_remedies(remedies)
    'free 1 × 1G page on node 0 or on node 1'
    """
    plan = plan_freeing_1g(
        requests, supplies, free_1g_by_node, page_size=page_size, blocks_per_1g_page=blocks_per_1g_page
    )
    return tuple(sorted((r for r in plan if r.closes_gap), key=lambda r: (r.pages_1g, r.node)))


def describe_remedies(remedies: Sequence[Remedy]) -> str:
    """One sentence for the operator from :func:`remedies_by_freeing_1g` or :func:`plan_freeing_1g`.

    >>> describe_remedies([Remedy(1, 1, 14), Remedy(0, 2, 14)])
    'free 1 × 1G page on node 1, or 2 × 1G pages on node 0'
    >>> for part in describe_remedies([Remedy(0, 3, 2), Remedy(1, 0, 0, possible=False)]).split("; "):
    ...     print(part)
    no node has enough free 1G pages: node 0 could give 2 but 3 are needed
    node 1: freeing its 1G pages alone cannot close the gap
    >>> describe_remedies([])
    'no node has free 1G pages that would close the gap'
    """
    closing = sorted((r for r in remedies if r.closes_gap), key=lambda r: (r.pages_1g, r.node))
    if closing:
        by_count: dict[int, list[int]] = {}
        for remedy in closing:
            by_count.setdefault(remedy.pages_1g, []).append(remedy.node)
        return "free " + ", or ".join(
            f"{_pages(count)} on " + " or on ".join(f"node {node}" for node in nodes)
            for count, nodes in by_count.items()
        )
    if not remedies:
        return "no node has free 1G pages that would close the gap"
    reasons = "; ".join(remedy.describe() for remedy in sorted(remedies, key=lambda r: r.node))
    return f"no node has enough free 1G pages: {reasons}"
