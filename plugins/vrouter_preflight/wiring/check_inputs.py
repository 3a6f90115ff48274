"""What the gate's checks judge from, as pytest fixtures.

Each input is computed from the host's facts and its inventory entry. An
input that cannot be had (a file absent, a value that makes no sense) raises
:class:`~vrouter_preflight.wiring.verdict.CannotJudge` while the check is being set up, so
pytest reports an ERROR with the reason, never a pass.

The checks that judge the kernel module's tables (``contiguous_blocks``,
``hugepage_backing``, ``trial_allocation``, ``remediation``) ask for
:func:`kernel_vrouter` first: on a DPDK vRouter (``vrouter_mode: dpdk``) they are
SKIPPED as not applicable before any other input is computed.
"""

from __future__ import annotations

from typing import TypeVar

import pytest

from vrouter_preflight.contiguity import ZoneSupply, zone_supplies
from vrouter_preflight.contiguity.plausibility import ImplausibleBuddyInfo, check_buddyinfo_plausible
from vrouter_preflight.demand import VrouterDemand, vrouter_demand, vrouter_settings
from vrouter_preflight.facts.cmdline import KernelCmdline
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.remediation.deployments import OperationsMissing, VrouterOperations, resolve_operations
from vrouter_preflight.wiring.destructive import rollout_of
from vrouter_preflight.wiring.items import node_of
from vrouter_preflight.wiring.verdict import CannotJudge, Verdict

T = TypeVar("T")

DPDK_NOT_APPLICABLE = (
    "not applicable: vRouter runs in DPDK mode (vrouter_mode: dpdk) and loads no kernel module, "
    "whose tables this check judges"
)
#: The input a check that judges the kernel module's tables asks for first (:func:`kernel_vrouter`).
KERNEL_VROUTER = "kernel_vrouter"


def require(value: T | None, host: str, what: str) -> T:
    """``value``, or CannotJudge saying ``what`` is missing.

    >>> require(3, "c0", "page size")
    3
    >>> require(None, "c0", "/proc/buddyinfo is absent")
    Traceback (most recent call last):
    ...
    vrouter_preflight.wiring.verdict.CannotJudge: c0: cannot judge: /proc/buddyinfo is absent
    """
    if value is None:
        raise CannotJudge(host, what)
    return value


def host_demand(host: HostUnderTest) -> VrouterDemand:
    """What a vRouter reload on ``host`` would ask for (inventory overrides, module parameters, defaults).

    >>> from vrouter_preflight.capture import PAGE_SIZE_KEY, Capture
    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> spec = HostSpec(name="c0", transport="local")
    >>> page_size = {PAGE_SIZE_KEY: Capture(PAGE_SIZE_KEY, "ok", "4096\\n")}
    >>> host_demand(HostUnderTest(spec, page_size, TransportPool())).blocks_with_margin()
    {10: 46, 9: 2, 8: 1}
    >>> host_demand(HostUnderTest(spec, {}, TransportPool()))
    Traceback (most recent call last):
    ...
    vrouter_preflight.wiring.verdict.CannotJudge: c0: cannot judge: the base page size is unknown (no getconf PAGESIZE)
    """
    return host.derived(_demand_of)


def _demand_of(host: HostUnderTest) -> VrouterDemand:
    facts = host.facts
    page_size = require(facts.page_size, host.name, "the base page size is unknown (no getconf PAGESIZE)")
    agent_conf = facts.agent_conf
    agent_size = None if agent_conf is None else agent_conf.configured_hugepage_size_kib()
    try:
        settings = vrouter_settings(host.spec.vrouter, facts.vrouter_parameters, agent_hugepage_size_kib=agent_size)
    except ValueError as exc:
        raise CannotJudge(host.name, f"vRouter settings: {exc}") from None
    return vrouter_demand(settings, page_size)


def host_zone_supplies(host: HostUnderTest) -> tuple[ZoneSupply, ...]:
    """Free blocks per zone with the atomic floors (zoneinfo), or Normal zones only without it.

    >>> from vrouter_preflight.capture import Capture
    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> text = "Node 0, zone    DMA32    512    300     12\\nNode 0, zone   Normal   1043    541     96\\n"
    >>> buddy = {"/proc/buddyinfo": Capture("/proc/buddyinfo", "ok", text)}
    >>> supplies = host_zone_supplies(HostUnderTest(HostSpec(name="c0", transport="local"), buddy, TransportPool()))
    >>> [(s.node, s.zone, s.free_blocks, s.floor_pages) for s in supplies]    # no zoneinfo: Normal only, no floor
    [(0, 'Normal', (1043, 541, 96), None)]

    A buddyinfo the host's kernel cannot have printed (:mod:`~vrouter_preflight.contiguity.plausibility`)
    cannot be judged either:

    >>> from vrouter_preflight.capture import CPUINFO_KEY
    >>> sixteen = Capture("/proc/buddyinfo", "ok", "Node 0, zone Normal" + " 1" * 16)
    >>> x86 = Capture(CPUINFO_KEY, "ok", "vendor_id : AuthenticAMD\\ncpu family : 25\\nflags : fpu\\n")
    >>> captures = {sixteen.path: sixteen, x86.path: x86}
    >>> try:
    ...     host_zone_supplies(HostUnderTest(HostSpec(name="c0", transport="local"), captures, TransportPool()))
    ... except CannotJudge as error:
    ...     print(error)
    c0: cannot judge: /proc/buddyinfo has 16 order columns (0-15), an x86 kernel prints 11 (0-10)
    """
    return host.derived(_zone_supplies_of)


def _zone_supplies_of(host: HostUnderTest) -> tuple[ZoneSupply, ...]:
    facts = host.facts
    buddyinfo = require(facts.buddyinfo, host.name, facts.why_missing("/proc/buddyinfo"))
    try:
        check_buddyinfo_plausible(
            buddyinfo,
            facts.zoneinfo,
            page_size=facts.page_size,
            x86=facts.x86,
            mem_total_kib=_mem_total_kib(facts),
        )
    except ImplausibleBuddyInfo as exc:
        raise CannotJudge(host.name, str(exc)) from None
    try:
        return zone_supplies(buddyinfo, facts.zoneinfo, facts.pagetypeinfo_if_parsed)
    except ValueError as exc:
        raise CannotJudge(host.name, f"/proc/buddyinfo and /proc/zoneinfo disagree: {exc}") from None


def _mem_total_kib(facts: HostFacts) -> int | None:
    """MemTotal in KiB; ``None`` when /proc/meminfo is absent or broken (``facts_parse`` reports that)."""
    try:
        meminfo = facts.meminfo
        return None if meminfo is None else meminfo.kib("MemTotal")
    except (FactParseError, ValueError):
        return None


def free_1g_by_node(pools: HugepagePools) -> dict[int, int]:
    """Free 1G pages per NUMA node (nodes without a 1G pool are left out).

    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> free_1g_by_node(HugepagePools((HugepagePool(GIB_KIB, 0, nr=170, free=14, surplus=0),)))
    {0: 14}
    """
    return {
        pool.node: pool.free
        for pool in pools.pools
        if pool.size_kib == GIB_KIB and pool.node is not None and pool.free is not None
    }


@pytest.fixture
def demand(host: HostUnderTest) -> VrouterDemand:
    """The host's vRouter demand (ERROR when it cannot be computed)."""
    return host_demand(host)


@pytest.fixture
def supplies(host: HostUnderTest) -> tuple[ZoneSupply, ...]:
    """The host's buddy supply per zone (ERROR without /proc/buddyinfo)."""
    return host_zone_supplies(host)


@pytest.fixture
def node_pools(host: HostUnderTest, node: int | None) -> tuple[HugepagePool, ...]:
    """The hugepage pools of one NUMA node, every size (ERROR when sysfs lists none)."""
    number = require(node, host.name, "no NUMA node is listed in /sys/devices/system/node")
    pools = tuple(p for p in host.facts.hugepages.pools if p.node == number)
    if not pools:
        raise CannotJudge(host.name, f"no hugepage pools listed for node {number} in sysfs (kernel without hugetlbfs?)")
    return pools


@pytest.fixture
def cmdline(host: HostUnderTest) -> KernelCmdline:
    """The kernel command line (ERROR when /proc/cmdline is absent)."""
    return host_cmdline(host)


def host_cmdline(host: HostUnderTest) -> KernelCmdline:
    """The host's kernel command line; :class:`CannotJudge` when /proc/cmdline is absent.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> host_cmdline(HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool()))
    Traceback (most recent call last):
    ...
    vrouter_preflight.wiring.verdict.CannotJudge: c0: cannot judge: /proc/cmdline: absent
    """
    return require(host.facts.cmdline, host.name, host.facts.why_missing("/proc/cmdline"))


@pytest.fixture
def operations(host: HostUnderTest) -> VrouterOperations:
    """How to reload vRouter and tell it is healthy on this host (ERROR when the inventory does not say)."""
    try:
        return resolve_operations(host.spec.vrouter, host.name)
    except OperationsMissing as exc:
        raise CannotJudge(host.name, str(exc).removeprefix(f"{host.name}: ")) from None


@pytest.fixture
def verdict(request: pytest.FixtureRequest, host: HostUnderTest) -> Verdict:
    """The handle a check concludes with (host and node recorded for every report)."""
    return Verdict(request.node, host.name, node_of(request.node))


@pytest.fixture
def kernel_vrouter(request: pytest.FixtureRequest, host: HostUnderTest, verdict: Verdict) -> None:
    """Nothing on a kernel-mode vRouter; on a DPDK one the check is SKIPPED as not applicable.

    Asked for right after ``host``, so a DPDK host's check stops before the inputs it
    would lack. In a destructive rollout the host still takes its turn and gives it back
    at once: later batches must not wait for a host that never changes.
    """
    reason = dpdk_not_applicable(host)
    if reason is None:
        return
    rollout = rollout_of(request.config)
    if rollout is not None and request.node.get_closest_marker("destructive") is not None:
        with rollout.slot(host.name) as decision:
            if decision.run:
                rollout.finish(host.name, ok=True, reason=reason)
    verdict.not_applicable(reason)


def dpdk_not_applicable(host: HostUnderTest) -> str | None:
    """Why a check of the kernel module's tables does not apply to ``host`` (a DPDK vRouter), or None.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> dpdk_not_applicable(HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool())) is None
    True
    """
    return None if host.spec.kernel_module else DPDK_NOT_APPLICABLE
