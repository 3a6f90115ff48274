"""Hardware certification: can this server model and its boot configuration carry kernel-mode vRouter
with hugepages?

Check ids: ``certify_identity``, ``certify_cpu_1g_pages``, ``certify_numa_layout``,
``certify_boot_hugepages``, ``certify_trial`` (one per NUMA node), ``certify_destructive_cycles``.
Collected only in a certification run (``-m certification``) and only for the
hosts the inventory marks for certification (``certify: true`` or
``certify_groups``). Each check records one finding with its evidence; at the
end of the run every such host gets ``reports/certificates/<host>.json``.
"""

from __future__ import annotations

import pytest

import vrouter_preflight
from vrouter_preflight.capture import DMI_DIR
from vrouter_preflight.certification.cycles import describe_cycles, run_cycles
from vrouter_preflight.certification.findings import (
    identity,
    judge_1g_pages,
    judge_boot_reservations,
    judge_cycles,
    judge_identity,
    judge_numa_balance,
    judge_trial_node,
    numa_layout,
)
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.facts.cmdline import KernelCmdline
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.records import utc_timestamp
from vrouter_preflight.remediation.deployments import VrouterOperations
from vrouter_preflight.trial.report import TrialReport
from vrouter_preflight.wiring.allure_attach import figure_step
from vrouter_preflight.wiring.certification import conclude_finding
from vrouter_preflight.wiring.check_inputs import require
from vrouter_preflight.wiring.destructive import destructive_mode, journal_dir, rollout_of
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import CannotJudge, Verdict

pytestmark = pytest.mark.certification


@check(CheckId.CERTIFY_IDENTITY)
@pytest.mark.reachability
def test_certify_identity(host: HostUnderTest, verdict: Verdict) -> None:
    """What is certified: DMI vendor/product/BIOS (where readable), kernel, OS, CPU, vrouter module, suite, time."""
    facts = host.facts
    unavailable = {u.path.rsplit("/", 1)[-1]: u.status for u in facts.unavailable if u.path.startswith(DMI_DIR)}
    recorded = identity(
        dmi=facts.dmi,
        dmi_unavailable={name: unavailable.get(name, "absent") for name, value in facts.dmi.items() if value is None},
        kernel_release=facts.kernel_release,
        os_name=facts.os_release.pretty_name if facts.os_release is not None else None,
        cpu_model=facts.cpu_model,
        vrouter_version=facts.vrouter_version,
        suite_version=vrouter_preflight.__version__,
        time=utc_timestamp(),
    )
    conclude_finding(verdict, judge_identity(recorded))


@check(CheckId.CERTIFY_CPU_1G_PAGES)
def test_certify_cpu_1g_pages(host: HostUnderTest, verdict: Verdict) -> None:
    """The CPU supports 1G pages (``pdpe1gb``)."""
    facts = host.facts
    flags = require(facts.cpu_flags, host.name, "/proc/cpuinfo is absent: the CPU flags are unknown")
    has_pool = GIB_KIB in facts.hugepages.sizes_kib
    conclude_finding(verdict, judge_1g_pages(flags, kernel_has_1g_pool=has_pool, cpu_model=facts.cpu_model))


@check(CheckId.CERTIFY_NUMA_LAYOUT)
def test_certify_numa_layout(host: HostUnderTest, verdict: Verdict) -> None:
    """Nodes, memory and CPUs per node recorded; each within ``cert_numa_tolerance`` % of the mean."""
    facts = host.facts
    nodes = facts.numa_nodes
    if not nodes:
        raise CannotJudge(host.name, "no NUMA node is listed in /sys/devices/system/node")
    missing = [n for n in nodes if n not in facts.node_meminfo]
    if missing:
        raise CannotJudge(host.name, f"/sys/devices/system/node/node{missing[0]}/meminfo is absent")
    layout = numa_layout(nodes, facts.node_meminfo, facts.node_cpus)
    verdict.attach_table(
        "NUMA layout", ["node", "MemTotal kB", "CPUs", "cpulist"], [list(n.as_json().values()) for n in layout]
    )
    conclude_finding(verdict, judge_numa_balance(layout, host.spec.cert_numa_tolerance))


@check(CheckId.CERTIFY_BOOT_HUGEPAGES)
def test_certify_boot_hugepages(host: HostUnderTest, cmdline: KernelCmdline, verdict: Verdict) -> None:
    """Every hugepage reservation of the command line (or ``expect:``) was met at boot, node by node."""
    facts = host.facts
    verdict.attach_text("/proc/cmdline", facts.text("/proc/cmdline") or "")
    finding = judge_boot_reservations(
        host.spec.expect, cmdline, facts.hugepages, facts.numa_nodes, facts.cpu_flags, facts.default_hugepage_kib
    )
    conclude_finding(verdict, finding)


@check(CheckId.CERTIFY_TRIAL)
@pytest.mark.live_only
def test_certify_trial(
    host: HostUnderTest,
    node: int | None,
    certification_trial: TrialReport,
    verdict: Verdict,
) -> None:
    """The trial allocation, bound to this node, gets every page size to certify and gives it all back."""
    number = require(node, host.name, "no NUMA node is listed in /sys/devices/system/node")
    conclude_finding(verdict, judge_trial_node(certification_trial, number))


@check(CheckId.CERTIFY_DESTRUCTIVE_CYCLES)
@pytest.mark.live_only
@pytest.mark.destructive
def test_certify_destructive_cycles(
    host: HostUnderTest,
    demand: VrouterDemand,
    operations: VrouterOperations,
    verdict: Verdict,
    request: pytest.FixtureRequest,
) -> None:
    """The destructive cycle passes ``cert_cycles`` times in a row, each rollback verified."""
    count = host.spec.cert_cycles
    keep = demand.hugepages_needed.get(GIB_KIB, 0) if demand.settings.hugepage_mode else 0
    if destructive_mode(request.config) == "plan":
        verdict.not_applicable(f"plan mode: {count} destructive cycles would run; nothing was changed")
    rollout = rollout_of(request.config)
    assert rollout is not None, "the destructive stage runs inside a rollout"
    with rollout.slot(host.name) as decision:
        if not decision.run:
            verdict.not_applicable(decision.reason)
        result = run_cycles(
            host,
            demand,
            operations,
            journal_dir(request.config),
            count,
            keep_free_1g_total=keep,
            step=figure_step,
        )
        finding = judge_cycles(result.cycles, count, result.supply_before, result.supply_after)
        rollout.finish(host.name, ok=finding.ok, reason=finding.message)
    verdict.attach_table(
        "cycles", ["cycle", "result", "released 1G", "restored 1G", "rollback verified"], describe_cycles(result.cycles)
    )
    conclude_finding(verdict, finding)
