"""The opt-in destructive stage: release 1G pages, prove the vRouter reload, put the pools back.

* :mod:`~vrouter_preflight.remediation.plan` -- what would be done (pure; ``--plan`` prints it);
* :mod:`~vrouter_preflight.remediation.deployments` -- reload/health commands per deployment, inventory first;
* :mod:`~vrouter_preflight.remediation.commands` -- every shell command, quoted and safe to re-run;
* :mod:`~vrouter_preflight.remediation.journal` -- the append-only per-host journal, written before each change;
* :mod:`~vrouter_preflight.remediation.baseline` -- what the journal records about the host;
* :mod:`~vrouter_preflight.remediation.signatures` -- failure signatures and persisted hugepage sysctls;
* :mod:`~vrouter_preflight.remediation.host_marker` -- the marker that holds a host while its journal is open;
* :mod:`~vrouter_preflight.remediation.bounds` -- every wait's cap (pure);
* :mod:`~vrouter_preflight.remediation.outcome` -- the step hook, the step records, the outcome;
* :mod:`~vrouter_preflight.remediation.forward` -- the forward path: claim, record, release, reload, health, scan;
* :mod:`~vrouter_preflight.remediation.signal_guard` -- SIGINT/SIGTERM/SIGHUP stop the forward path once;
* :mod:`~vrouter_preflight.remediation.rollback` -- the pools back, whatever stopped the forward path;
* :mod:`~vrouter_preflight.remediation.stage` -- :func:`run_remediation`: the three together, then the close;
* :mod:`~vrouter_preflight.remediation.replay` -- ``--rollback-journal``: the rollback replayed from a journal.
"""

from vrouter_preflight.remediation.deployments import (
    DEPLOYMENTS,
    OperationsMissing,
    VrouterOperations,
    resolve_operations,
)
from vrouter_preflight.remediation.host_marker import MARKER_PATH, HostMarker, parse_marker
from vrouter_preflight.remediation.journal import (
    Journal,
    JournalError,
    LoadedJournal,
    OpenJournal,
    PoolTarget,
    journal_path,
    load_journal,
    refuse_if_open,
    replayable_journal,
)
from vrouter_preflight.remediation.outcome import (
    RemediationInterrupted,
    RemediationOutcome,
    StepFigures,
    StepHook,
    StepRecord,
    plain_step,
)
from vrouter_preflight.remediation.plan import (
    NodeBudget,
    PlannedCommand,
    RemediationPlan,
    plan_remediation,
    plan_remediation_for,
)
from vrouter_preflight.remediation.replay import rollback_from_journal
from vrouter_preflight.remediation.rollback import restore_pools
from vrouter_preflight.remediation.signatures import PersistedSetting, Signature, persisted_hugepage_settings
from vrouter_preflight.remediation.stage import open_journal, run_remediation

__all__ = [
    "DEPLOYMENTS",
    "MARKER_PATH",
    "HostMarker",
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
    "parse_marker",
    "persisted_hugepage_settings",
    "plain_step",
    "plan_remediation",
    "plan_remediation_for",
    "refuse_if_open",
    "replayable_journal",
    "resolve_operations",
    "restore_pools",
    "rollback_from_journal",
    "run_remediation",
]
