"""The certification checks' inputs, as pytest fixtures, and how a finding is recorded.

As elsewhere, an input that cannot be had raises
:class:`~vrouter_preflight.verdict.CannotJudge` while the check is being set up (an
ERROR with the reason), and the certificate then says the finding errored.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.boot_hugepages import expected_pools
from vrouter_preflight.certification.findings import Finding, certification_sizes
from vrouter_preflight.check_inputs import require
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.errors import HostError, NotLiveError
from vrouter_preflight.facts.sizes import format_kib
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.trial.report import TrialReport, pool_changes
from vrouter_preflight.trial.runner import TrialRequest, TrialUnavailable, deadline_for, run_trial
from vrouter_preflight.verdict import CannotJudge, Verdict


def conclude_finding(verdict: Verdict, finding: Finding) -> None:
    """Record the finding's evidence for the certificate (and the reports), then conclude with its message.

    >>> from types import SimpleNamespace
    >>> item = SimpleNamespace(originalname="test_certify_cpu_1g_pages", user_properties=[])  # a test item's stand-in
    >>> conclude_finding(Verdict(item, "c0"), Finding("cpu_1g_pages", True, "the CPU has pdpe1gb", {"pdpe1gb": True}))
    >>> item.user_properties
    [('details', {'evidence': {'pdpe1gb': True}}), ('message', 'c0: the CPU has pdpe1gb')]
    >>> conclude_finding(Verdict(item, "c0"), Finding("cpu_1g_pages", False, "the CPU lacks pdpe1gb"))
    Traceback (most recent call last):
    ...
    Failed: c0: the CPU lacks pdpe1gb
    """
    __tracebackhide__ = True
    evidence = dict(finding.evidence)
    verdict.item.user_properties.append(("details", {"evidence": evidence}))
    verdict.attach_json(f"{finding.id} evidence", evidence)
    verdict.conclude(finding.ok, finding.message)


def sizes_to_certify(host: HostUnderTest, demand: VrouterDemand) -> tuple[int, ...]:
    """``trial.sizes``, else vRouter's configured size and every size the boot command line reserves.

    >>> from vrouter_preflight.capture import Capture
    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import HostSpec, VrouterOverrides
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> cmdline = Capture("/proc/cmdline", "ok", "ro default_hugepagesz=1G hugepagesz=1G hugepages=8\\n")
    >>> host = HostUnderTest(HostSpec(name="c0", transport="local"), {cmdline.path: cmdline}, TransportPool())
    >>> sizes_to_certify(host, vrouter_demand(vrouter_settings(VrouterOverrides(hugepage_size="2M"), {}), 4096))
    (1048576, 2048)
    >>> sizes_to_certify(host, vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096))  # buddy mode
    (1048576,)
    """
    facts = host.facts
    settings = demand.settings
    vrouter_size = settings.hugepage_size_kib if settings.hugepage_mode else None
    cmdline = facts.cmdline
    boot: tuple[int, ...] = ()
    if cmdline is not None:
        default_kib = cmdline.default_hugepagesz_kib() or facts.default_hugepage_kib
        boot = tuple(pool.size_kib for pool in expected_pools(host.spec.expect, cmdline, default_kib))
    return certification_sizes(host.spec.trial.sizes_kib, vrouter_size, boot)


@pytest.fixture
def certification_trial(host: HostUnderTest, demand: VrouterDemand, node: int | None) -> TrialReport:
    """The trial allocation bound to ``node``, for every page size to certify (ERROR when it cannot run)."""
    number = require(node, host.name, "no NUMA node is listed in /sys/devices/system/node")
    sizes = sizes_to_certify(host, demand)
    if not sizes:
        raise CannotJudge(
            host.name,
            "no hugepage size to try: vRouter is in buddy mode, nothing is reserved at boot and trial.sizes is "
            "empty; set trial.sizes (e.g. [1G, 2M]) or vrouter.hugepage_size",
        )
    request = TrialRequest(
        sizes_kib=sizes,
        flow_bytes=demand.flow_table_bytes,
        bridge_bytes=demand.bridge_table_bytes,
        node=number,
        deadline_s=deadline_for(host.spec.command_timeout),
    )
    try:
        report = run_trial(host.transport, request)
    except NotLiveError:
        raise CannotJudge(host.name, "the trial allocation needs the live kernel; this host is a snapshot") from None
    except (HostError, TrialUnavailable) as exc:
        raise CannotJudge(host.name, f"trial allocation on node {number}: {exc}") from None
    if report.error is not None:
        raise CannotJudge(host.name, f"trial allocation on node {number}: the helper stopped: {report.error}")
    for trial in report.trials:
        if trial.status in ("error", "timeout", "interrupted") and not pool_changes(trial.before, trial.after):
            raise CannotJudge(
                host.name,
                f"trial allocation of {format_kib(trial.size_kib)} on node {number}: {trial.status}: {trial.reason}",
            )
    return report
