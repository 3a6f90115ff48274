"""The pytest side of hardware certification: selection, the finding inputs, why a finding did not run.

A certification run is one whose ``-m`` expression selects the
``certification`` marker (``pytest checks -m certification``). Only then is
``checks/test_certification.py`` collected, and only for the hosts the
inventory marks for certification; a run that selects certification but no
such host is a usage error. The certificates are written at the end of the
run by :mod:`vrouter_preflight.reporting.certificates`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.mark.expression import Expression  # pytest's own -m parser

from vrouter_preflight.boot_hugepages import expected_pools
from vrouter_preflight.certification.findings import Finding, certification_sizes
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.inventory import HostSpec, Inventory
from vrouter_preflight.trial.report import TrialReport
from vrouter_preflight.trial.runner import TrialRequest, deadline_for
from vrouter_preflight.wiring.check_inputs import require
from vrouter_preflight.wiring.destructive import destructive_mode, not_run_reasons
from vrouter_preflight.wiring.hosts import CHECKS_DIR
from vrouter_preflight.wiring.not_run import SNAPSHOT_NOT_LIVE
from vrouter_preflight.wiring.stash import FLEET
from vrouter_preflight.wiring.trial_inputs import run_judgeable_trial
from vrouter_preflight.wiring.verdict import CannotJudge, Verdict

MARKER = "certification"
CHECK_FILE = CHECKS_DIR / "test_certification.py"
#: Marker sets of the certification checks: selected by -m when the expression accepts any of them.
_CHECK_MARKERS = (
    {MARKER},
    {MARKER, "reachability"},
    {MARKER, "live_only"},
    {MARKER, "live_only", "destructive"},
)


def certification_selected(markexpr: str) -> bool:
    """True when the ``-m`` expression selects the certification checks.

    >>> certification_selected("certification"), certification_selected("")
    (True, False)
    >>> certification_selected("not certification"), certification_selected("certification and not destructive")
    (False, True)
    """
    if MARKER not in markexpr:
        return False
    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return False  # pytest reports the bad expression itself
    return any(expression.evaluate(_Has(markers)) for markers in _CHECK_MARKERS)


class _Has:
    """A ``-m`` matcher for an item carrying exactly ``markers``."""

    def __init__(self, markers: set[str]) -> None:
        self.markers = markers

    def __call__(self, name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name in self.markers


def is_certification_run(config: pytest.Config) -> bool:
    """This run's ``-m`` selects the certification checks.

    >>> from types import SimpleNamespace
    >>> run = SimpleNamespace(getoption=lambda name, default=None: "certification and not destructive")
    >>> is_certification_run(run)  # a stand-in for pytest.Config: only -m is read
    True
    """
    return certification_selected(str(config.getoption("markexpr", "") or ""))


def certification_hosts(inventory: Inventory) -> tuple[str, ...]:
    """The hosts marked for certification, in inventory order.

    >>> hosts = (HostSpec(name="a", certify=True), HostSpec(name="b"), HostSpec(name="c", certify=True))
    >>> certification_hosts(Inventory("inventory/lab.yaml", hosts))
    ('a', 'c')
    """
    return tuple(spec.name for spec in inventory.hosts if spec.certify)


def pytest_configure(config: pytest.Config) -> None:
    fleet = config.stash[FLEET]
    if is_certification_run(config) and not certification_hosts(fleet.inventory):
        raise pytest.UsageError(
            f"-m {MARKER}: no selected host of {fleet.inventory.path} is marked for certification; "
            "set certify: true on the host (or in defaults), or list its group in certify_groups"
        )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The certification checks are collected only in a certification run."""
    if collection_path == CHECK_FILE and not is_certification_run(config):
        return True
    return None


def not_run_reason(config: pytest.Config, spec: HostSpec, check: CheckId) -> str | None:
    """Why certification ``check`` of ``spec``'s host was not run in this run, when it was deselected (else None).

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(getoption=lambda name: False, stash={})  # pytest.Config's stand-in: no --destructive
    >>> not_run_reason(config, HostSpec(name="c0", destructive=True), CheckId.CERTIFY_DESTRUCTIVE_CYCLES)
    'needs --destructive on the command line (and destructive: true for the host)'
    >>> not_run_reason(config, HostSpec(name="c7", transport="snapshot", path="/cap/c7"), CheckId.CERTIFY_TRIAL)
    'needs a live host: this host is a snapshot, which runs no commands'
    >>> not_run_reason(config, HostSpec(name="c0"), CheckId.CERTIFY_NUMA_LAYOUT) is None
    True
    """
    destructive = CheckId.CERTIFY_DESTRUCTIVE_CYCLES
    if check in (CheckId.CERTIFY_TRIAL, destructive) and spec.transport == "snapshot":
        return SNAPSHOT_NOT_LIVE
    if check is not destructive:
        return None
    recorded = not_run_reasons(config).get(spec.name, {}).get(destructive.id)
    if recorded:
        return recorded
    if destructive_mode(config) is None:
        return "needs --destructive on the command line (and destructive: true for the host)"
    if not spec.destructive:
        return "needs destructive: true for this host in the inventory"
    return None


def conclude_finding(verdict: Verdict, finding: Finding) -> None:
    """Record the finding's evidence for the certificate (and the reports), then conclude with its message.

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.wiring.items import check
    >>> cpu = CheckId.CERTIFY_CPU_1G_PAGES
    >>> item = SimpleNamespace(function=check(cpu)(lambda: None), user_properties=[])  # a test item's stand-in
    >>> conclude_finding(Verdict(item, "c0"), Finding(cpu, True, "the CPU has pdpe1gb", {"pdpe1gb": True}))
    >>> item.user_properties
    [('details', {'evidence': {'pdpe1gb': True}}), ('message', 'c0: the CPU has pdpe1gb')]
    >>> conclude_finding(Verdict(item, "c0"), Finding(cpu, False, "the CPU lacks pdpe1gb"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.check_ids.HardwareUnfit: c0: the CPU lacks pdpe1gb
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
    return run_judgeable_trial(host, request, where=f" on node {number}")
