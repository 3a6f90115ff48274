"""Hugepage pools from sysfs: the global pools and the per-NUMA-node pools.

Global pools live in ``/sys/kernel/mm/hugepages/hugepages-<size>kB/`` and
per-node pools in ``/sys/devices/system/node/nodeN/hugepages/hugepages-<size>kB/``.
Each directory holds one-number files; which ones exist depends on the kernel
and on global vs. node (per-node directories have only ``nr``, ``free`` and
``surplus``). A file that was not captured leaves its field ``None``. Sizes
are read from the directory names, never assumed (ARM64 has 64K, 2M, 32M and
1G pools). Other files in those directories (``demote``, ``demote_size``) are
ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import parse_count
from vrouter_preflight.facts.sizes import hugepage_dir_size_kib
from vrouter_preflight.facts.values import parse_count_value

GLOBAL_HUGEPAGES_DIR = "/sys/kernel/mm/hugepages"
NODE_DIR = "/sys/devices/system/node"
_POOL_FILE = re.compile(
    r"(?:/sys/kernel/mm/hugepages|/sys/devices/system/node/node(?P<node>[0-9]+)/hugepages)"
    r"/(?P<dir>hugepages-[^/]+)/(?P<file>[^/]+)"
)
# sysfs file name -> HugepagePool field
POOL_FILES = {
    "nr_hugepages": "nr",
    "free_hugepages": "free",
    "surplus_hugepages": "surplus",
    "resv_hugepages": "resv",
    "nr_hugepages_mempolicy": "mempolicy",
    "nr_overcommit_hugepages": "overcommit",
}


@dataclass(frozen=True)
class HugepagePool:
    """One pool of ``size_kib`` pages; ``node`` is ``None`` for the global pool.

    >>> HugepagePool(2048, 0, nr=512, free=500, surplus=0).in_use
    12
    """

    size_kib: int
    node: int | None
    nr: int | None
    free: int | None
    surplus: int | None
    resv: int | None = None
    mempolicy: int | None = None
    overcommit: int | None = None

    @property
    def in_use(self) -> int | None:
        """Pages handed out (``nr - free``), ``None`` when either was not read.

        >>> HugepagePool(2048, None, nr=None, free=0, surplus=None).in_use is None
        True
        """
        if self.nr is None or self.free is None:
            return None
        return self.nr - self.free


@dataclass(frozen=True)
class HugepagePools:
    """All pools read, global ones first, then by node and size.

    >>> pools = HugepagePools((HugepagePool(2048, None, 4, 4, 0), HugepagePool(2048, 1, 4, 4, 0)))
    >>> pools.global_pool(2048).nr, pools.node_pool(1, 2048).free, pools.node_pool(0, 2048)
    (4, 4, None)
    """

    pools: tuple[HugepagePool, ...]

    @property
    def sizes_kib(self) -> tuple[int, ...]:
        """Every page size that has a pool directory, ascending.

        >>> HugepagePools((HugepagePool(1048576, None, 0, 0, 0), HugepagePool(64, 0, 0, 0, 0))).sizes_kib
        (64, 1048576)
        """
        return tuple(sorted({pool.size_kib for pool in self.pools}))

    @property
    def nodes(self) -> tuple[int, ...]:
        """NUMA nodes that have per-node pools, ascending.

        >>> HugepagePools((HugepagePool(2048, 250, 0, 0, 0), HugepagePool(2048, 8, 0, 0, 0))).nodes
        (8, 250)
        """
        return tuple(sorted({pool.node for pool in self.pools if pool.node is not None}))

    def global_pool(self, size_kib: int) -> HugepagePool | None:
        """The global pool of ``size_kib`` pages, or ``None`` when not read.

        >>> HugepagePools(()).global_pool(2048) is None
        True
        """
        return self.node_pool(None, size_kib)

    def node_pool(self, node: int | None, size_kib: int) -> HugepagePool | None:
        """The pool of ``size_kib`` pages on ``node`` (``None`` = global), or ``None``.

        >>> HugepagePools((HugepagePool(2048, 3, 1, 1, 0),)).node_pool(3, 2048).nr
        1
        """
        for pool in self.pools:
            if pool.node == node and pool.size_kib == size_kib:
                return pool
        return None

    def node_pools(self, size_kib: int) -> tuple[HugepagePool, ...]:
        """The per-node pools of ``size_kib`` pages, by node.

        >>> [pool.node for pool in HugepagePools((HugepagePool(2048, 1, 0, 0, 0),)).node_pools(2048)]
        [1]
        """
        return tuple(pool for pool in self.pools if pool.node is not None and pool.size_kib == size_kib)


def parse_hugepage_sysfs(files: Mapping[str, str]) -> HugepagePools:
    """Build the pools from ``{absolute sysfs path: file text}``.

    >>> pools = parse_hugepage_sysfs({
    ...     "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages": "8\\n",
    ...     "/sys/kernel/mm/hugepages/hugepages-1048576kB/demote_size": "2048kB\\n",
    ...     "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/free_hugepages": "4\\n",
    ... })
    >>> pools.global_pool(1048576)
    HugepagePool(size_kib=1048576, node=None, nr=8, free=None, surplus=None, resv=None, mempolicy=None, overcommit=None)
    >>> pools.node_pool(1, 1048576).free
    4
    """
    pools: dict[tuple[int | None, int], HugepagePool] = {}
    for path, text in files.items():
        match = _POOL_FILE.fullmatch(path)
        if match is None:
            raise FactParseError(path, None, "not a hugepage pool file")
        try:
            size_kib = hugepage_dir_size_kib(match["dir"])
        except ValueError as error:
            raise FactParseError(path, None, str(error)) from None
        node = None if match["node"] is None else parse_count(match["node"], path, None, None, "node number")
        pool = pools.setdefault((node, size_kib), HugepagePool(size_kib, node, None, None, None))
        field_name = POOL_FILES.get(match["file"])
        if field_name is not None:
            pools[(node, size_kib)] = replace(pool, **{field_name: parse_count_value(text, path)})
    ordered = sorted(pools.items(), key=lambda item: (item[0][0] is not None, item[0][0] or 0, item[0][1]))
    return HugepagePools(tuple(pool for _, pool in ordered))
