"""The trial check's inputs, as pytest fixtures: what to try, and the helper's report.

Anything that keeps the trial from being judged — a snapshot host, a NUMA node
the host does not have, no Python interpreter, an unreadable report, a dropped
connection, a node binding the kernel refuses — raises
:class:`~vrouter_preflight.wiring.verdict.CannotJudge` here, while the check is being set up, so
pytest reports an ERROR with the reason. A host where the trial does not apply
(buddy mode and no ``trial.sizes``) is SKIPPED with the reason.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.errors import HostError, NotLiveError
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.trial.report import TrialReport, pool_changes
from vrouter_preflight.trial.runner import TrialRequest, TrialUnavailable, deadline_for, run_trial
from vrouter_preflight.wiring.check_inputs import host_demand
from vrouter_preflight.wiring.verdict import CannotJudge, Verdict

SNAPSHOT_TRIAL = "the trial allocation cannot run on a snapshot: it needs the live kernel"


def trial_sizes(host: HostUnderTest, demand: VrouterDemand) -> tuple[int, ...]:
    """The page sizes to try: the inventory's ``trial.sizes``, else the size vRouter is configured with.

    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import HostSpec, TrialPlan, VrouterOverrides
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> demand = vrouter_demand(vrouter_settings(VrouterOverrides(hugepage_size="2M"), {}), 4096)
    >>> trial_sizes(HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool()), demand)
    (2048,)
    >>> pinned = HostSpec(name="c0", transport="local", trial=TrialPlan(sizes_kib=(1048576,)))
    >>> trial_sizes(HostUnderTest(pinned, {}, TransportPool()), demand)
    (1048576,)
    """
    settings = demand.settings
    if host.spec.trial.sizes_kib:
        return host.spec.trial.sizes_kib
    if settings.hugepage_mode and settings.hugepage_size_kib is not None:
        return (settings.hugepage_size_kib,)
    return ()


def nothing_to_try(host: HostUnderTest) -> str | None:
    """Why the trial allocation does not apply: no page size to try (buddy mode and no ``trial.sizes``).

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.capture import PAGE_SIZE_KEY, Capture
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> page_size = {PAGE_SIZE_KEY: Capture(PAGE_SIZE_KEY, "ok", "4096\\n")}
    >>> nothing_to_try(HostUnderTest(HostSpec(name="c0", transport="local"), page_size, TransportPool()))
    'vRouter does not use hugepages for its tables (no hugepage size configured) and trial.sizes is empty'
    """
    demand = host_demand(host)
    if trial_sizes(host, demand):
        return None
    why = "; ".join(demand.settings.warnings) or "no hugepage size configured"
    return f"vRouter does not use hugepages for its tables ({why}) and trial.sizes is empty"


@pytest.fixture
def trial_request(host: HostUnderTest, demand: VrouterDemand, trial_node: int | None, verdict: Verdict) -> TrialRequest:
    """What to try on this host (and node); SKIPPED when nothing applies, ERROR when it cannot run here."""
    reason = nothing_to_try(host)
    if reason is not None:
        verdict.not_applicable(reason)
    sizes = trial_sizes(host, demand)
    if host.spec.transport == "snapshot":
        raise CannotJudge(host.name, SNAPSHOT_TRIAL)
    if trial_node is not None:
        nodes = host.facts.numa_nodes
        if trial_node not in nodes:
            has = ", ".join(str(n) for n in nodes) or "none listed"
            raise CannotJudge(
                host.name,
                f"trial.nodes asks for NUMA node {trial_node}, the host has node(s) {has}; fix trial.nodes",
            )
    return TrialRequest(
        sizes_kib=sizes,
        flow_bytes=demand.flow_table_bytes,
        bridge_bytes=demand.bridge_table_bytes,
        node=trial_node,
        deadline_s=deadline_for(host.spec.command_timeout),
    )


def run_judgeable_trial(host: HostUnderTest, request: TrialRequest, where: str = "") -> TrialReport:
    """Run the trial on ``host`` and return its report, or raise CannotJudge saying why it could not be judged.

    A snapshot, a dropped connection, no interpreter, an unreadable report or a
    trial that stopped before trying (with the pools unchanged) cannot be
    judged; a trial that changed the pools is returned, so the check fails it.
    ``where`` names the NUMA node in the message (`` on node 1``).

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> snapshot = HostUnderTest(HostSpec(name="c7", transport="snapshot", path="/cap/c7"), {}, TransportPool())
    >>> request = TrialRequest(sizes_kib=(2048,), flow_bytes=1, bridge_bytes=1)
    >>> run_judgeable_trial(snapshot, request)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.wiring.verdict.CannotJudge: c7: cannot judge: the trial allocation cannot run on a snapshot: ...
    """
    try:
        report = run_trial(host.transport, request)
    except NotLiveError:
        raise CannotJudge(host.name, SNAPSHOT_TRIAL) from None
    except (HostError, TrialUnavailable) as exc:
        raise CannotJudge(host.name, f"trial allocation{where}: {exc}") from None
    if report.error is not None:
        raise CannotJudge(host.name, f"trial allocation{where}: the helper stopped: {report.error}")
    for trial in report.trials:
        if trial.status in ("error", "timeout", "interrupted") and not pool_changes(trial.before, trial.after):
            raise CannotJudge(host.name, f"trial allocation ({trial.size_name}){where}: {trial.status}: {trial.reason}")
    return report


@pytest.fixture
def trial_report(host: HostUnderTest, trial_request: TrialRequest) -> TrialReport:
    """The helper's report; ERROR when it could not run or could not try (pools that changed still fail the check)."""
    return run_judgeable_trial(host, trial_request)
