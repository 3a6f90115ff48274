"""Trial allocation: the kernel gives hugepages of the tables' exact size, and takes them all back.

Check id: ``trial_allocation`` (one test per host, or per host and NUMA node
of ``trial: {nodes: [...]}``). Live hosts only: not collected for snapshots.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.check_ids import CheckId, HugepageMisconfigured
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.facts.sizes import format_kib
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.trial.judge import agent_directories, check_mounts, judge_size, judge_trial, pool_rows
from vrouter_preflight.trial.report import TrialReport
from vrouter_preflight.trial.runner import TrialRequest
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.trial_inputs import nothing_to_try
from vrouter_preflight.wiring.verdict import Verdict


@check(CheckId.TRIAL_ALLOCATION, not_applicable=nothing_to_try)
@pytest.mark.live_only
def test_trial_allocation(
    host: HostUnderTest,
    kernel_vrouter: None,
    demand: VrouterDemand,
    trial_request: TrialRequest,
    trial_report: TrialReport,
    verdict: Verdict,
) -> None:
    """Map and touch hugepages of the flow and bridge tables' size; the pools read back exactly as before."""
    facts = host.facts
    configured = demand.settings.hugepage_size_kib
    directories = agent_directories(facts.agent_conf, host.spec.vrouter.hugepage_dir, configured)
    mounts, notes = check_mounts(directories, trial_request.sizes_kib, facts.mounts, facts.hugetlbfs_mounts)
    for trial in trial_report.trials:
        verdict.attach_table(
            f"{format_kib(trial.size_kib)} pools before, during, after",
            ["pool", "counter", "before", "during", "after"],
            pool_rows(trial),
        )
    verdict.attach_json("trial report", trial_report)
    judgement = judge_trial(trial_report, mounts, notes)
    # Every size was given and taken back, only the agent's mount is wrong: a misconfiguration, not a refusal.
    mount_only = bool(trial_report.trials) and all(judge_size(t, trial_report.node).ok for t in trial_report.trials)
    verdict.conclude(judgement.ok, judgement.message, cause=HugepageMisconfigured if mount_only else None)
