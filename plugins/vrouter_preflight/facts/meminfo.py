"""``/proc/meminfo`` and ``/sys/devices/system/node/nodeN/meminfo``.

Lines are ``Key:   value [kB]``; per-node files prefix ``Node N ``. Columns
are not fixed (wide node ids and some kernels misalign single fields), so the
parser splits on the colon and whitespace. A key the kernel did not print is
absent (``get`` returns ``None``), never 0: whole groups are missing on some
kernels (no ``HugePages_*`` without hugetlbfs, no ``MemAvailable`` before 3.14).

Units: most values are ``kB``; the ``HugePages_*`` counts are unitless page
counts. ``kib(key)`` is only for ``kB`` keys: it returns ``None`` when the key
is absent and raises ``ValueError`` when the key is a count, so a page count
can never be mistaken for KiB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines, parse_count

KIB_UNIT = "kB"
_VALUE = re.compile(r"(?P<key>[^:\s]+):\s*(?P<value>\S+)(?:\s+(?P<unit>\S+))?\s*")
_NODE_PREFIX = re.compile(r"Node\s+(?P<node>[0-9]+)\s+")


class MemValueLookup:
    """Accessors shared by :class:`MemInfo` and :class:`NodeMemInfo`."""

    values: Mapping[str, int]
    units: Mapping[str, str]

    def get(self, key: str) -> int | None:
        """The value as printed (KiB or a count), ``None`` when the key is absent.

        >>> info = parse_meminfo("HugePages_Total:       8\\nMemTotal: 100 kB\\n")
        >>> info.get("HugePages_Total"), info.get("MemAvailable")
        (8, None)
        """
        return self.values.get(key)

    def kib(self, key: str) -> int | None:
        """The value of a ``kB`` key in KiB; ``None`` when absent, ``ValueError`` for a count.

        >>> parse_meminfo("MemTotal: 100 kB\\n").kib("MemTotal")
        100
        >>> parse_meminfo("HugePages_Total: 8\\n").kib("HugePages_Total")
        Traceback (most recent call last):
        ...
        ValueError: HugePages_Total is a count, not a kB value
        """
        if key not in self.values:
            return None
        if self.units[key] != KIB_UNIT:
            raise ValueError(f"{key} is a count, not a kB value")
        return self.values[key]


@dataclass(frozen=True)
class MemInfo(MemValueLookup):
    """``/proc/meminfo``: ``values[key]`` and ``units[key]`` (``"kB"`` or ``""``).

    >>> parse_meminfo("MemTotal:  97445600 kB\\nHugePages_Free:  4096\\n").units["HugePages_Free"]
    ''
    """

    values: Mapping[str, int]
    units: Mapping[str, str]


@dataclass(frozen=True)
class NodeMemInfo(MemValueLookup):
    """One NUMA node's ``meminfo``, same accessors as :class:`MemInfo`.

    >>> parse_node_meminfo("Node 252 MemTotal:       15728640 kB\\n", "node252/meminfo").kib("MemTotal")
    15728640
    """

    node: int
    values: Mapping[str, int]
    units: Mapping[str, str]


def _parse_value_lines(lines: list[tuple[int, str, str]], source: str) -> tuple[Mapping[str, int], Mapping[str, str]]:
    """Parse ``(line_no, body, line)`` triples of ``Key: value [kB]``."""
    values: dict[str, int] = {}
    units: dict[str, str] = {}
    for line_no, body, line in lines:
        match = _VALUE.fullmatch(body)
        if match is None:
            raise FactParseError(source, line_no, "expected 'Key: value [kB]'", line)
        key, unit = match["key"], match["unit"] or ""
        if unit not in ("", KIB_UNIT):
            raise FactParseError(source, line_no, f"unknown unit {unit[:40]!r}", line)
        if key in values:
            raise FactParseError(source, line_no, f"{key} appears twice", line)
        values[key] = parse_count(match["value"], source, line_no, line, key)
        units[key] = unit
    if not values:
        raise FactParseError(source, None, "no values")
    return MappingProxyType(values), MappingProxyType(units)


def parse_meminfo(text: str, source: str = "/proc/meminfo") -> MemInfo:
    """Parse ``/proc/meminfo`` (or any extract of its lines).

    >>> parse_meminfo("MemTotal:       97445600 kB\\nHugepagesize:       2048 kB").kib("Hugepagesize")
    2048
    """
    values, units = _parse_value_lines([(no, line, line) for no, line in numbered_lines(text)], source)
    return MemInfo(values, units)


def parse_node_meminfo(text: str, source: str) -> NodeMemInfo:
    """Parse a per-node ``meminfo``; every line must name the same node.

    >>> parse_node_meminfo("Node 1 HugePages_Total:  2048\\n", "node1/meminfo").get("HugePages_Total")
    2048
    """
    node: int | None = None
    bodies: list[tuple[int, str, str]] = []
    for line_no, line in numbered_lines(text):
        match = _NODE_PREFIX.match(line)
        if match is None:
            raise FactParseError(source, line_no, "expected 'Node N Key: value'", line)
        line_node = parse_count(match["node"], source, line_no, line, "node number")
        if node is not None and line_node != node:
            raise FactParseError(source, line_no, f"node {line_node} differs from node {node} on line 1", line)
        node = line_node
        bodies.append((line_no, line[match.end() :], line))
    values, units = _parse_value_lines(bodies, source)
    assert node is not None  # _parse_value_lines raised on an empty file
    return NodeMemInfo(node, values, units)
