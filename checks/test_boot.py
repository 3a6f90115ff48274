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
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict


@check(CheckId.CMDLINE_HUGEPAGES)
def test_cmdline_hugepages(host: HostUnderTest, cmdline: KernelCmdline, verdict: Verdict) -> None:
    """The command line has what the inventory's ``expect:`` asks for, and the kernel reserved it.

    Without ``expect:`` the command line's own hugepage requests are the
    expectation. A shortfall names the pages missing on each node.
    """
    facts = host.facts
    expectation = host.spec.expect
    default_kib = cmdline.default_hugepagesz_kib() or facts.default_hugepage_kib
    pools = expected_pools(expectation, cmdline, default_kib)
    if not pools and (expectation is None or expectation.default_hugepagesz_kib is None):
        verdict.not_applicable("no hugepages on the kernel command line and no expect: in the inventory")
        return
    problems = compare_with_expectation(expectation, cmdline, facts.default_hugepage_kib)
    problems += reservation_shortfalls(pools, facts.hugepages, facts.numa_nodes, facts.cpu_flags)
    if problems:
        verdict.conclude(False, "boot hugepages not as expected: " + "; ".join(problems))
    summary = ", ".join(describe_pool(pool) for pool in pools)
    verdict.conclude(True, f"boot hugepages requested and reserved: {summary}")
