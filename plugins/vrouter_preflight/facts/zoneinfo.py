"""``/proc/zoneinfo``: free pages, watermarks and lowmem protection per zone.

Every kernel in the corpus (2.6 to 6.18) prints ``pages free``, ``min``,
``low``, ``high`` and ``protection:`` for every zone, including empty ones
(Movable and Device zones with ``pages free 0`` and all watermarks 0). So
those five are required: a zone without one of them is a parse error, never
a silent 0. ``spanned``/``present`` are printed by every kernel seen but are
kept optional, and ``managed`` only exists since 3.8 (``None`` before).

The per-CPU ``pagesets`` are summed per zone (:class:`ZonePagesets`): how
many CPUs, how many pages their per-CPU lists may hold now (``high``; 2.6
lists a hot and a cold list per CPU, both counted; 6.7+ also prints the
bounds ``high_min``/``high_max`` between which it tunes ``high``) and the
``vm stats threshold`` of each CPU (printed by SMP kernels since 2.6.18;
absent, the zone counters have no per-CPU lag).

The many counter lines (``nr_*``, ``numa_*``, per-node stats, 2.6's
``scanned 0 (a: 0 i: 0)``) are indented and ignored; an unindented line that
is not a ``Node N, zone NAME`` header is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines, parse_count, split_node_zone

_PAGES_FREE = re.compile(r"\s+pages free\s+(?P<value>\S+)\s*")
_ZONE_FIELD = re.compile(r"\s+(?P<key>min|low|high|spanned|present|managed)\s+(?P<value>\S+)\s*")
_PROTECTION = re.compile(r"\s+protection:\s*\((?P<values>[^)]*)\)\s*")
_PAGESET_FIELD = re.compile(r"\s+(?P<key>cpu|high|vm stats threshold):\s*(?P<value>\S+)(?:\s+pcp:\s*\S+)?\s*")
_REQUIRED = ("pages free", "min", "low", "high", "protection")


@dataclass(frozen=True)
class ZoneWatermarks:
    """Free pages and watermarks of one zone, all in base pages.

    ``protection[i]`` is the lowmem reserve this zone keeps against
    allocations whose highest allowed zone is zone index ``i``.

    >>> zone = ZoneWatermarks(0, "Normal", 388, 306, 382, 459, 32768, 32768, 23603, (0, 0))
    >>> zone.free_pages - zone.low_pages
    6
    """

    node: int
    zone: str
    free_pages: int
    min_pages: int
    low_pages: int
    high_pages: int
    spanned: int | None
    present: int | None
    managed: int | None
    protection: tuple[int, ...]


@dataclass(frozen=True)
class ZonePagesets:
    """The per-CPU page lists of one zone, summed over its CPUs.

    ``high_pages`` is the most their lists may hold now (the sum of the CPUs'
    ``high``); ``stat_threshold_pages`` is the sum of the
    CPUs' ``vm stats threshold``: how far the zone's ``pages free`` counter
    may lag the free lists (0 where the kernel prints no threshold).

    >>> parse_zoneinfo(EXAMPLE).pageset(0, "DMA")
    ZonePagesets(node=0, zone='DMA', cpus=2, high_pages=0, stat_threshold_pages=8)
    """

    node: int
    zone: str
    cpus: int
    high_pages: int
    stat_threshold_pages: int


@dataclass(frozen=True)
class ZoneInfo:
    """All zones of ``/proc/zoneinfo`` in file order, and the zones' per-CPU lists where printed.

    >>> info = parse_zoneinfo(EXAMPLE)
    >>> info.zone(0, "DMA").min_pages, info.zone(0, "Movable").free_pages, info.nodes
    (8, 0, (0,))
    """

    zones: tuple[ZoneWatermarks, ...]
    pagesets: tuple[ZonePagesets, ...] = ()

    @property
    def nodes(self) -> tuple[int, ...]:
        """NUMA node ids with at least one zone, ascending.

        >>> parse_zoneinfo(EXAMPLE).nodes
        (0,)
        """
        return tuple(sorted({zone.node for zone in self.zones}))

    def zone(self, node: int, name: str) -> ZoneWatermarks | None:
        """The zone ``name`` of ``node``, or ``None`` when the file has no such zone.

        >>> parse_zoneinfo(EXAMPLE).zone(0, "Normal") is None
        True
        """
        return _of_zone(self.zones, node, name)

    def pageset(self, node: int, name: str) -> ZonePagesets | None:
        """The per-CPU lists of zone ``name`` of ``node``; ``None`` when the zone prints no pagesets.

        >>> parse_zoneinfo(EXAMPLE).pageset(0, "Movable") is None
        True
        """
        return _of_zone(self.pagesets, node, name)


_OfZone = TypeVar("_OfZone", ZoneWatermarks, ZonePagesets)


def _of_zone(items: tuple[_OfZone, ...], node: int, name: str) -> _OfZone | None:
    return next((item for item in items if item.node == node and item.zone == name), None)


EXAMPLE = """\
Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 15830
  pages free     2949
        min      8
        low      11
        high     14
        spanned  4095
        present  3997
        managed  3973
        protection: (0, 2039, 31932, 31932, 31932)
      nr_free_pages 2949
  pagesets
    cpu: 0
              count: 0
              high:  0
              batch: 1
              high_min: 37
              high_max: 240
  vm stats threshold: 4
    cpu: 1
              count: 0
              high:  0
              batch: 1
  vm stats threshold: 4
Node 0, zone  Movable
  pages free     0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        protection: (0, 0, 0, 0, 0)"""
"""A shortened 5.x zoneinfo used by the doctests."""


class _ZoneBuilder:
    """The fields of one zone block as they are read."""

    def __init__(self, node: int, zone: str, line_no: int, line: str) -> None:
        self.node = node
        self.zone = zone
        self.line_no = line_no
        self.line = line
        self.values: dict[str, int] = {}
        self.protection: tuple[int, ...] | None = None
        self.cpu: int | None = None
        self.cpu_high: dict[int, int] = {}
        self.stat_thresholds = 0

    def set(self, key: str, value: int, source: str, line_no: int, line: str) -> None:
        if key in self.values:
            raise FactParseError(source, line_no, f"second '{key}' line in zone {self.zone}", line)
        self.values[key] = value

    def pageset_field(self, key: str, value: int, source: str, line_no: int, line: str) -> None:
        if key == "cpu":
            self.cpu = value
            self.cpu_high.setdefault(value, 0)
        elif key == "vm stats threshold":
            self.stat_thresholds += value
        elif self.cpu is None:
            raise FactParseError(source, line_no, f"'{key}' before the first 'cpu:' of zone {self.zone}", line)
        else:
            self.cpu_high[self.cpu] += value  # 2.6: a hot and a cold list per CPU

    def pagesets(self) -> ZonePagesets | None:
        if not self.cpu_high:
            return None
        return ZonePagesets(self.node, self.zone, len(self.cpu_high), sum(self.cpu_high.values()), self.stat_thresholds)

    def build(self, source: str) -> ZoneWatermarks:
        missing = [key for key in _REQUIRED if key not in self.values and key != "protection"]
        if self.protection is None:
            missing.append("protection")
        if missing:
            names = ", ".join(f"'{key}'" for key in missing)
            raise FactParseError(
                source, self.line_no, f"zone {self.zone} of node {self.node} has no {names}", self.line
            )
        return ZoneWatermarks(
            node=self.node,
            zone=self.zone,
            free_pages=self.values["pages free"],
            min_pages=self.values["min"],
            low_pages=self.values["low"],
            high_pages=self.values["high"],
            spanned=self.values.get("spanned"),
            present=self.values.get("present"),
            managed=self.values.get("managed"),
            protection=self.protection or (),
        )


def _parse_protection(values: str, source: str, line_no: int, line: str) -> tuple[int, ...]:
    tokens = [token.strip() for token in values.split(",")]
    return tuple(parse_count(token, source, line_no, line, "protection entry") for token in tokens)


def parse_zoneinfo(text: str, source: str = "/proc/zoneinfo") -> ZoneInfo:
    """Parse ``/proc/zoneinfo`` of any kernel from 2.6 on.

    >>> parse_zoneinfo(EXAMPLE).zone(0, "DMA").protection
    (0, 2039, 31932, 31932, 31932)
    >>> try:
    ...     parse_zoneinfo("Node 0, zone DMA\\n  pages free 1\\n")
    ... except FactParseError as error:
    ...     print(error.line_no, error.reason)
    1 zone DMA of node 0 has no 'min', 'low', 'high', 'protection'
    """
    zones: list[ZoneWatermarks] = []
    pagesets: list[ZonePagesets] = []
    seen: set[tuple[int, str]] = set()
    current: _ZoneBuilder | None = None

    def finish(zone: _ZoneBuilder) -> None:
        zones.append(zone.build(source))
        pageset = zone.pagesets()
        if pageset is not None:
            pagesets.append(pageset)

    for line_no, line in numbered_lines(text):
        if not line.strip():
            continue
        if not line[0].isspace():
            if current is not None:
                finish(current)
            node, zone, rest = split_node_zone(line, source, line_no)
            if rest.strip():
                raise FactParseError(source, line_no, "unexpected text after the zone name", line)
            if (node, zone) in seen:
                raise FactParseError(source, line_no, f"node {node} zone {zone} appears twice", line)
            seen.add((node, zone))
            current = _ZoneBuilder(node, zone, line_no, line)
            continue
        if current is None:
            raise FactParseError(source, line_no, "indented line before the first zone header", line)
        if match := _PAGES_FREE.fullmatch(line):
            current.set("pages free", parse_count(match["value"], source, line_no, line), source, line_no, line)
        elif match := _ZONE_FIELD.fullmatch(line):
            value = parse_count(match["value"], source, line_no, line, match["key"])
            current.set(match["key"], value, source, line_no, line)
        elif match := _PROTECTION.fullmatch(line):
            if current.protection is not None:
                raise FactParseError(source, line_no, f"second 'protection' line in zone {current.zone}", line)
            current.protection = _parse_protection(match["values"], source, line_no, line)
        elif line.lstrip().startswith("protection"):
            raise FactParseError(source, line_no, "expected 'protection: (N, N, ...)'", line)
        elif match := _PAGESET_FIELD.fullmatch(line):
            value = parse_count(match["value"], source, line_no, line, match["key"])
            current.pageset_field(match["key"], value, source, line_no, line)
    if current is not None:
        finish(current)
    if not zones:
        raise FactParseError(source, None, "no zones")
    return ZoneInfo(tuple(zones), tuple(pagesets))
