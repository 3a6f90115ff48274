"""``/proc/zoneinfo``: free pages, watermarks and lowmem protection per zone.

Every kernel in the corpus (2.6 to 6.18) prints ``pages free``, ``min``,
``low``, ``high`` and ``protection:`` for every zone, including empty ones
(Movable and Device zones with ``pages free 0`` and all watermarks 0). So
those five are required: a zone without one of them is a parse error, never
a silent 0. ``spanned``/``present`` are printed by every kernel seen but are
kept optional, and ``managed`` only exists since 3.8 (``None`` before).

The many counter lines (``nr_*``, ``numa_*``, per-node stats, pagesets, 2.6's
``scanned 0 (a: 0 i: 0)``) are indented and ignored; an unindented line that
is not a ``Node N, zone NAME`` header is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines, parse_count, split_node_zone

_PAGES_FREE = re.compile(r"\s+pages free\s+(?P<value>\S+)\s*")
_ZONE_FIELD = re.compile(r"\s+(?P<key>min|low|high|spanned|present|managed)\s+(?P<value>\S+)\s*")
_PROTECTION = re.compile(r"\s+protection:\s*\((?P<values>[^)]*)\)\s*")
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
class ZoneInfo:
    """All zones of ``/proc/zoneinfo`` in file order.

    >>> info = parse_zoneinfo(EXAMPLE)
    >>> info.zone(0, "DMA").min_pages, info.zone(0, "Movable").free_pages, info.nodes
    (8, 0, (0,))
    """

    zones: tuple[ZoneWatermarks, ...]

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
        for zone in self.zones:
            if zone.node == node and zone.zone == name:
                return zone
        return None


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

    def set(self, key: str, value: int, source: str, line_no: int, line: str) -> None:
        if key in self.values:
            raise FactParseError(source, line_no, f"second '{key}' line in zone {self.zone}", line)
        self.values[key] = value

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
    seen: set[tuple[int, str]] = set()
    current: _ZoneBuilder | None = None
    for line_no, line in numbered_lines(text):
        if not line.strip():
            continue
        if not line[0].isspace():
            if current is not None:
                zones.append(current.build(source))
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
    if current is not None:
        zones.append(current.build(source))
    if not zones:
        raise FactParseError(source, None, "no zones")
    return ZoneInfo(tuple(zones))
