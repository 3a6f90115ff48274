"""The opt-in destructive stage: release 1G pages, reload vRouter, prove it healthy, roll back.

Check id: ``remediation``. Runs only with ``--destructive`` AND ``destructive: true``
on the host (``--plan`` shows what it would do and changes nothing). Every
change is journaled before it is made (``reports/journal/<host>.json``), and
``--rollback-journal PATH`` replays the rollback of an interrupted run.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.contiguity import ZoneSupply
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.remediation import RemediationInterrupted, open_journal, plan_remediation, run_remediation
from vrouter_preflight.remediation.deployments import VrouterOperations
from vrouter_preflight.wiring.allure_attach import figure_step
from vrouter_preflight.wiring.destructive import destructive_mode, journal_dir, rollout_of
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict


@check(CheckId.REMEDIATION)
@pytest.mark.destructive
def test_remediation(
    host: HostUnderTest,
    kernel_vrouter: None,
    demand: VrouterDemand,
    supplies: tuple[ZoneSupply, ...],
    operations: VrouterOperations,
    verdict: Verdict,
    request: pytest.FixtureRequest,
) -> None:
    """Free the fewest 1G pages that close the gap, reload vRouter, wait for health, give the pages back."""
    keep = demand.hugepages_needed.get(GIB_KIB, 0) if demand.settings.hugepage_mode else 0
    plan = plan_remediation(
        demand, supplies, host.facts.hugepages, host.spec, operations=operations, keep_free_1g_total=keep
    )
    verdict.attach_text("plan", plan.describe())
    if destructive_mode(request.config) == "plan":
        verdict.item.user_properties.append(("details", {"plan": plan.describe()}))
        verdict.conclude(plan.feasible, f"plan (nothing changed): {plan.describe().splitlines()[0]}")
        return
    rollout = rollout_of(request.config)
    assert rollout is not None, "the destructive stage runs inside a rollout"
    with rollout.slot(host.name) as decision:
        if not decision.run:
            verdict.not_applicable(decision.reason)
        if not plan.feasible:
            rollout.finish(host.name, ok=False, reason=plan.problem or "no feasible plan")
            verdict.conclude(False, f"cannot remediate, nothing changed: {plan.problem}")
        journal = open_journal(journal_dir(request.config), host.spec, plan)
        try:
            outcome = run_remediation(
                host.spec,
                host.transport,
                plan,
                journal,
                step=figure_step,
            )
        except RemediationInterrupted as stopped:
            # The rollback has run: report this host like any other, then stop the session (exit 2).
            outcome = stopped.outcome
            request.session.shouldstop = f"{host.name}: the destructive stage was interrupted by {outcome.interrupted}"
        rollout.finish(host.name, ok=outcome.ok and outcome.interrupted is None, reason=outcome.message)
    details = {
        "changed": outcome.changed,
        "released": {str(node): pages for node, pages in outcome.released.items()},
        "restored": {str(node): pages for node, pages in outcome.restored.items()},
        "shortfall": {str(node): pages for node, pages in outcome.shortfall.items()},
        "back": outcome.back,
        "journal": outcome.journal_path,
        "journal_closed": outcome.journal_closed,
        "warnings": list(outcome.warnings),
        "interrupted": outcome.interrupted,
    }
    verdict.item.user_properties.append(("details", details))
    verdict.attach_json("remediation outcome", details)
    warnings = f" (warning: {'; '.join(outcome.warnings)})" if outcome.warnings else ""
    stopped_by = f" (the run was stopped by {outcome.interrupted})" if outcome.interrupted else ""
    verdict.conclude(outcome.ok and not outcome.interrupted, outcome.message + warnings + stopped_by)
