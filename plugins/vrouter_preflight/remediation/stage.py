"""The destructive stage on one host: the forward path under the signal guard, then the rollback, then the close.

:func:`run_remediation` composes the three parts, each in its own module:
:mod:`~vrouter_preflight.remediation.forward` (claim, record, release,
memory, re-measure, reload, health, scan), run under
:mod:`~vrouter_preflight.remediation.signal_guard` so that the first
SIGINT/SIGTERM/SIGHUP stops it; :mod:`~vrouter_preflight.remediation.rollback`,
which runs however the forward path ended (a failed check, a timeout, a
signal, a dropped connection, any exception) with signals only noted; and
the close: once the pools read back as found, the host marker is removed
and the journal closed -- after a dropped connection on a fresh one, also
when nothing was changed yet (a host merely claimed is not left held). A
shortfall, a host that stays unreachable or a marker that cannot be
removed leave the journal OPEN for
``--rollback-journal`` (:mod:`~vrouter_preflight.remediation.replay`).

``changed`` in the outcome comes from the journal: True as soon as a
``release`` was recorded, whatever failed after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from vrouter_preflight.errors import CommandTimeout, HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation.baseline import JournalHost
from vrouter_preflight.remediation.forward import ForwardPath, StepFailed
from vrouter_preflight.remediation.host_marker import MARKER_PATH
from vrouter_preflight.remediation.journal import Journal, JournalError
from vrouter_preflight.remediation.outcome import (
    Progress,
    RemediationInterrupted,
    RemediationOutcome,
    StepHook,
    StepLog,
    plain_step,
)
from vrouter_preflight.remediation.plan import RemediationPlan
from vrouter_preflight.remediation.rollback import (
    InRunRollback,
    TransportFactory,
    describe_error,
    release_marker,
    remove_run_dir,
)
from vrouter_preflight.remediation.signal_guard import Interrupted, SignalGuard
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.base import Transport


def open_journal(directory: str | Path, spec: HostSpec, plan: RemediationPlan) -> Journal:
    """Start ``spec``'s journal for ``plan`` (refused with OpenJournal while an earlier run is open).

    The ``begin`` record holds the reconnect essentials, the plan's numbers
    and ``restore``: every node's 1G ``nr_hugepages`` to write back.

    >>> import tempfile
    >>> from vrouter_preflight.contiguity import ZoneSupply
    >>> from vrouter_preflight.remediation.journal import load_journal
    >>> from vrouter_preflight.remediation.plan import _example_pools, _example_spec, plan_remediation_for
    >>> normal = (ZoneSupply(0, "Normal", (0,) * 10 + (50,), None, None),)
    >>> plan = plan_remediation_for({10: 100}, normal, _example_pools(4), _example_spec())
    >>> tmp = tempfile.TemporaryDirectory()
    >>> journal = open_journal(tmp.name, _example_spec(), plan)
    >>> begin = load_journal(journal.path).records[0].data
    >>> begin["host"]["name"], begin["restore"], begin["release"]
    ('compute-0', [{'node': 0, 'size_kib': 1048576, 'nr': 4}], {'0': 1})
    >>> open_journal(tmp.name, _example_spec(), plan)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.remediation.journal.OpenJournal: compute-0: ...
    >>> tmp.cleanup()
    """
    return Journal.open(
        directory,
        spec.name,
        begin={
            "host": JournalHost.from_spec(spec).as_record(),
            "restore": [{"node": t.node, "size_kib": t.size_kib, "nr": t.nr} for t in plan.restore],
            "release": {str(n): c for n, c in plan.release.items()},
            "requests": {str(k): v for k, v in plan.requests.items()},
            "budgets": [
                {"node": b.node, "nr": b.nr, "free": b.free, "resv_share": b.resv_share, "keep": b.keep}
                for b in plan.budgets
            ],
            "reload_command": plan.operations.reload_command,
            "health_command": plan.operations.health_command,
        },
    )


def run_remediation(
    spec: HostSpec,
    transport: Transport,
    plan: RemediationPlan,
    journal: Journal,
    *,
    step: StepHook | None = None,
    transport_factory: TransportFactory | None = None,
    reconnect_timeout: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RemediationOutcome:
    """Run ``plan`` on ``spec``'s host through ``transport``, journaling into ``journal`` (see the module doc).

    Returns the outcome; on Ctrl-C, SIGTERM or SIGHUP the rollback runs
    first and :class:`RemediationInterrupted` (a KeyboardInterrupt) carries
    it; another ``BaseException`` (``SystemExit``, a pytest timeout) is
    raised again after the rollback. ``transport_factory`` makes a fresh
    transport after a dropped connection (default: a new one from ``spec``).

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it for real)::

        outcome = run_remediation(spec, transport, plan, open_journal("/var/lib/vrpf", spec, plan))
        outcome.message  # -> 'compute-0: reload proved (1 × 1G on node 0), vRouter healthy, pools restored'
    """
    progress = Progress()
    steps = StepLog(step or plain_step, progress, clock=clock)
    if not plan.feasible:
        journal.close("not-run", reason=plan.problem)
        return _outcome(spec, journal, progress, f"not run: {plan.problem}")
    forward = ForwardPath(spec, transport, plan, journal, steps, sleep)
    with SignalGuard() as guard:
        stop = guard.run(forward.run)
        progress.failure = _failure(stop, progress)
        rollback = InRunRollback(
            forward.transport,
            transport_factory or (lambda: open_transport(spec)),
            journal,
            plan.restore,
            steps,
            reconnect_timeout=reconnect_timeout,
            sleep=sleep,
        )
        if progress.recorded or journal.changed:
            rollback.run()
        elif progress.claim_sent and progress.unreachable is not None:
            rollback.reconnect()  # nothing to put back, but the host marker must go for the journal to close
        message, ok = _finish(spec, plan, journal, progress, rollback.transport)
        progress.warnings += [
            f"{name} received during the rollback: noted, the rollback went on" for name in guard.noted
        ]
        interrupted = guard.first or (stop.signal_name if isinstance(stop, Interrupted) else None)
        if isinstance(stop, KeyboardInterrupt) and interrupted is None:
            interrupted = "SIGINT"
    outcome = _outcome(spec, journal, progress, message, ok=ok, interrupted=interrupted)
    if interrupted is not None:
        raise RemediationInterrupted(outcome)
    if stop is not None and not isinstance(stop, (Exception, Interrupted)):
        raise stop
    return outcome


def _failure(stop: BaseException | None, progress: Progress) -> str | None:
    """What stopped the forward path, in the operator's words (None: it ran to the end)."""
    if stop is None:
        return None
    if isinstance(stop, Interrupted):
        return f"interrupted by {stop.signal_name}"
    if isinstance(stop, KeyboardInterrupt):
        return "interrupted by SIGINT"
    if isinstance(stop, HostUnreachable):
        progress.unreachable = stop.cause[:300]
        return f"connection lost: {progress.unreachable}"
    if isinstance(stop, CommandTimeout):
        return f"timed out: {describe_error(stop)}"
    if isinstance(stop, StepFailed):
        return str(stop)[:1000]
    if isinstance(stop, Exception):
        return describe_error(stop)
    return f"stopped by {type(stop).__name__}: {str(stop)[:300]}"


def _finish(
    spec: HostSpec, plan: RemediationPlan, journal: Journal, progress: Progress, transport: Transport
) -> tuple[str, bool]:
    """Remove the marker and close the journal when everything is back; the one-line message and whether ok."""
    problems: list[str] = [progress.failure] if progress.failure else []
    if progress.reload_ok is False:
        problems.append(f"the reload command failed (rc {progress.reload_rc})")
    if progress.health_ok is False:
        problems.append(f"vRouter was not healthy within {plan.operations.health_timeout:g}s")
    if progress.signatures:
        problems.append(f"{len(progress.signatures)} failure signature(s): {progress.signatures[0].describe()}")
    nothing_changed = not progress.recorded and not journal.changed
    back = progress.rolled_back and not progress.shortfall
    if nothing_changed or back:
        unheld = _release_marker(transport, journal, progress) if progress.claim_sent else None
        if progress.recorded:
            remove_run_dir(transport, journal.run)
        if unheld is None or unheld:
            outcome = "not-run" if nothing_changed else ("ok" if not problems else "failed-restored")
            _close(journal, outcome, problems, progress)
        else:
            problems.append(
                f"the pools are back but the host marker {MARKER_PATH} could not be removed; the journal stays OPEN: "
                f"replay it with --rollback-journal {journal.path}"
            )
    elif progress.shortfall:
        short = ", ".join(f"{pages} × 1G on node {node}" for node, pages in progress.shortfall.items())
        problems.append(f"could not restore {short}; the journal stays OPEN")
    else:
        problems.append(
            f"the pools were NOT restored ({progress.unreachable or 'rollback did not run'}); the journal stays OPEN: "
            f"replay it with --rollback-journal {journal.path}"
        )
    if nothing_changed:
        return f"{spec.name}: not run, nothing changed: " + "; ".join(problems), False
    if problems:
        message = f"{spec.name}: FAILED: " + "; ".join(problems)
        if back and journal.closed:
            message += "; the pools are restored and the journal closed"
        return message, False
    released = ", ".join(f"{p} × 1G on node {n}" for n, p in progress.released.items() if p) or "nothing released"
    return f"{spec.name}: reload proved ({released}), vRouter healthy, pools restored", True


def _release_marker(transport: Transport, journal: Journal, progress: Progress) -> bool:
    """Remove this run's host marker; True when the host no longer holds it."""
    reply = release_marker(transport, journal.run)
    if reply.status == "other" and reply.holder is not None and progress.claimed:  # ours was replaced
        progress.warnings.append(f"the host marker names another run: {reply.holder.describe()}")
    return reply.status in ("removed", "absent", "other")


def _close(journal: Journal, outcome: str, problems: list[str], progress: Progress) -> None:
    try:
        journal.close(outcome, problems=problems)
    except JournalError as exc:
        progress.warnings.append(f"the journal could not be closed: {exc}")


def _outcome(
    spec: HostSpec,
    journal: Journal,
    progress: Progress,
    message: str,
    *,
    ok: bool = False,
    interrupted: str | None = None,
) -> RemediationOutcome:
    return RemediationOutcome(
        host=spec.name,
        ok=ok,
        changed=journal.changed,
        journal_path=str(journal.path),
        journal_closed=journal.closed,
        message=message,
        released=MappingProxyType(dict(progress.released)),
        restored=MappingProxyType(dict(progress.restored)),
        shortfall=MappingProxyType(dict(progress.shortfall)),
        reload_ok=progress.reload_ok,
        reload_rc=progress.reload_rc,
        health_ok=progress.health_ok,
        health_attempts=progress.health_attempts,
        signatures=progress.signatures,
        steps=tuple(progress.steps),
        warnings=tuple(progress.warnings),
        failure=progress.failure,
        interrupted=interrupted,
    )
