"""``/proc/pagetypeinfo``: free blocks per migrate type, and pageblocks per type.

Layout (repeated once per NUMA node on multi-node machines, with no blank
line before the repeat)::

    Page block order: 9
    Pages per block:  512

    Free pages count per migrate type at order       0      1 ...     10
    Node    0, zone   Normal, type    Unmovable    117     48 ...      2
    ...

    Number of blocks type     Unmovable  Reclaimable      Movable ...
    Node 0, zone   Normal          280          108         2026 ...

Migrate type names and their order vary by kernel and vendor, so they are
read from the rows and the block-table header, never assumed. Newer kernels
cap a per-type count at 100000 and print ``>100000``: the value is stored as
100000 and its order recorded in ``capped_orders``. Kernels with page_owner
add a ``Number of mixed blocks`` table with the same shape as the block table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import MAX_ORDERS, numbered_lines, parse_count, parse_counts, split_node_zone

_PAGE_BLOCK_ORDER = re.compile(r"Page block order:\s*(?P<value>\S+)\s*")
_PAGES_PER_BLOCK = re.compile(r"Pages per block:\s*(?P<value>\S+)\s*")
_FREE_HEADER = "Free pages count per migrate type at order"
_BLOCKS_HEADER = "Number of blocks type"
_MIXED_HEADER = "Number of mixed blocks"
_TYPE_PREFIX = re.compile(r",\s+type\s+(?P<type>\S+)(?P<counts>.*)")
_CAP_MARK = ">"


@dataclass(frozen=True)
class MigrateTypeFree:
    """Free blocks of one migrate type in one zone; ``free_blocks[order]``.

    >>> row = MigrateTypeFree(0, "Normal", "Movable", (100000, 5), frozenset({0}))
    >>> row.is_capped, row.free_pages
    (True, 100010)
    """

    node: int
    zone: str
    migrate_type: str
    free_blocks: tuple[int, ...]
    capped_orders: frozenset[int] = frozenset()

    @property
    def is_capped(self) -> bool:
        """True when some order printed ``>100000`` (the true count is larger).

        >>> MigrateTypeFree(0, "DMA", "Movable", (1,)).is_capped
        False
        """
        return bool(self.capped_orders)

    @property
    def free_pages(self) -> int:
        """Free base pages of this type (a lower bound when :attr:`is_capped`).

        >>> MigrateTypeFree(0, "DMA", "Movable", (1, 1, 1)).free_pages
        7
        """
        return sum(count << order for order, count in enumerate(self.free_blocks))


@dataclass(frozen=True)
class MigrateTypeBlocks:
    """Pageblock counts of one zone by migrate type, in header order.

    >>> MigrateTypeBlocks(0, "DMA32", {"Unmovable": 6, "Movable": 1648}).counts["Movable"]
    1648
    """

    node: int
    zone: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class PageTypeInfo:
    """Everything in ``/proc/pagetypeinfo``, rows in file order.

    >>> info = parse_pagetypeinfo(EXAMPLE)
    >>> info.pages_per_block, info.migrate_types, info.zone_free(0, "Normal")[1].free_blocks
    (512, ('Unmovable', 'Movable'), (5, 0))
    """

    page_block_order: int
    pages_per_block: int
    free: tuple[MigrateTypeFree, ...]
    blocks: tuple[MigrateTypeBlocks, ...]
    mixed_blocks: tuple[MigrateTypeBlocks, ...] = field(default=())

    @property
    def migrate_types(self) -> tuple[str, ...]:
        """Migrate type names in the order the file first lists them.

        >>> parse_pagetypeinfo(EXAMPLE).migrate_types
        ('Unmovable', 'Movable')
        """
        return tuple(dict.fromkeys(row.migrate_type for row in self.free))

    def zone_free(self, node: int, zone: str) -> tuple[MigrateTypeFree, ...]:
        """The free-count rows of one zone, one per migrate type (empty when absent).

        >>> parse_pagetypeinfo(EXAMPLE).zone_free(1, "Normal")
        ()
        """
        return tuple(row for row in self.free if row.node == node and row.zone == zone)

    def zone_blocks(self, node: int, zone: str) -> MigrateTypeBlocks | None:
        """The pageblock counts of one zone, or ``None`` when absent.

        >>> parse_pagetypeinfo(EXAMPLE).zone_blocks(0, "Normal").counts["Movable"]
        2026
        """
        for row in self.blocks:
            if row.node == node and row.zone == zone:
                return row
        return None


EXAMPLE = """\
Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1
Node    0, zone   Normal, type    Unmovable    117     48
Node    0, zone   Normal, type      Movable      5      0

Number of blocks type     Unmovable      Movable
Node 0, zone   Normal          280         2026
"""
"""A two-order example used by the doctests."""


class _Parser:
    """The state of one pass over the file: which table the rows belong to."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.page_block_order: int | None = None
        self.pages_per_block: int | None = None
        self.orders: int | None = None
        self.table: str | None = None  # "free", "blocks" or "mixed"
        self.type_names: tuple[str, ...] = ()
        self.free: list[MigrateTypeFree] = []
        self.blocks: list[MigrateTypeBlocks] = []
        self.mixed: list[MigrateTypeBlocks] = []
        self.seen: set[tuple[str, int, str, str]] = set()

    def header_value(self, current: int | None, token: str, what: str, line_no: int, line: str) -> int:
        """A ``Page block order``/``Pages per block`` value; repeats must agree."""
        value = parse_count(token, self.source, line_no, line, what)
        if current is not None and current != value:
            raise FactParseError(self.source, line_no, f"{what} {value} differs from earlier {current}", line)
        self.table = None
        return value

    def line(self, line_no: int, line: str) -> None:
        """Consume one line."""
        if not line.strip():
            return
        if match := _PAGE_BLOCK_ORDER.fullmatch(line):
            self.page_block_order = self.header_value(
                self.page_block_order, match["value"], "page block order", line_no, line
            )
        elif match := _PAGES_PER_BLOCK.fullmatch(line):
            self.pages_per_block = self.header_value(
                self.pages_per_block, match["value"], "pages per block", line_no, line
            )
        elif line.startswith(_FREE_HEADER):
            self.free_header(line_no, line)
        elif line.startswith(_BLOCKS_HEADER):
            self.blocks_header("blocks", line[len(_BLOCKS_HEADER) :], line_no, line)
        elif line.startswith(_MIXED_HEADER):
            self.blocks_header("mixed", line[len(_MIXED_HEADER) :], line_no, line)
        elif line.startswith("Node"):
            self.row(line_no, line)
        else:
            raise FactParseError(self.source, line_no, "unexpected line", line)

    def free_header(self, line_no: int, line: str) -> None:
        orders = parse_counts(line[len(_FREE_HEADER) :].split(), self.source, line_no, line)
        if not orders or orders != tuple(range(len(orders))):
            raise FactParseError(self.source, line_no, "orders must count up from 0", line)
        if len(orders) > MAX_ORDERS:
            raise FactParseError(self.source, line_no, f"{len(orders)} orders, more than {MAX_ORDERS}", line)
        if self.orders is not None and self.orders != len(orders):
            raise FactParseError(self.source, line_no, f"{len(orders)} orders differ from earlier {self.orders}", line)
        self.orders = len(orders)
        self.table = "free"

    def blocks_header(self, table: str, names_text: str, line_no: int, line: str) -> None:
        names = tuple(names_text.split())
        if not names or len(set(names)) != len(names):
            raise FactParseError(self.source, line_no, "expected distinct migrate type names", line)
        self.type_names = names
        self.table = table

    def row(self, line_no: int, line: str) -> None:
        node, zone, rest = split_node_zone(line, self.source, line_no)
        if self.table == "free":
            self.free_row(node, zone, rest, line_no, line)
        elif self.table in ("blocks", "mixed"):
            counts = parse_counts(rest.split(), self.source, line_no, line)
            if len(counts) != len(self.type_names):
                raise FactParseError(
                    self.source, line_no, f"expected {len(self.type_names)} counts, got {len(counts)}", line
                )
            self.once(self.table, node, zone, "", line_no, line)
            row = MigrateTypeBlocks(node, zone, MappingProxyType(dict(zip(self.type_names, counts))))
            (self.blocks if self.table == "blocks" else self.mixed).append(row)
        else:
            raise FactParseError(self.source, line_no, "zone row before any table header", line)

    def free_row(self, node: int, zone: str, rest: str, line_no: int, line: str) -> None:
        match = _TYPE_PREFIX.fullmatch(rest)
        if match is None:
            raise FactParseError(self.source, line_no, "expected ', type NAME' after the zone", line)
        tokens = match["counts"].split()
        if len(tokens) != self.orders:
            raise FactParseError(self.source, line_no, f"expected {self.orders} counts, got {len(tokens)}", line)
        capped = frozenset(order for order, token in enumerate(tokens) if token.startswith(_CAP_MARK))
        counts = parse_counts([token.removeprefix(_CAP_MARK) for token in tokens], self.source, line_no, line)
        self.once("free", node, zone, match["type"], line_no, line)
        self.free.append(MigrateTypeFree(node, zone, match["type"], counts, capped))

    def once(self, table: str, node: int, zone: str, migrate_type: str, line_no: int, line: str) -> None:
        key = (table, node, zone, migrate_type)
        if key in self.seen:
            raise FactParseError(self.source, line_no, "row repeats an earlier row", line)
        self.seen.add(key)

    def result(self) -> PageTypeInfo:
        if self.page_block_order is None or self.pages_per_block is None:
            raise FactParseError(self.source, None, "missing 'Page block order' or 'Pages per block'")
        blocks = self.pages_per_block  # 2**order, compared without computing 2**order (an order of 2**64)
        if blocks & (blocks - 1) or blocks.bit_length() - 1 != self.page_block_order:
            raise FactParseError(
                self.source,
                None,
                f"pages per block {self.pages_per_block} is not 2**{self.page_block_order}",
            )
        if not self.free:
            raise FactParseError(self.source, None, "no free-page rows")
        return PageTypeInfo(
            self.page_block_order, self.pages_per_block, tuple(self.free), tuple(self.blocks), tuple(self.mixed)
        )


def parse_pagetypeinfo(text: str, source: str = "/proc/pagetypeinfo") -> PageTypeInfo:
    """Parse ``/proc/pagetypeinfo`` (any number of per-node sections).

    >>> info = parse_pagetypeinfo(EXAMPLE.replace("   117", ">100000"))
    >>> info.free[0].free_blocks, info.free[0].capped_orders
    ((100000, 48), frozenset({0}))
    """
    parser = _Parser(source)
    for line_no, line in numbered_lines(text):
        parser.line(line_no, line)
    return parser.result()
