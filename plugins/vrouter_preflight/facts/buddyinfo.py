"""``/proc/buddyinfo``: free blocks per order, per zone, per NUMA node.

Each kernel line is ``Node %d, zone %8s `` then one ``%6lu `` per order. The
number of orders depends on the architecture and page size (11 on x86_64,
14 on ARM64 with 64 KiB pages) and is taken from the file, never assumed; all
lines must agree on it. Whether the host's kernel could print that many, and
counts that fit its memory, is judged with the page size and the other files
(:mod:`vrouter_preflight.contiguity.plausibility`), not here. Counts wider than six digits touch the zone name,
published copies often lose the trailing space or the final newline: the
parser splits on whitespace, so none of that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import MAX_ORDERS, numbered_lines, parse_counts, split_node_zone


@dataclass(frozen=True)
class BuddyZone:
    """Free blocks of one zone; ``free_blocks[order]`` counts blocks of 2**order pages.

    >>> zone = BuddyZone(0, "Normal", (4, 2, 1))
    >>> zone.free_pages, zone.free_blocks_at_or_above(1)
    (12, 3)
    """

    node: int
    zone: str
    free_blocks: tuple[int, ...]

    def free_blocks_at_or_above(self, order: int) -> int:
        """Number of free blocks whose order is ``order`` or higher.

        >>> BuddyZone(0, "DMA", (1, 0, 5)).free_blocks_at_or_above(2)
        5
        """
        if order < 0:
            raise ValueError(f"negative order: {order}")
        return sum(self.free_blocks[order:])

    @property
    def free_pages(self) -> int:
        """Free base pages in the zone: sum of ``count * 2**order``.

        >>> BuddyZone(0, "DMA", (1, 1, 1)).free_pages
        7
        """
        return sum(count << order for order, count in enumerate(self.free_blocks))


@dataclass(frozen=True)
class BuddyInfo:
    """All zones of ``/proc/buddyinfo`` in file order.

    >>> info = parse_buddyinfo("Node 0, zone DMA 1 2\\nNode 1, zone Normal 3 4\\n")
    >>> info.orders, info.nodes, info.zone(1, "Normal")
    (2, (0, 1), BuddyZone(node=1, zone='Normal', free_blocks=(3, 4)))
    """

    zones: tuple[BuddyZone, ...]

    @property
    def orders(self) -> int:
        """Number of order columns (the parser checked that every zone agrees).

        >>> BuddyInfo((BuddyZone(0, "DMA", (0,) * 14),)).orders
        14
        """
        return len(self.zones[0].free_blocks) if self.zones else 0

    @property
    def nodes(self) -> tuple[int, ...]:
        """NUMA node ids that have at least one zone, ascending.

        >>> BuddyInfo((BuddyZone(33, "Normal", (1,)), BuddyZone(2, "Normal", (1,)))).nodes
        (2, 33)
        """
        return tuple(sorted({zone.node for zone in self.zones}))

    def zone(self, node: int, name: str) -> BuddyZone | None:
        """The zone ``name`` of ``node``, or ``None`` when the file has no such line.

        >>> BuddyInfo(()).zone(0, "Normal") is None
        True
        """
        for zone in self.zones:
            if zone.node == node and zone.zone == name:
                return zone
        return None


def parse_buddyinfo(text: str, source: str = "/proc/buddyinfo") -> BuddyInfo:
    """Parse ``/proc/buddyinfo``; every line must be a zone with the same order count.

    >>> parse_buddyinfo("Node 0, zone   Normal 130376  36589      1 ").zones[0].free_blocks
    (130376, 36589, 1)
    >>> parse_buddyinfo("Node 0, zone DMA 1 2\\nNode 0, zone Normal 1\\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: /proc/buddyinfo line 2: expected 2 counts, got 1: 'Node 0, zo...
    """
    zones: list[BuddyZone] = []
    seen: set[tuple[int, str]] = set()
    for line_no, line in numbered_lines(text):
        node, zone_name, rest = split_node_zone(line, source, line_no)
        counts = parse_counts(rest.split(), source, line_no, line)
        if not counts:
            raise FactParseError(source, line_no, "no counts after the zone name", line)
        if len(counts) > MAX_ORDERS:
            raise FactParseError(source, line_no, f"{len(counts)} order columns, more than {MAX_ORDERS}", line)
        if zones and len(counts) != len(zones[0].free_blocks):
            raise FactParseError(
                source, line_no, f"expected {len(zones[0].free_blocks)} counts, got {len(counts)}", line
            )
        if (node, zone_name) in seen:
            raise FactParseError(source, line_no, f"node {node} zone {zone_name} appears twice", line)
        seen.add((node, zone_name))
        zones.append(BuddyZone(node, zone_name, counts))
    if not zones:
        raise FactParseError(source, None, "no zones")
    return BuddyInfo(tuple(zones))
