"""``--rollback-journal``: the rollback of a run that could not finish it, replayed later from its journal.

The replay compares with what the host holds NOW, not only with its own
journal: it reads the pools first and writes only those below the journal's
baseline (:func:`~vrouter_preflight.remediation.rollback.restore_decision`),
so two journals of one host replayed in either order leave each pool at the
older baseline, and the message says per node what was found and done. Once
the pools read back right, the run's host marker is removed and the journal
closed; a marker held by another run is named in the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from vrouter_preflight.remediation.baseline import JournalHost
from vrouter_preflight.remediation.journal import Journal, JournalError, LoadedJournal, PoolTarget, replayable_journal
from vrouter_preflight.remediation.outcome import Progress, RemediationOutcome, StepHook, StepLog, plain_step
from vrouter_preflight.remediation.rollback import (
    PoolRestore,
    describe_error,
    note,
    put_pools_back,
    release_marker,
    remove_run_dir,
)
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.base import Transport

HostTransportFactory = Callable[[JournalHost], Transport]


def describe_nodes(targets: tuple[PoolTarget, ...], left: Mapping[int, int], restore: PoolRestore) -> str:
    """Per node: what the host held, what this journal's run had left, the baseline and what was done.

    >>> targets = (PoolTarget(0, 1048576, 2),)
    >>> describe_nodes(targets, {0: 1}, PoolRestore({0: 0}, {0: 2}, (0,), {}))
    'node 0: held 0, fewer than the 1 this run left (changed since by another run or by hand), set to its baseline 2'
    >>> describe_nodes(targets, {0: 1}, PoolRestore({0: 2}, {0: 2}, (), {}))
    'node 0: held 2, at or above its baseline 2: not written'
    """
    parts: list[str] = []
    for target in targets:
        now, after = restore.before.get(target.node), restore.after.get(target.node)
        previous = left.get(target.node)
        if target.node not in restore.written:
            parts.append(f"node {target.node}: held {now}, at or above its baseline {target.nr}: not written")
            continue
        since = ""
        if now is not None and previous is not None and now != previous:
            direction = "fewer" if now < previous else "more"
            since = f", {direction} than the {previous} this run left (changed since by another run or by hand)"
        done = f"set to its baseline {target.nr}" if after == target.nr else f"asked for {target.nr}, got {after}"
        parts.append(f"node {target.node}: held {now}{since}, {done}")
    return "; ".join(parts)


def rollback_from_journal(
    path: str | Path,
    transport_factory: HostTransportFactory | None = None,
    *,
    step: StepHook | None = None,
) -> RemediationOutcome:
    """Replay the rollback of an interrupted run; close its journal when the pools read back right.

    ``transport_factory`` gets the journal's :class:`JournalHost` (prefer
    building the transport from the inventory entry of ``host.name``); the
    default builds one from the essentials alone. A closed journal is left
    as it is. A journal that cannot be replayed (a directory, empty or
    truncated, a bad entry) raises
    :class:`~vrouter_preflight.remediation.journal.JournalError`.

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it for real)::

        rollback_from_journal(Path("/var/lib/vrpf/compute-0.journal")).journal_closed  # -> True
    """
    loaded = replayable_journal(path)
    host = JournalHost.from_record(loaded.host)
    if not loaded.is_open:
        return RemediationOutcome(
            host=host.name,
            ok=loaded.state == "closed",
            changed=loaded.changed,
            journal_path=str(path),
            journal_closed=True,
            message=f"{host.name}: nothing to roll back: {loaded.describe()}",
        )
    journal = Journal.resume(path)
    progress = Progress()
    steps = StepLog(step or plain_step, progress, clock=time.monotonic)
    note(journal, progress.warnings, "replay", reason="--rollback-journal")
    factory = transport_factory or (lambda h: open_transport(h.to_spec()))
    try:
        transport = factory(host)
        try:
            restore = put_pools_back(transport, loaded.restore, journal, steps.tolerant_step, progress.warnings)
            marker = release_marker(transport, loaded.run or "") if not restore.shortfall else None
            remove_run_dir(transport, loaded.run or "")
        finally:
            transport.close()
    except Exception as exc:
        reason = describe_error(exc)
        note(journal, progress.warnings, "rollback-pending", reason=reason)
        return _outcome(
            loaded, journal, f"{host.name}: FAILED: the rollback could not run ({reason}); the journal stays OPEN"
        )
    details = describe_nodes(loaded.restore, loaded.last_nr(("released",)), restore)
    problems: list[str] = []
    if restore.shortfall:
        short = ", ".join(f"{pages} × 1G on node {node}" for node, pages in restore.shortfall.items())
        problems.append(f"could not restore {short}")
    elif marker is not None and marker.status == "failed":
        problems.append("the host marker could not be removed")
    if marker is not None and marker.status == "other" and marker.holder is not None:
        progress.warnings.append(f"the host is still held by {marker.holder.describe()}")
    if problems:
        message = f"{host.name}: FAILED: {'; '.join(problems)} ({details}); the journal stays OPEN"
    else:
        try:
            journal.close("restored-from-journal")
        except JournalError as exc:
            return _outcome(loaded, journal, f"{host.name}: FAILED: pools restored ({details}) but {exc}")
        what = "pools restored" if restore.written else "nothing to write"
        held = f"; {progress.warnings[-1]}" if marker is not None and marker.status == "other" else ""
        message = f"{host.name}: {what} from {path} ({details}); journal closed{held}"
    return _outcome(loaded, journal, message, restore=restore, ok=not problems, warnings=progress.warnings)


def _outcome(
    loaded: LoadedJournal,
    journal: Journal,
    message: str,
    *,
    restore: PoolRestore | None = None,
    ok: bool = False,
    warnings: list[str] | None = None,
) -> RemediationOutcome:
    released = {n: t.nr - nr for t in loaded.restore for n, nr in loaded.last_nr(("released",)).items() if n == t.node}
    return RemediationOutcome(
        host=str(loaded.host.get("name")),
        ok=ok,
        changed=loaded.changed,
        journal_path=str(loaded.path),
        journal_closed=journal.closed,
        message=message,
        released=MappingProxyType(released),
        restored=MappingProxyType({} if restore is None else restore.gained),
        shortfall=MappingProxyType({} if restore is None else dict(restore.shortfall)),
        failure=None if ok else message,
        warnings=tuple(warnings or ()),
    )
