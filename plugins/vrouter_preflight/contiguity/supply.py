"""What each zone can hand to an atomic high-order request: free blocks and the floor.

vRouter's table chunks come from ``__get_free_pages(GFP_ATOMIC | ...)``. Such a
request may take a block from a zone only while the zone stays above a floor
(kernel 6.1 ``__zone_watermark_ok``): a block of order ``k`` is granted only
while ``free_pages - (2**k - 1) > floor_pages``, where the floor is about 3/8
of the zone's ``min`` watermark plus the zone's ``lowmem_reserve`` against a
Normal-preferring request (``protection[Normal]`` in ``/proc/zoneinfo``; 0 for
a Normal zone itself). Measured in the lab (domain notes §9): with this floor
the prediction had no false pass in 81 scenarios; buddyinfo alone had 8.

Not modelled (each makes the reading optimistic by a little):
free CMA pages (``nr_free_cma``), which an unmovable request may not use; and
the per-order check of kernels before about 4.4 (removed by "mm, page_alloc:
only enforce watermarks for order-0 allocations"), which could refuse a
zone's last high-order block.

The two files must tell of one host at one moment: for every zone in both,
the free pages buddyinfo's blocks make (``count * 2**order`` summed) must be
zoneinfo's ``pages free`` within :func:`free_pages_tolerance`, else
:class:`FreePagesDisagree`. Both leave out the pages on the per-CPU lists, in
every kernel: ``rmqueue_bulk`` takes pages off ``NR_FREE_PAGES`` as it moves
them from the free lists to a CPU's list (since 2.6; ``account_freepages``
since 6.10) and ``free_pcppages_bulk`` adds them back as they return. What
does differ:

- the counter lags the free lists by up to one ``vm stats threshold`` per CPU
  (``__mod_zone_page_state`` folds a CPU's differential only past it; at
  most 125, ``calculate_normal_threshold``; zoneinfo prints it per CPU);
- free pages in an isolated pageblock (memory going offline, a CMA or 1G
  allocation while it runs) are on the free lists but not in the counter;
- the files are read a moment apart: pages allocated and freed meanwhile, and
  a drain of the per-CPU lists (at most their ``high`` each) all at once.

Measured: this machine (6.18, 2 CPUs, 7.5 GiB Normal) read both files back to
back as the capture does, 1,100 times idle: at most 26 pages apart; 1,400 times
while a process touched and freed 256 MiB in a loop: at most 2,014 pages
(0.10 % of the zone), against a tolerance of 45,095 or more (the lists' high
dominates since 6.7 tunes it up); the rhcos sosreport in the corpus 1,182
pages in DMA32 (0.12 %, tolerance 4,307); the other paired captures 0 to 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vrouter_preflight.facts.buddyinfo import BuddyInfo
from vrouter_preflight.facts.pagetypeinfo import PageTypeInfo
from vrouter_preflight.facts.zoneinfo import ZoneInfo, ZonePagesets, ZoneWatermarks

NORMAL = "Normal"

#: The most a zone's free pages are taken to change between two reads a moment apart: 1/256 of its pages.
#: At most 0.12 % was seen (module docstring); 0.4 % leaves room for a busier host or a slower read.
BETWEEN_READS_SHARE = 256

ATOMIC_ZONELIST = (NORMAL, "DMA32", "DMA")
"""Zones a ``GFP_ATOMIC`` request may use (its highest zone is Normal), in the order tried.

HighMem, Movable and Device lie above Normal and are never used by it.
"""


def atomic_floor(min_pages: int, protection_against_normal: int) -> int:
    """Pages a zone keeps back from a ``GFP_ATOMIC`` request: the kernel's atomic watermark.

    ``__zone_watermark_ok`` (6.1; same arithmetic since 2.6 and after the 6.3
    rename to ``ALLOC_MIN_RESERVE`` + ``ALLOC_NON_BLOCK``) lowers ``min`` by
    half for ``__GFP_HIGH``, then by a quarter of the rest for a request that
    cannot block, and adds ``lowmem_reserve[highest zone]``. Integer division,
    as in the kernel.

    >>> atomic_floor(11_498, 0)      # 11498 - 5749 = 5749; 5749 - 1437 = 4312
    4312
    >>> atomic_floor(8178, 4065)     # a DMA32 zone and its protection[Normal]
    7132
    >>> atomic_floor(0, 0), atomic_floor(1, 0)
    (0, 1)
    """
    if min_pages < 0 or protection_against_normal < 0:
        raise ValueError(f"negative watermark: min {min_pages}, protection {protection_against_normal}")
    reserve = min_pages - min_pages // 2
    reserve -= reserve // 4
    return reserve + protection_against_normal


@dataclass(frozen=True)
class ZoneSupply:
    """Free blocks of one zone and, with ``/proc/zoneinfo``, its free pages and atomic floor.

    ``floor_pages is None`` means no zoneinfo was read: no floor is applied,
    and only a Normal zone is then counted (the safe reading of buddyinfo
    alone, since lower zones may be protected). ``headroom_pages`` is what
    atomic requests may still take before the floor stops them.
    ``unmovable_blocks[k]`` is how many of ``free_blocks[k]`` sit on the
    Unmovable free lists (``/proc/pagetypeinfo``); empty when not known, and
    then none is assumed (the replay's worst case, see ``simulate``).

    >>> supply = ZoneSupply(0, "Normal", (0, 0, 3), free_pages=20, floor_pages=11)
    >>> supply.headroom_pages, supply.atomic_reachable, supply.counted
    (9, True, True)
    >>> ZoneSupply(0, "DMA32", (0, 0, 3), None, None).counted      # no floor known: not counted
    False
    >>> ZoneSupply(0, "Movable", (0, 0, 3), 12, 0).atomic_reachable
    False
    """

    node: int
    zone: str
    free_blocks: tuple[int, ...]
    free_pages: int | None
    floor_pages: int | None
    unmovable_blocks: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if (self.free_pages is None) != (self.floor_pages is None):
            raise ValueError(f"node {self.node} {self.zone}: free_pages and floor_pages come together (zoneinfo)")
        if any(count < 0 for count in self.free_blocks):
            raise ValueError(f"node {self.node} {self.zone}: negative block count in {self.free_blocks}")
        if (self.free_pages or 0) < 0 or (self.floor_pages or 0) < 0:
            raise ValueError(f"node {self.node} {self.zone}: negative free or floor pages")
        if len(self.unmovable_blocks) > len(self.free_blocks) or any(
            not 0 <= unmovable <= free for unmovable, free in zip(self.unmovable_blocks, self.free_blocks)
        ):
            raise ValueError(
                f"node {self.node} {self.zone}: unmovable blocks {self.unmovable_blocks} not within {self.free_blocks}"
            )

    @property
    def atomic_reachable(self) -> bool:
        """Whether a ``GFP_ATOMIC`` request may use this zone at all (Normal, DMA32, DMA).

        >>> ZoneSupply(1, "HighMem", (1,), None, None).atomic_reachable
        False
        """
        return self.zone in ATOMIC_ZONELIST

    @property
    def counted(self) -> bool:
        """Whether the reload simulation uses this zone: reachable, and with a floor unless Normal.

        >>> ZoneSupply(0, "Normal", (1,), None, None).counted
        True
        """
        return self.atomic_reachable and (self.floor_pages is not None or self.zone == NORMAL)

    @property
    def headroom_pages(self) -> int | None:
        """``free_pages - floor_pages`` (can be negative), or ``None`` without zoneinfo.

        A block of order ``k`` is granted while ``2**k <= headroom``, which is
        the kernel's ``free - (2**k - 1) > floor``.

        >>> ZoneSupply(0, "Normal", (1,), 100, 120).headroom_pages
        -20
        """
        if self.free_pages is None or self.floor_pages is None:
            return None
        return self.free_pages - self.floor_pages


def normal_protection_index(zoneinfo: ZoneInfo) -> int | None:
    """Index of the Normal zone in every ``protection: (...)`` tuple, or ``None`` if no node lists Normal.

    ``protection`` is indexed by zone type in kernel order (DMA, DMA32, Normal,
    HighMem or Movable, Device), but which types exist depends on the
    architecture and configuration: 32-bit ARM may have only Normal and
    HighMem, s390 DMA and Normal. So the index is Normal's position among the
    zones zoneinfo lists for a node, in file order. Kernels since 4.12 list
    every zone type on every node, empty ones included; older ones list only
    populated zones, so take the largest position seen on any node (a node
    whose lower zones are empty lists Normal first). An empty type below Normal
    on every node of an old kernel would still shift the index down by one; it
    has never been seen in the corpus.

    >>> from vrouter_preflight.facts.zoneinfo import parse_zoneinfo
    >>> normal_protection_index(parse_zoneinfo("Node 0, zone DMA\\n pages free 1\\n min 0\\n low 0\\n high 0\\n"
    ...     " protection: (0, 5, 9)\\nNode 0, zone Normal\\n pages free 1\\n min 0\\n low 0\\n high 0\\n"
    ...     " protection: (0, 0, 0)\\n"))
    1
    """
    positions: list[int] = []
    for node in zoneinfo.nodes:
        names = [zone.zone for zone in zoneinfo.zones if zone.node == node]
        if NORMAL in names:
            positions.append(names.index(NORMAL))
    return max(positions) if positions else None


def protection_against_normal(zone: ZoneWatermarks, normal_index: int | None) -> int:
    """The zone's ``lowmem_reserve`` against a Normal-preferring request.

    Without a known Normal index (no node lists a Normal zone) or with a
    shorter tuple, the largest entry is used: reserves grow with the
    requesting zone's index, so that is never less than the true one.

    >>> from vrouter_preflight.facts.zoneinfo import ZoneWatermarks
    >>> dma32 = ZoneWatermarks(0, "DMA32", 9000, 8178, 0, 0, None, None, None, (0, 0, 4065, 4065, 4065))
    >>> protection_against_normal(dma32, 2), protection_against_normal(dma32, None)
    (4065, 4065)
    """
    if normal_index is not None and normal_index < len(zone.protection):
        return zone.protection[normal_index]
    return max(zone.protection, default=0)


class FreePagesDisagree(ValueError):
    """buddyinfo's free blocks and zoneinfo's ``pages free`` of one zone are further apart than two reads explain."""


def zone_pages(marks: ZoneWatermarks) -> int:
    """The zone's size in pages: ``managed``, else ``present``, else ``spanned`` (0 when none is printed).

    >>> zone_pages(ZoneWatermarks(0, "Normal", 10, 1, 2, 3, 4_096, 4_000, None, (0,)))
    4000
    """
    for size in (marks.managed, marks.present, marks.spanned):
        if size is not None:
            return size
    return 0


def free_pages_tolerance(marks: ZoneWatermarks, pageset: ZonePagesets | None) -> int:
    """How far apart buddyinfo's and zoneinfo's free pages of one zone may be (see the module docstring).

    The CPUs' ``vm stats threshold`` (the counter's lag), plus their lists'
    ``high`` (a drain between the reads), plus 1/:data:`BETWEEN_READS_SHARE`
    of the zone (allocations and frees between the reads).

    >>> from vrouter_preflight.facts.zoneinfo import ZonePagesets
    >>> dma32 = ZoneWatermarks(0, "DMA32", 122_008, 8_178, 0, 0, 1_044_480, 1_011_520, 995_127, (0,))
    >>> free_pages_tolerance(dma32, ZonePagesets(0, "DMA32", cpus=2, high_pages=372, stat_threshold_pages=48))
    4307
    >>> free_pages_tolerance(dma32, None)
    3887
    """
    lists = 0 if pageset is None else pageset.stat_threshold_pages + pageset.high_pages
    return lists + zone_pages(marks) // BETWEEN_READS_SHARE


def check_free_pages_agree(buddyinfo: BuddyInfo, zoneinfo: ZoneInfo) -> None:
    """Raise :class:`FreePagesDisagree` for the first zone whose two free-page figures are too far apart.

    Zones only one file lists are left to :func:`zone_supplies`.

    >>> from vrouter_preflight.facts.buddyinfo import BuddyZone
    >>> zi = ZoneInfo((ZoneWatermarks(0, "Normal", 1_000, 8, 9, 10, None, None, 262_144, (0,)),))
    >>> check_free_pages_agree(BuddyInfo((BuddyZone(0, "Normal", (0,) * 10 + (1,)),)), zi)   # 24 apart
    >>> try:
    ...     check_free_pages_agree(BuddyInfo((BuddyZone(0, "Normal", (0,) * 10 + (3,)),)), zi)
    ... except FreePagesDisagree as error:
    ...     print(error)  # doctest: +ELLIPSIS
    node 0 Normal: buddyinfo's free blocks make 3,072 free pages, zoneinfo's pages free says 1,000 (2,072 apart; ...)
    """
    for zone in buddyinfo.zones:
        marks = zoneinfo.zone(zone.node, zone.zone)
        if marks is None:
            continue
        tolerance = free_pages_tolerance(marks, zoneinfo.pageset(zone.node, zone.zone))
        apart = abs(zone.free_pages - marks.free_pages)
        if apart > tolerance:
            raise FreePagesDisagree(
                f"node {zone.node} {zone.zone}: buddyinfo's free blocks make {zone.free_pages:,} free pages, "
                f"zoneinfo's pages free says {marks.free_pages:,} ({apart:,} apart; two reads a moment apart "
                f"differ by at most {tolerance:,} here)"
            )


def zone_supplies(
    buddyinfo: BuddyInfo, zoneinfo: ZoneInfo | None, pagetypeinfo: PageTypeInfo | None = None
) -> tuple[ZoneSupply, ...]:
    """One :class:`ZoneSupply` per buddyinfo zone, with its atomic floor when zoneinfo is given.

    With ``zoneinfo``: every buddyinfo zone (DMA, DMA32, Normal, HighMem,
    Movable, ...), ``free_pages`` from zoneinfo's ``pages free`` and
    ``floor_pages = atomic_floor(min, protection[Normal])`` (see
    :func:`normal_protection_index`). A buddyinfo zone that zoneinfo lacks
    means the two files are not from one host: ``ValueError``; free pages
    too far apart (:func:`check_free_pages_agree`): :class:`FreePagesDisagree`.

    Without ``zoneinfo``: only the Normal zones, with ``free_pages`` and
    ``floor_pages`` ``None`` -- no floor can be applied, and lower zones may be
    protected, so counting only Normal is the safe reading.
    :class:`ReloadSimulation` reports it as ``zoneinfo_used=False``.

    With ``pagetypeinfo``: each zone's Unmovable free blocks, each order capped
    at buddyinfo's count (the files are read a moment apart).

    >>> from vrouter_preflight.facts.buddyinfo import BuddyZone
    >>> buddy = BuddyInfo((BuddyZone(0, "DMA32", (0, 5)), BuddyZone(0, "Normal", (2, 1))))
    >>> zone_supplies(buddy, None)
    (ZoneSupply(node=0, zone='Normal', free_blocks=(2, 1), free_pages=None, floor_pages=None, unmovable_blocks=()),)
    >>> from vrouter_preflight.facts.zoneinfo import ZoneWatermarks
    >>> zi = ZoneInfo((ZoneWatermarks(0, "DMA32", 10, 8, 9, 10, None, None, None, (0, 3, 3)),
    ...                ZoneWatermarks(0, "Normal", 4, 8, 9, 10, None, None, None, (0, 0, 0))))
    >>> [(s.zone, s.free_pages, s.floor_pages) for s in zone_supplies(buddy, zi)]
    [('DMA32', 10, 6), ('Normal', 4, 3)]
    """
    supplies: list[ZoneSupply] = []
    normal_index = None if zoneinfo is None else normal_protection_index(zoneinfo)
    if zoneinfo is not None:
        check_free_pages_agree(buddyinfo, zoneinfo)
    for zone in buddyinfo.zones:
        unmovable = _unmovable_blocks(pagetypeinfo, zone.node, zone.zone, zone.free_blocks)
        if zoneinfo is None:
            if zone.zone == NORMAL:
                supplies.append(ZoneSupply(zone.node, zone.zone, zone.free_blocks, None, None, unmovable))
            continue
        marks = zoneinfo.zone(zone.node, zone.zone)
        if marks is None:
            raise ValueError(
                f"buddyinfo has node {zone.node} zone {zone.zone} but zoneinfo does not: not from the same host?"
            )
        floor = atomic_floor(marks.min_pages, protection_against_normal(marks, normal_index))
        supplies.append(ZoneSupply(zone.node, zone.zone, zone.free_blocks, marks.free_pages, floor, unmovable))
    return tuple(supplies)


def _unmovable_blocks(
    pagetypeinfo: PageTypeInfo | None, node: int, zone: str, free_blocks: tuple[int, ...]
) -> tuple[int, ...]:
    if pagetypeinfo is None:
        return ()
    row = next((r for r in pagetypeinfo.zone_free(node, zone) if r.migrate_type == "Unmovable"), None)
    if row is None:
        return ()
    return tuple(
        min(row.free_blocks[order], free) if order < len(row.free_blocks) else 0
        for order, free in enumerate(free_blocks)
    )


def zoneinfo_used(supplies: Sequence[ZoneSupply]) -> bool:
    """Whether every supply carries a zoneinfo floor (and there is at least one).

    >>> zoneinfo_used([ZoneSupply(0, "Normal", (1,), 9, 3)]), zoneinfo_used([])
    (True, False)
    """
    return bool(supplies) and all(supply.floor_pages is not None for supply in supplies)
