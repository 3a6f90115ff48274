"""Hugepage pools from the captured sysfs trees (grep -H form) and the error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, read, sysfs_files_from_grep
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.hugepages import HugepagePool, parse_hugepage_sysfs

FILES = corpus("node-hugepages")

# file -> (sizes in KiB, nodes)
SHAPES = {
    "hwloc-amd64-4node-512each": ((2048,), (0, 1, 2, 3)),
    "hwloc-arm64-4node-4sizes": ((64, 2048, 32768, 1048576), (0, 1, 2, 3)),
    "hwloc-debian12-6.1-demote": ((2048, 1048576), (0,)),
    "hwloc-el7-3.10-2node-2m-reserved": ((2048, 1048576), (0, 1)),
    "hwloc-em64t-2node-overcommit": ((2048,), (0, 1)),
    "hwloc-ppc64le-gpu-nodes-250-255": ((2048, 1048576), (0, 8, 250, 251, 252, 253, 254, 255)),
}


def test_every_corpus_file_has_an_expected_shape() -> None:
    assert sorted(SHAPES) == [path.stem for path in FILES]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_parses_corpus_file(path: Path) -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(path.read_text()))
    sizes, nodes = SHAPES[path.stem]
    assert (pools.sizes_kib, pools.nodes) == (sizes, nodes)
    assert len(pools.pools) == len(sizes) * (len(nodes) + 1)
    for size in sizes:
        global_pool = pools.global_pool(size)
        assert global_pool is not None
        assert None not in (global_pool.nr, global_pool.free, global_pool.resv, global_pool.overcommit)
        node_pools = pools.node_pools(size)
        assert [pool.node for pool in node_pools] == list(nodes)
        assert all(pool.resv is None and pool.mempolicy is None for pool in node_pools)
        assert sum(pool.nr or 0 for pool in node_pools) == global_pool.nr


def test_el7_two_nodes_of_2048_free_2m_pages() -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(read("node-hugepages", "hwloc-el7-3.10-2node-2m-reserved")))
    assert pools.global_pool(2048) == HugepagePool(2048, None, 4096, 4096, 0, resv=0, mempolicy=4096, overcommit=0)
    assert pools.node_pool(1, 2048) == HugepagePool(2048, 1, 2048, 2048, 0)
    one_g = pools.node_pool(0, 1048576)
    assert one_g is not None
    assert (one_g.nr, one_g.in_use) == (0, 0)


def test_amd_four_nodes_of_512() -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(read("node-hugepages", "hwloc-amd64-4node-512each")))
    assert [(pool.nr, pool.free) for pool in pools.node_pools(2048)] == [(512, 512)] * 4
    assert pools.global_pool(1048576) is None


def test_overcommit_without_pool() -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(read("node-hugepages", "hwloc-em64t-2node-overcommit")))
    pool = pools.global_pool(2048)
    assert pool is not None
    assert (pool.nr, pool.overcommit) == (0, 15360)


def test_demote_size_is_ignored() -> None:
    files = sysfs_files_from_grep(read("node-hugepages", "hwloc-debian12-6.1-demote"))
    assert files["/sys/kernel/mm/hugepages/hugepages-1048576kB/demote_size"] == "2048kB\n"
    pool = parse_hugepage_sysfs(files).global_pool(1048576)
    assert pool == HugepagePool(1048576, None, 0, 0, 0, resv=0, mempolicy=0, overcommit=0)


def test_absolute_paths_and_missing_files() -> None:
    pools = parse_hugepage_sysfs(
        {
            "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages": "3\n",
            "/sys/kernel/mm/hugepages/hugepages-1048576kB/demote": "",
        }
    )
    assert pools.node_pool(1, 1048576) == HugepagePool(1048576, 1, 3, None, None)
    assert pools.global_pool(1048576) == HugepagePool(1048576, None, None, None, None)
    assert pools.nodes == (1,)


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        (
            "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
            "many\n",
            r"^/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages line 1: count is not a number: 'many'",
        ),
        ("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "-1\n", r"nr_hugepages line 1"),
        ("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "1\n2\n", r"line 2: expected a"),
        ("/sys/kernel/mm/hugepages/hugepages-2MB/nr_hugepages", "1\n", r"not a hugepage directory name"),
        ("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "1\n", r"not a hugepage pool file"),
        ("/sys/kernel/mm/transparent_hugepage/enabled", "always\n", r"not a hugepage pool file"),
    ],
)
def test_bad_files_raise_naming_the_path(path: str, text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_hugepage_sysfs({path: text})
