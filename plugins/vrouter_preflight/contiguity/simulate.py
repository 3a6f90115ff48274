"""Replay the reload's buddy requests against the blocks the kernel would really hand out.

The zonelist modelled: the Normal zones of every node in node order, then the
DMA32 zones, then DMA (:data:`ATOMIC_ZONELIST`). Linux zonelists are
node-ordered and fall back across nodes; a task on node 0 would try node 0's
DMA32 before node 1's Normal. Which node runs the agent is not known, and the
order decides which zone gives a block, seldom whether the demand fits, since
each zone's blocks and floor are its own; Normal first keeps the protected low
zones for last. ``GFP_ATOMIC`` never reclaims or compacts, so only blocks free
now count.

Which block a request takes follows the buddy allocator for an unmovable
request (kernel 6.1 ``__rmqueue``): the smallest block of at least its order
on the zone's unmovable free lists, and failing that the LARGEST free block of
another migrate type (``__rmqueue_fallback`` steals the biggest block so that
whole pageblocks change type); the pieces left over from a split go onto the
unmovable lists, where the next small request finds them. ``/proc/buddyinfo``
does not say which free blocks are unmovable; ``/proc/pagetypeinfo`` does
(root only since 5.4). Without it none is assumed, so a 1 MiB remainder part
may cost a whole 4 MiB block: the safe reading.

Requests run smallest order first. vRouter makes its nexthop table and each
table's remainder part before later 4 MiB parts, so small requests meet the
4 MiB blocks still free; replaying them first is the worst case of any order,
so the verdict does not depend on which release orders its tables how. For
the same reason a part below the largest requested order is granted by the
zone where it uses up the most grantable blocks of that order, not by the
first zone of the zonelist: it is taken on the node the reload runs on, and
that node is not known. A
request that finds no block is counted in ``shortfall`` and the replay goes
on, so the shortfall is the whole gap, not just the first miss (vRouter itself
frees everything at the first miss). The replay's cost follows the zones' free
lists, not the number of blocks requested: blocks of the largest requested
order taken whole from one list are granted in one step, and once a request
finds no block the rest of its order are counted short at once.

Not modelled: per-CPU page lists. An order-9 request (the pageblock order,
which per-CPU lists also serve since 5.13) refills its CPU's list with two
blocks, so an odd number of them may take one 2 MiB block more than asked;
blocks already on those lists, invisible in buddyinfo, may serve a request
without touching the free lists at all. ``contiguity_spare_blocks`` covers both.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vrouter_preflight.contiguity.supply import ATOMIC_ZONELIST, ZoneSupply, zoneinfo_used


def count_usable_blocks(supply: ZoneSupply, order: int) -> int:
    """How many order-``order`` requests this zone alone would grant, splitting larger blocks.

    Zero for a zone the simulation does not count (above Normal, or a lower
    zone without zoneinfo). With a floor, at most ``headroom // 2**order``.

    >>> count_usable_blocks(ZoneSupply(0, "Normal", (0, 0, 3), 20, 11), 2)      # headroom 9: two of three
    2
    >>> count_usable_blocks(ZoneSupply(0, "Normal", (0, 0, 3), None, None), 1)  # no floor: 3 split in two
    6
    >>> count_usable_blocks(ZoneSupply(0, "DMA32", (0, 0, 3), None, None), 2)
    0
    """
    if order < 0:
        raise ValueError(f"negative order: {order}")
    if not supply.counted:
        return 0
    blocks = sum(count << (higher - order) for higher, count in enumerate(supply.free_blocks) if higher >= order)
    headroom = supply.headroom_pages
    if headroom is None:
        return blocks
    return min(blocks, max(0, headroom) >> order)


@dataclass(frozen=True)
class ZoneOutcome:
    """One zone after the replay: what it had, what an atomic request could use, what was taken.

    ``usable_blocks[k]`` is :func:`count_usable_blocks` before the replay, for
    every order of ``free_blocks``; ``taken`` maps order to blocks granted;
    ``left_blocks`` are the free lists after the replay, splits included.

    >>> outcome = ZoneOutcome(0, "Normal", True, (0, 2), (1, 1), {1: 1}, 10, 7, (0, 1))
    >>> outcome.usable_blocks[1], outcome.taken.get(0, 0), outcome.left_blocks
    (1, 0, (0, 1))
    """

    node: int
    zone: str
    counted: bool
    free_blocks: tuple[int, ...]
    usable_blocks: tuple[int, ...]
    taken: Mapping[int, int]
    free_pages: int | None
    floor_pages: int | None
    left_blocks: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReloadSimulation:
    """Result of :func:`simulate_reload`; mappings are order -> block count, largest order first.

    >>> sim = simulate_reload({10: 2}, [ZoneSupply(0, "Normal", (0,) * 10 + (1,), None, None)])
    >>> sim.fits, dict(sim.granted), dict(sim.shortfall), sim.zoneinfo_used
    (False, {10: 1}, {10: 1}, False)
    """

    fits: bool
    requested: Mapping[int, int]
    granted: Mapping[int, int]
    shortfall: Mapping[int, int]
    zones: tuple[ZoneOutcome, ...]
    zoneinfo_used: bool
    page_size: int | None = field(default=None)

    def describe(self) -> str:
        """A short operator message: verdict, shortfall, and free/usable blocks per zone and order.

        >>> supplies = [ZoneSupply(0, "Normal", (0,) * 10 + (2,), 2100, 600),
        ...             ZoneSupply(0, "DMA32", (0,) * 10 + (3,), 9000, 8000)]
        >>> print(simulate_reload({10: 3}, supplies, page_size=4096).describe())
        reload does not fit: 3 × order 10 (4 MiB) requested, 2 find no block
          node 0 Normal: order 10: 2 free, 1 usable (1,500 pages above its floor of 600)
          node 0 DMA32: order 10: 3 free, 0 usable (1,000 pages above its floor of 8,000)
        """
        orders = [order for order, count in self.requested.items() if count > 0]
        wanted = ", ".join(f"{self.requested[order]} × {self._order_name(order)}" for order in orders) or "nothing"
        missing = sum(self.shortfall.values())
        if self.fits:
            lines = [f"reload fits: {wanted} requested, all granted"]
        else:
            short = ", ".join(f"{count} × order {order}" for order, count in self.shortfall.items() if count)
            lines = [f"reload does not fit: {wanted} requested, {missing} find no block"]
            if len([count for count in self.shortfall.values() if count]) > 1:
                lines[0] += f" ({short})"
        if not self.zoneinfo_used:
            lines.append("  no /proc/zoneinfo: only Normal zones counted, without the atomic floor")
        for zone in self.zones:
            if not zone.counted:
                if any(zone.free_blocks[order] for order in orders if order < len(zone.free_blocks)):
                    reachable = zone.zone in ATOMIC_ZONELIST
                    why = "not counted without zoneinfo" if reachable else "not used by GFP_ATOMIC"
                    lines.append(f"  node {zone.node} {zone.zone}: {why}")
                continue
            per_order = "; ".join(
                f"order {order}: {_at(zone.free_blocks, order)} free, {_at(zone.usable_blocks, order)} usable"
                for order in orders
            )
            line = f"  node {zone.node} {zone.zone}: {per_order}"
            if zone.free_pages is not None and zone.floor_pages is not None:
                headroom = zone.free_pages - zone.floor_pages
                where = "above" if headroom >= 0 else "below"
                line += f" ({abs(headroom):,} pages {where} its floor of {zone.floor_pages:,})"
            lines.append(line)
        return "\n".join(lines)

    def _order_name(self, order: int) -> str:
        if self.page_size is None:
            return f"order {order}"
        return f"order {order} ({_size(self.page_size << order)})"


def _at(values: tuple[int, ...], order: int) -> int:
    return values[order] if order < len(values) else 0


def _size(size: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} B"


class _ZoneState:
    """Mutable free lists and headroom of one zone during the replay.

    ``unmovable`` are the zone's Unmovable free lists (pagetypeinfo's, then
    the pieces the replay's own splits leave there), taken smallest first;
    ``blocks`` the other free lists, taken largest first as the kernel's
    fallback does.
    """

    def __init__(self, supply: ZoneSupply) -> None:
        self.supply = supply
        known = supply.unmovable_blocks + (0,) * (len(supply.free_blocks) - len(supply.unmovable_blocks))
        self.unmovable = list(known)
        self.blocks = [free - unmovable for free, unmovable in zip(supply.free_blocks, known)]
        self.headroom = supply.headroom_pages
        self.taken: dict[int, int] = {}

    def take(self, order: int) -> bool:
        """Grant one block of ``order`` if the zone can; False (nothing changed) if not."""
        found = self._source(order)
        if found is None:
            return False
        pool, source = found
        pool[source] -= 1
        for split in range(order, source):
            self.unmovable[split] += 1
        if self.headroom is not None:
            self.headroom -= 1 << order
        self.taken[order] = self.taken.get(order, 0) + 1
        return True

    def take_up_to(self, order: int, wanted: int) -> int:
        """Grant up to ``wanted`` blocks of ``order`` one after the other, as :meth:`take` would; how many.

        Blocks taken whole from one free list go in one step, so the cost follows
        the zone's free lists, not the number of blocks asked for.
        """
        granted = 0
        while granted < wanted:
            found = self._source(order)
            if found is None:
                break
            pool, source = found
            if source > order:  # a split: its pieces change the lists, one block at a time
                granted += int(self.take(order))
                continue
            batch = min(wanted - granted, pool[source])
            if self.headroom is not None:
                batch = min(batch, self.headroom >> order)
                self.headroom -= batch << order
            pool[source] -= batch
            self.taken[order] = self.taken.get(order, 0) + batch
            granted += batch
        return granted

    def copy(self) -> _ZoneState:
        """A twin whose free lists and headroom change apart from these (the supply itself is frozen)."""
        twin = copy.copy(self)
        twin.unmovable, twin.blocks, twin.taken = list(self.unmovable), list(self.blocks), dict(self.taken)
        return twin

    def can_take(self, order: int) -> bool:
        return self._source(order) is not None

    def usable(self, order: int) -> int:
        """How many blocks of ``order`` the zone could still grant (splitting larger ones)."""
        blocks = sum((free + split) << (higher - order) for higher, (free, split) in self._pools_from(order))
        return blocks if self.headroom is None else min(blocks, max(0, self.headroom) >> order)

    def cost_of(self, order: int, top: int) -> int:
        """How many grantable blocks of order ``top`` granting one block of ``order`` here would use up."""
        trial = self.copy()
        trial.take(order)
        return self.usable(top) - trial.usable(top)

    def _pools_from(self, order: int) -> list[tuple[int, tuple[int, int]]]:
        return [(higher, (self.blocks[higher], self.unmovable[higher])) for higher in range(order, len(self.blocks))]

    def _source(self, order: int) -> tuple[list[int], int] | None:
        if not self.supply.counted or order >= len(self.blocks):
            return None
        if self.headroom is not None and (1 << order) > self.headroom:
            return None
        orders = range(order, len(self.blocks))
        source = next((higher for higher in orders if self.unmovable[higher]), None)
        if source is not None:
            return self.unmovable, source
        # __rmqueue_fallback: the largest block of another type
        source = next((higher for higher in reversed(orders) if self.blocks[higher]), None)
        return None if source is None else (self.blocks, source)

    @property
    def left_blocks(self) -> tuple[int, ...]:
        return tuple(free + split for free, split in zip(self.blocks, self.unmovable))


def _grantor(zonelist: Sequence[_ZoneState], order: int, top: int) -> _ZoneState | None:
    """The zone that grants a block of ``order``: the first in the zonelist that can, except that a
    part below the ``top`` order goes where it uses up the most grantable ``top``-order blocks (it runs
    on whichever node the reload runs on, which is not known)."""
    able = [state for state in zonelist if state.can_take(order)]
    if order >= top or len(able) < 2:
        return able[0] if able else None
    costs = [state.cost_of(order, top) for state in able]
    return able[costs.index(max(costs))]


def _zonelist_rank(supply: ZoneSupply) -> tuple[int, int]:
    rank = ATOMIC_ZONELIST.index(supply.zone) if supply.zone in ATOMIC_ZONELIST else len(ATOMIC_ZONELIST)
    return rank, supply.node


def simulate_reload(
    requests: Mapping[int, int], supplies: Sequence[ZoneSupply], *, page_size: int | None = None
) -> ReloadSimulation:
    """Replay ``requests`` (order -> count, margin already applied) against ``supplies``.

    See the module docstring for the zonelist and splitting rules.
    ``page_size`` only adds block sizes to :meth:`ReloadSimulation.describe`.

    >>> normal = ZoneSupply(0, "Normal", (0,) * 10 + (1,), None, None)
    >>> sim = simulate_reload({9: 2}, [normal])     # one order-10 block splits into two order-9
    >>> sim.fits, dict(sim.zones[0].taken)
    (True, {9: 2})
    >>> spare = ZoneSupply(0, "Normal", (0,) * 8 + (1, 0, 1), None, None)
    >>> simulate_reload({10: 1, 8: 1}, [spare]).fits  # the order-8 part splits the 4 MiB block
    False
    """
    for order, count in requests.items():
        if order < 0 or count < 0:
            raise ValueError(f"bad request: {count} blocks of order {order}")
    states = [_ZoneState(supply) for supply in supplies]
    zonelist = sorted((state for state in states if state.supply.counted), key=lambda s: _zonelist_rank(s.supply))
    granted: dict[int, int] = {}
    shortfall: dict[int, int] = {}
    requested = {order: requests[order] for order in sorted(requests, reverse=True)}
    top = max((order for order, count in requested.items() if count), default=0)
    for order in sorted(requested):
        granted[order] = shortfall[order] = 0
        remaining = requested[order]
        while remaining:
            grantor = _grantor(zonelist, order, top)
            if grantor is None:  # nothing grows during the replay: every later request of this order fails too
                shortfall[order] += remaining
                break
            taken = grantor.take_up_to(order, remaining) if order >= top else int(grantor.take(order))
            granted[order] += taken
            remaining -= taken
    outcomes = tuple(
        ZoneOutcome(
            node=state.supply.node,
            zone=state.supply.zone,
            counted=state.supply.counted,
            free_blocks=state.supply.free_blocks,
            usable_blocks=tuple(
                count_usable_blocks(state.supply, order) for order in range(len(state.supply.free_blocks))
            ),
            taken={order: state.taken[order] for order in sorted(state.taken, reverse=True)},
            free_pages=state.supply.free_pages,
            floor_pages=state.supply.floor_pages,
            left_blocks=state.left_blocks,
        )
        for state in states
    )
    return ReloadSimulation(
        fits=not any(shortfall.values()),
        requested=requested,
        granted=granted,
        shortfall=shortfall,
        zones=outcomes,
        zoneinfo_used=zoneinfo_used(supplies),
        page_size=page_size,
    )
