"""The opt-in destructive stage: release 1G pages, prove the vRouter reload, put the pools back.

* :mod:`~vrouter_preflight.remediation.plan` -- what would be done (pure; ``--plan`` prints it);
* :mod:`~vrouter_preflight.remediation.deployments` -- reload/health commands per deployment, inventory first;
* :mod:`~vrouter_preflight.remediation.commands` -- every shell command, quoted and safe to re-run;
* :mod:`~vrouter_preflight.remediation.journal` -- the append-only per-host journal, written before each change;
* :mod:`~vrouter_preflight.remediation.baseline` -- what the journal records about the host;
* :mod:`~vrouter_preflight.remediation.signatures` -- failure signatures and persisted hugepage sysctls;
* :mod:`~vrouter_preflight.remediation.engine` -- the run itself, the rollback, the replay from a journal.
"""

from vrouter_preflight.remediation.deployments import (
    DEPLOYMENTS,
    OperationsMissing,
    VrouterOperations,
    resolve_operations,
)
from vrouter_preflight.remediation.engine import (
    RemediationInterrupted,
    RemediationOutcome,
    StepFigures,
    StepHook,
    StepRecord,
    open_journal,
    plain_step,
    restore_pools,
    rollback_from_journal,
    run_remediation,
)
from vrouter_preflight.remediation.journal import (
    Journal,
    JournalError,
    LoadedJournal,
    OpenJournal,
    PoolTarget,
    journal_path,
    load_journal,
    refuse_if_open,
)
from vrouter_preflight.remediation.plan import (
    NodeBudget,
    PlannedCommand,
    RemediationPlan,
    plan_remediation,
    plan_remediation_for,
)
from vrouter_preflight.remediation.signatures import PersistedSetting, Signature, persisted_hugepage_settings

__all__ = [
    "DEPLOYMENTS",
    "Journal",
    "JournalError",
    "LoadedJournal",
    "NodeBudget",
    "OpenJournal",
    "OperationsMissing",
    "PersistedSetting",
    "PlannedCommand",
    "PoolTarget",
    "RemediationInterrupted",
    "RemediationOutcome",
    "RemediationPlan",
    "Signature",
    "StepFigures",
    "StepHook",
    "StepRecord",
    "VrouterOperations",
    "journal_path",
    "load_journal",
    "open_journal",
    "persisted_hugepage_settings",
    "plain_step",
    "plan_remediation",
    "plan_remediation_for",
    "refuse_if_open",
    "resolve_operations",
    "restore_pools",
    "rollback_from_journal",
    "run_remediation",
]
