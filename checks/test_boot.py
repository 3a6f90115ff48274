"""Did the boot command line ask for the hugepages it should, and did the kernel reserve them?

Check id: ``cmdline_hugepages``.
"""

from __future__ import annotations

from vrouter_preflight.boot_hugepages import (
    compare_with_expectation,
    describe_pool,
    expected_pools,
    reservation_shortfalls,
)
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.facts.cmdline import KernelCmdline
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.inventory import ExpectedPool
from vrouter_preflight.wiring.check_inputs import host_cmdline
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict


def nothing_expected(host: HostUnderTest) -> str | None:
    """Why the check does not apply: no hugepages asked for on the command line, nor by ``expect:``."""
    expectation = host.spec.expect
    if boot_pools(host, host_cmdline(host)) or (
        expectation is not None and expectation.default_hugepagesz_kib is not None
    ):
        return None
    return "no hugepages on the kernel command line and no expect: in the inventory"


def boot_pools(host: HostUnderTest, cmdline: KernelCmdline) -> tuple[ExpectedPool, ...]:
    """The pools the boot should have reserved: ``expect:``, else the command line's own requests."""
    default_kib = cmdline.default_hugepagesz_kib() or host.facts.default_hugepage_kib
    return expected_pools(host.spec.expect, cmdline, default_kib)


@check(CheckId.CMDLINE_HUGEPAGES, not_applicable=nothing_expected)
def test_cmdline_hugepages(host: HostUnderTest, cmdline: KernelCmdline, verdict: Verdict) -> None:
    """The command line has what the inventory's ``expect:`` asks for, and the kernel reserved it.

    Without ``expect:`` the command line's own hugepage requests are the
    expectation. A shortfall names the pages missing on each node.
    """
    reason = nothing_expected(host)
    if reason is not None:
        verdict.not_applicable(reason)
    facts = host.facts
    expectation = host.spec.expect
    pools = boot_pools(host, cmdline)
    problems = compare_with_expectation(expectation, cmdline, facts.default_hugepage_kib)
    problems += reservation_shortfalls(pools, facts.hugepages, facts.numa_nodes, facts.cpu_flags)
    if problems:
        verdict.conclude(False, "boot hugepages not as expected: " + "; ".join(problems))
    summary = ", ".join(describe_pool(pool) for pool in pools)
    verdict.conclude(True, f"boot hugepages requested and reserved: {summary}")
