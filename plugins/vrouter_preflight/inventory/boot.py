"""The inventory's ``expect:`` block: the hugepages the boot command line must request.

>>> from vrouter_preflight.keys.spec import Section
>>> Section(BootExpectation, "boot hugepages")({"default_hugepagesz": "1GB", "hugepages": {"1G": 340}})
BootExpectation(default_hugepagesz_kib=1048576, pools=(ExpectedPool(size_kib=1048576, total=340, per_node=None),))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

from vrouter_preflight.facts.sizes import format_kib, parse_size_kib
from vrouter_preflight.keys.checks import IntRange, Invalid, Rule, describe, shown, within
from vrouter_preflight.keys.spec import key

MAX_NODE = 1023
"""The largest NUMA node number: the kernel's MAX_NUMNODES is at most 1024."""
NUMA_NODE = IntRange(0, MAX_NODE, "a NUMA node number")
PAGE_COUNT = IntRange(0, 1 << 24, "a page count")
"""16M pages: 32 TiB of 2M pages, far beyond any compute."""
_MIN_HUGEPAGE_KIB = 64
_MAX_HUGEPAGE_KIB = 16 << 20  # 16G, the largest hugepage size Linux has (ppc64)
_SIZE_EXPECTED = "a hugepage size such as 1G or 2M (a power of two from 64K to 16G; also written 1GB, 2048K)"


@dataclass(frozen=True)
class ExpectedPool:
    """One hugepage pool the boot command line must request and the kernel must have reserved.

    ``total`` is the count over all nodes (spread evenly at boot); ``per_node``
    the per-node form (``hugepages=0:170,1:170``). Exactly one is set.

    >>> ExpectedPool(size_kib=1048576, total=340).per_node is None
    True
    """

    size_kib: int
    total: int | None = None
    per_node: Mapping[int, int] | None = None


def hugepage_size_kib(value: object) -> int:
    """A hugepage size written like the kernel's ``hugepagesz=`` (``1G``, ``2M``, ``1GB``), in KiB.

    >>> hugepage_size_kib("1GB"), hugepage_size_kib("64K")
    (1048576, 64)
    """
    if not isinstance(value, str) or len(value) > 32:
        raise Invalid(f"expected a hugepage size such as 1G or 2M, got {describe(value)}")
    try:
        kib = parse_size_kib(value)
    except ValueError:
        raise Invalid(f"expected a hugepage size such as 1G or 2M, got {shown(value)}") from None
    if not _MIN_HUGEPAGE_KIB <= kib <= _MAX_HUGEPAGE_KIB or kib & (kib - 1):
        raise Invalid(f"{shown(value)} is not a hugepage size (a power of two from 64K to 16G), e.g. 1G or 2M")
    return kib


def _pool(size_kib: int, value: object) -> ExpectedPool:
    if isinstance(value, Mapping):
        if not value:
            raise Invalid("expected at least one node: count, e.g. {0: 170, 1: 170}, got an empty mapping")
        per_node = {within(node, NUMA_NODE, node): within(node, PAGE_COUNT, count) for node, count in value.items()}
        return ExpectedPool(size_kib, per_node=MappingProxyType(dict(sorted(per_node.items()))))
    if isinstance(value, int) and not isinstance(value, bool):
        return ExpectedPool(size_kib, total=PAGE_COUNT(value))
    raise Invalid(
        f"expected {PAGE_COUNT.expected} or a per-node mapping like {{0: 170, 1: 170}}, got {describe(value)}"
    )


def _pools(value: object) -> tuple[ExpectedPool, ...]:
    if not isinstance(value, Mapping):
        raise Invalid(
            "expected a mapping of page size to a count or to {node: count}, e.g. {1G: 340} or "
            f"{{1G: {{0: 170, 1: 170}}}}, got {describe(value)}"
        )
    seen: dict[int, object] = {}
    pools: list[ExpectedPool] = []
    for size_text, count in value.items():
        size_kib = within(size_text, hugepage_size_kib, size_text)
        if size_kib in seen:
            raise Invalid(
                f"page size {format_kib(size_kib)} is also given as {seen[size_kib]!r}; give each size once",
                (str(size_text),),
            )
        seen[size_kib] = size_text
        pools.append(within(size_text, partial(_pool, size_kib), count))
    return tuple(pools)


@dataclass(frozen=True)
class BootExpectation:
    """The inventory's ``expect:`` block, e.g. ``{default_hugepagesz: 1G, hugepages: {1G: 340}}``.

    >>> BootExpectation(default_hugepagesz_kib=1048576).pools
    ()
    """

    default_hugepagesz_kib: int | None = key(
        None,
        Rule(_SIZE_EXPECTED, hugepage_size_kib),
        "the `default_hugepagesz=` the boot command line must give",
        name="default_hugepagesz",
    )
    pools: tuple[ExpectedPool, ...] = key(
        (),
        Rule(f"page size to a count (0 to {PAGE_COUNT.high:,}) or to {{node: count}} (nodes 0 to {MAX_NODE})", _pools),
        "the pools the boot command line must request and the kernel must have reserved: `{1G: 340}` (a total, "
        "spread evenly over the nodes) or per node `{1G: {0: 170, 1: 170}}`",
        name="hugepages",
    )
