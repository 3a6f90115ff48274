"""What a vRouter module reload asks of the node's memory (domain notes §1.3, §2.4, §3.4).

Buddy mode: every btable part of the flow and bridge hash tables (main,
overflow, and the delete-data table of 16-byte records, one per bucket of 4
main entries, made only when there is an overflow table), plus the nexthop
table (``nexthops * 8`` bytes) made at ``modprobe``. The delete-data table
is a btable too (``__vr_htable_create``: ``vr_btable_alloc(entries / 4, 16)``):
with 4M flows it is 16 MiB, four 4 MiB parts, which is how §1.3 reaches 316.

Hugepage mode (R2005+): the flow and bridge tables live in hugepage-backed
files (each file rounded up to whole hugepages); the buddy allocator still
serves the nexthop table, both delete-data tables, and the ``struct page *``
arrays the kernel uses to pin each file (``get_order(npages * 8)``,
``linux/vr_mem.c``).

Not modelled (small, and the §9 measurement of a default reload used only
the blocks above): MPLS ILM, interface/VRF arrays, the fragment table.

The largest order a node's buddy allocator serves depends on the
architecture and kernel (10 on x86-64; more on arm64 with 64 KiB pages), so
it is left to the caller, who reads it from ``/proc/buddyinfo``:
:meth:`VrouterDemand.too_large` lists the requests that can never succeed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from vrouter_preflight.demand.allocator import CHUNK_BYTES, BuddyRequest, btable_requests, check_page_size, get_order
from vrouter_preflight.demand.settings import BRIDGE_ENTRY_BYTES, VrouterSettings

ENTRIES_PER_BUCKET = 4  # VR_HENTRIES_PER_BUCKET, dp-core/vr_htable.c
DELETE_DATA_BYTES = 16  # struct vr_hentry_delete_data
POINTER_BYTES = 8  # a nexthop table slot, a struct page * (64-bit kernels)


@dataclass(frozen=True)
class VrouterDemand:
    """Every allocation a vRouter reload makes, for one node's base page size.

    ``buddy_requests`` are largest order first (allocation order kept within
    an order); ``hugepages_needed`` maps a hugepage size in KiB to pages and
    is empty in buddy mode.

    >>> from vrouter_preflight.demand import vrouter_settings
    >>> from vrouter_preflight.demand import VrouterOverrides
    >>> d = vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096)
    >>> d.flow_table_bytes, d.bridge_table_bytes, d.blocks_by_order()
    (161218560, 20185088, {10: 44, 9: 2, 8: 1})
    """

    settings: VrouterSettings
    page_size: int
    chunk_order: int
    flow_table_bytes: int
    bridge_table_bytes: int
    buddy_requests: tuple[BuddyRequest, ...]
    hugepages_needed: Mapping[int, int]

    def blocks_by_order(self) -> dict[int, int]:
        """Number of blocks needed per order, largest order first.

        >>> from vrouter_preflight.demand import vrouter_settings
        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_demand(vrouter_settings(VrouterOverrides(release="R1910"), {}), 4096).blocks_by_order()
        {10: 24, 9: 1, 8: 2, 7: 1}
        """
        blocks: dict[int, int] = {}
        for request in self.buddy_requests:
            blocks[request.order] = blocks.get(request.order, 0) + request.count
        return dict(sorted(blocks.items(), reverse=True))

    def blocks_with_margin(self) -> dict[int, int]:
        """What the gate asks of free memory: :meth:`blocks_by_order` times ``contiguity_margin``,
        each rounded up, plus :attr:`spare_blocks` at the chunk order.

        The product is taken in decimal, so 100 blocks with margin 1.1 need 110, not 111.

        >>> from vrouter_preflight.demand import vrouter_settings
        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096).blocks_with_margin()
        {10: 46, 9: 2, 8: 1}
        >>> s = vrouter_settings(VrouterOverrides(contiguity_margin=1.1, contiguity_spare_blocks=0), {})
        >>> vrouter_demand(s, 4096).blocks_with_margin()
        {10: 49, 9: 3, 8: 2}
        """
        margin = Decimal(repr(self.settings.contiguity_margin))
        blocks = {order: math.ceil(count * margin) for order, count in self.blocks_by_order().items()}
        if self.spare_blocks:
            blocks[self.chunk_order] += self.spare_blocks
        return blocks

    @property
    def spare_blocks(self) -> int:
        """``contiguity_spare_blocks`` when the reload asks for chunk-order blocks at all, else 0.

        >>> from vrouter_preflight.demand import vrouter_settings
        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096).spare_blocks
        2
        >>> small = VrouterOverrides(release="R2011", hugepage_size="1G", flow_entries=262144, nexthops=65536)
        >>> vrouter_demand(vrouter_settings(small, {}), 4096).spare_blocks      # nothing above order 8
        0
        """
        return self.settings.contiguity_spare_blocks if self.chunk_order in self.blocks_by_order() else 0

    def too_large(self, max_order: int) -> tuple[BuddyRequest, ...]:
        """The requests above ``max_order`` (the last ``/proc/buddyinfo`` column): they always fail.

        >>> from vrouter_preflight.demand import vrouter_settings
        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> s = vrouter_settings(VrouterOverrides(flow_entries=8_388_608, hugepage_size="1G"), {})
        >>> [(r.order, r.purpose) for r in vrouter_demand(s, 4096).too_large(10)]
        [(11, 'flow table: struct page * array pinning its hugepage file (5,033,472 B)')]
        """
        return tuple(request for request in self.buddy_requests if request.order > max_order)

    @property
    def buddy_bytes(self) -> int:
        """Bytes of all buddy blocks together.

        >>> from vrouter_preflight.demand import vrouter_settings
        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096).buddy_bytes // (1 << 20)
        181
        """
        return sum(request.total_bytes(self.page_size) for request in self.buddy_requests)


def _hash_table_requests(
    what: str, entries: int, oentries: int, entry_bytes: int, page_size: int, *, in_hugepages: bool
) -> list[BuddyRequest]:
    """``__vr_htable_create``: main (entries rounded up to a bucket), overflow, delete data."""
    main = -(-entries // ENTRIES_PER_BUCKET) * ENTRIES_PER_BUCKET
    requests: list[BuddyRequest] = []
    if not in_hugepages:
        requests += btable_requests(f"{what}: main entries", main, entry_bytes, page_size)
        requests += btable_requests(f"{what}: overflow entries", oentries, entry_bytes, page_size)
    if oentries:
        requests += btable_requests(f"{what}: delete data", main // ENTRIES_PER_BUCKET, DELETE_DATA_BYTES, page_size)
    return requests


def _page_array(what: str, table_bytes: int, page_size: int) -> BuddyRequest:
    size = -(-table_bytes // page_size) * POINTER_BYTES
    return BuddyRequest(
        get_order(size, page_size), 1, f"{what}: struct page * array pinning its hugepage file ({size:,} B)"
    )


def vrouter_demand(settings: VrouterSettings, page_size: int) -> VrouterDemand:
    """The demand of a reload with ``settings`` on a node with ``page_size``-byte base pages.

    >>> from vrouter_preflight.demand import vrouter_settings
    >>> from vrouter_preflight.demand import VrouterOverrides
    >>> s = vrouter_settings(VrouterOverrides(), {})
    >>> vrouter_demand(s, 65536).blocks_by_order()
    {6: 44, 5: 2, 4: 1}
    >>> hp = vrouter_demand(vrouter_settings(VrouterOverrides(hugepage_size="2M"), {}), 4096)
    >>> dict(hp.hugepages_needed), hp.blocks_by_order()
    ({2048: 87}, {10: 1, 9: 1, 8: 1, 7: 1, 4: 1})
    """
    check_page_size(page_size)
    flow_bytes = settings.flow_table_entries * settings.flow_entry_bytes
    bridge_bytes = (settings.bridge_entries + settings.bridge_oentries) * BRIDGE_ENTRY_BYTES
    in_hugepages = settings.hugepage_mode and settings.hugepage_size_kib is not None

    requests = btable_requests("nexthop table", settings.nexthops, POINTER_BYTES, page_size)
    requests += _hash_table_requests(
        "bridge table",
        settings.bridge_entries,
        settings.bridge_oentries,
        BRIDGE_ENTRY_BYTES,
        page_size,
        in_hugepages=in_hugepages,
    )
    requests += _hash_table_requests(
        "flow table",
        settings.flow_entries,
        settings.oflow_entries,
        settings.flow_entry_bytes,
        page_size,
        in_hugepages=in_hugepages,
    )
    hugepages: dict[int, int] = {}
    if in_hugepages and settings.hugepage_size_kib is not None:
        hp_bytes = settings.hugepage_size_kib * 1024
        hugepages[settings.hugepage_size_kib] = -(-flow_bytes // hp_bytes) + -(-bridge_bytes // hp_bytes)
        requests.append(_page_array("bridge table", bridge_bytes, page_size))
        requests.append(_page_array("flow table", flow_bytes, page_size))
    requests.sort(key=lambda request: -request.order)  # stable: allocation order kept within an order

    return VrouterDemand(
        settings=settings,
        page_size=page_size,
        chunk_order=get_order(CHUNK_BYTES, page_size),
        flow_table_bytes=flow_bytes,
        bridge_table_bytes=bridge_bytes,
        buddy_requests=tuple(requests),
        hugepages_needed=hugepages,
    )
