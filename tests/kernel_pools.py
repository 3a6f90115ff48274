"""Changing this machine's real hugepage pools in tests, and always putting them back.

Tests that change kernel state are opt-in: they run only when the environment
variable ``VRPF_KERNEL_TESTS=1`` is set (``.ci/run`` sets it). Use
:func:`require_kernel_tests` at the top of such a test module, and
:func:`reserved_pages` to hold a pool size for the duration of a test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vrouter_preflight.contiguity import ZoneSupply, simulate_reload, zone_supplies
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.host_facts import HostFacts

KERNEL_TESTS_ENV = "VRPF_KERNEL_TESTS"
GLOBAL_POOLS = Path("/sys/kernel/mm/hugepages")
NODES = Path("/sys/devices/system/node")


def kernel_tests_enabled() -> bool:
    """True when the run opted in to tests that change this machine's kernel state."""
    return os.environ.get(KERNEL_TESTS_ENV) == "1"


def require_kernel_tests() -> None:
    """Skip the calling module unless kernel-state tests are opted in (CI opts in)."""
    import pytest

    if not kernel_tests_enabled():
        pytest.skip(f"changes the kernel's hugepage pools; opt in with {KERNEL_TESTS_ENV}=1", allow_module_level=True)
    if os.geteuid() != 0:
        pytest.fail("kernel-state tests need root (they write /sys/kernel/mm/hugepages)", pytrace=False)


def pool_file(size_kib: int, name: str, node: int | None = None) -> Path:
    """The sysfs file ``name`` of the ``size_kib`` pool, global or of one node."""
    base = GLOBAL_POOLS if node is None else NODES / f"node{node}" / "hugepages"
    return base / f"hugepages-{size_kib}kB" / name


def read_pool(size_kib: int, name: str = "nr_hugepages", node: int | None = None) -> int:
    """One counter of a pool, e.g. ``read_pool(2048, "free_hugepages", node=0)``."""
    return int(pool_file(size_kib, name, node).read_text())


def pool_snapshot() -> dict[str, int]:
    """Every nr/free/resv/surplus counter of every pool, global and per node, by path."""
    counters: dict[str, int] = {}
    for path in sorted(GLOBAL_POOLS.glob("hugepages-*/*")) + sorted(NODES.glob("node*/hugepages/hugepages-*/*")):
        if path.name in ("nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages"):
            counters[str(path)] = int(path.read_text())
    return counters


def set_pool(size_kib: int, count: int, node: int | None = None) -> int:
    """Write nr_hugepages and return what the kernel actually holds afterwards."""
    path = pool_file(size_kib, "nr_hugepages", node)
    path.write_text(f"{count}\n")
    return int(path.read_text())


@contextmanager
def reserved_pages(size_kib: int, count: int, node: int | None = None) -> Iterator[int]:
    """Hold ``count`` pages of ``size_kib`` (globally, or on ``node``) and restore the old size after.

    Yields the number the kernel really reserved (a 1G request can fall short
    at runtime). On exit the old size is written back and verified; a restore
    that falls short raises, naming both numbers.
    """
    before = read_pool(size_kib, node=node)
    try:
        yield set_pool(size_kib, count, node)
    finally:
        after = set_pool(size_kib, before, node)
        if after != before:
            raise RuntimeError(
                f"could not restore the {size_kib} kB pool{'' if node is None else f' of node {node}'}: "
                f"asked for {before}, the kernel holds {after}"
            )


LOCK_PATH = Path("/tmp/vrpf-kernel-tests.lock")


@contextmanager
def kernel_lock() -> Iterator[None]:
    """Serialise tests that change the pools across processes (parallel runs, xdist workers).

    Hold it for the whole of a test (or module) that reserves, releases or
    measures pages: two such tests at once would read each other's changes.
    """
    import fcntl

    with open(LOCK_PATH, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def two_runtime_1g_pages_on_node0() -> Iterator[int]:
    """Hold the kernel lock and two runtime 1G pages on node 0; fail the test if the kernel gives fewer.

    Yields 2. The pool is put back on exit (:func:`reserved_pages`).
    """
    with kernel_lock(), reserved_pages(GIB_KIB, 2, node=0) as got:
        if got < 2:
            pytest.fail(f"the kernel gave {got} of 2 runtime 1G pages on node 0: nothing to release", pytrace=False)
        yield got


def usable_order10_supply(facts: HostFacts) -> tuple[tuple[ZoneSupply, ...], int]:
    """The host's zone supplies and how many order-10 blocks the gate counts usable in them now."""
    assert facts.buddyinfo is not None, "no /proc/buddyinfo"
    supplies = zone_supplies(facts.buddyinfo, facts.zoneinfo, facts.pagetypeinfo_if_parsed)
    return supplies, simulate_reload({10: 1_000_000}, supplies).granted[10]
