"""The opt-in destructive stage: release 1G pages, prove the vRouter reload, put the pools back.

* :mod:`~plugins.remediation.plan` -- what would be done (pure; ``--plan`` prints it);
* :mod:`~plugins.remediation.deployments` -- reload/health commands per deployment, inventory first;
* :mod:`~plugins.remediation.commands` -- every shell command, quoted and safe to re-run;
* :mod:`~plugins.remediation.journal` -- the append-only per-host journal, written before each change;
* :mod:`~plugins.remediation.baseline` -- what the journal records about the host;
* :mod:`~plugins.remediation.signatures` -- failure signatures and persisted hugepage sysctls;
* :mod:`~plugins.remediation.engine` -- the run itself, the rollback, the replay from a journal.
"""

from plugins.remediation.deployments import (
    DEPLOYMENTS,
    OperationsMissing,
    VrouterOperations,
    resolve_operations,
)
from plugins.remediation.engine import (
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
from plugins.remediation.journal import (
    Journal,
    JournalError,
    LoadedJournal,
    OpenJournal,
    PoolTarget,
    journal_path,
    load_journal,
    refuse_if_open,
)
from plugins.remediation.plan import NodeBudget, PlannedCommand, RemediationPlan, plan_remediation, plan_remediation_for
from plugins.remediation.signatures import PersistedSetting, Signature, persisted_hugepage_settings

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
