"""The rollback: every node's 1G pool back as found, whatever stopped the forward path.

It depends on nothing the failed step used. Whatever ended the forward path
-- a failed check, a timeout, a signal, a dropped connection, an
``OverflowError`` or any other bug -- :func:`roll_back` gets only the
journal's targets, a transport (or a factory for a fresh one) and a clock:

1. reconnect when the connection dropped (fresh transports until the
   bounded ``reconnect_timeout``);
2. when a reload was started and its status is unknown, poll its status
   file (its own command, never the reload's wait) until the reload's
   deadline plus :data:`~vrouter_preflight.remediation.bounds.RELOAD_GRACE_SECONDS`:
   pages are not given back while the module may still be allocating its
   tables, but never later than that;
3. :func:`put_pools_back`: read the pools NOW, write only the pools that
   hold fewer pages than the target (a rollback never takes pages out of a
   pool), read back, compact and retry while pages come.

Every command has its own bounded timeout
(:data:`~vrouter_preflight.remediation.bounds.ROLLBACK_COMMAND_SECONDS`),
journal writes are best effort (the pools come back even on a full disk),
and a failing step report is left out. An attempt that fails for any reason
is followed by another on a fresh connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vrouter_preflight.errors import HostError, HostUnreachable
from vrouter_preflight.remediation.bounds import (
    RECONNECT_CAP,
    RELOAD_GRACE_SECONDS,
    ROLLBACK_COMMAND_SECONDS,
    Deadline,
    bounded_seconds,
)
from vrouter_preflight.remediation.commands import (
    COMPACT_MEMORY,
    cleanup_command,
    parse_pool_readback,
    parse_reload_state,
    read_pools_command,
    reload_status_command,
    write_pool_command,
)
from vrouter_preflight.remediation.host_marker import MarkerReply, parse_marker_reply, release_command
from vrouter_preflight.remediation.journal import Journal, JournalError, PoolTarget
from vrouter_preflight.remediation.outcome import Progress, StepHook, StepLog, plain_step
from vrouter_preflight.transport.base import CommandResult, Transport

RESTORE_ATTEMPTS = 3
"""Writes of a pool's old size during a rollback (compaction between them) while each gains pages."""
ROLLBACK_ATTEMPTS = 3
"""Tries of the whole rollback; every one after the first starts from a fresh connection."""
STATUS_POLL_SECONDS = 1.0
"""Pause between two looks at a started reload's status."""

TransportFactory = Callable[[], Transport]


def describe_error(exc: BaseException) -> str:
    """One line for an operator: a suite error as it is, anything else with its type; at most 300 characters.

    >>> describe_error(OverflowError("cannot convert float infinity to integer"))
    'unexpected OverflowError: cannot convert float infinity to integer'
    """
    if isinstance(exc, HostError):
        return exc.cause[:300]
    text = str(exc)[:300]
    if isinstance(exc, JournalError):
        return text
    return f"unexpected {type(exc).__name__}: {text}" if text else f"unexpected {type(exc).__name__}"


def restore_decision(targets: tuple[PoolTarget, ...], now: Mapping[int, int | None]) -> tuple[PoolTarget, ...]:
    """The pools to write: those holding fewer pages than their target now (or unreadable).

    A pool already at or above its target is left alone: a rollback never
    takes pages out of a pool. So two journals of one host, replayed in
    either order, leave the pool at the older (larger) baseline.

    >>> older, newer = (PoolTarget(0, 1048576, 2),), (PoolTarget(0, 1048576, 1),)
    >>> restore_decision(older, {0: 0}), restore_decision(newer, {0: 2})
    ((PoolTarget(node=0, size_kib=1048576, nr=2),), ())
    """
    return tuple(t for t in targets if now.get(t.node) is None or (now.get(t.node) or 0) < t.nr)


@dataclass(frozen=True)
class PoolRestore:
    """What a rollback found and left: ``nr`` per node before it wrote and after, what it wrote, what is missing.

    >>> PoolRestore({0: 0}, {0: 2}, (0,), {}).gained
    {0: 2}
    """

    before: Mapping[int, int | None]
    after: Mapping[int, int]
    written: tuple[int, ...]
    shortfall: Mapping[int, int]

    @property
    def gained(self) -> dict[int, int]:
        """Pages put back per node (after minus before)."""
        return {node: nr - (self.before.get(node) or 0) for node, nr in self.after.items()}


def note(journal: Journal, warnings: list[str], event: str, **data: Any) -> bool:
    """Journal ``event`` if the journal can be written; otherwise say so in ``warnings`` and go on.

    >>> import tempfile
    >>> journal = Journal.open(tempfile.mkdtemp(), "c0", begin={})
    >>> journal.close("ok")
    >>> warnings = []
    >>> note(journal, warnings, "rollback"), warnings[0][-38:]
    (False, 'nothing more may be recorded); went on')
    """
    try:
        journal.record(event, **data)
    except JournalError as exc:
        warnings.append(f"journal record {event!r} not written ({exc}); went on")
        return False
    return True


def by_node(values: Mapping[int, Any]) -> dict[str, Any]:
    """A per-node mapping as the journal writes it (JSON keys are strings).

    >>> by_node({0: 4, 1: None})
    {'0': 4, '1': None}
    """
    return {str(node): value for node, value in values.items()}


def _run(transport: Transport, command: str, seconds: float = ROLLBACK_COMMAND_SECONDS) -> CommandResult:
    return transport.run(command, timeout=seconds, privileged=True)


def read_nr(transport: Transport, targets: tuple[PoolTarget, ...]) -> dict[int, int | None]:
    """``nr_hugepages`` of every target's pool now (None when it could not be read); one command."""
    readings = parse_pool_readback(_run(transport, read_pools_command((t.node, t.size_kib) for t in targets)).stdout)
    return {t.node: readings[(t.node, t.size_kib)].nr if (t.node, t.size_kib) in readings else None for t in targets}


def put_pools_back(
    transport: Transport,
    targets: tuple[PoolTarget, ...],
    journal: Journal,
    step: StepHook,
    warnings: list[str],
) -> PoolRestore:
    """Read the pools, write back those below target, read back; retry after compaction while pages come.

    Journals ``rollback`` (what it found and will write) before the writes
    and ``restored`` after. Closes nothing.

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it)::

        put_pools_back(transport, (PoolTarget(0, GIB_KIB, 4),), journal, plain_step, []).after  # -> {0: 4}
    """
    wanted = {t.node: t.nr for t in targets}
    with step("roll back the 1G pools", {f"node {n} target": nr for n, nr in wanted.items()}) as figures:
        before = read_nr(transport, targets)
        writes = restore_decision(targets, before)
        note(
            journal, warnings, "rollback", targets=by_node(wanted), now=by_node(before), writes=[t.node for t in writes]
        )
        got = {n: nr for n, nr in before.items() if nr is not None}
        pending = writes
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            if not pending:
                break
            for target in pending:
                _run(transport, write_pool_command(target.node, target.size_kib, target.nr))
            previous = dict(got)
            got.update({n: nr for n, nr in read_nr(transport, targets).items() if nr is not None})
            pending = tuple(t for t in pending if got.get(t.node, 0) < t.nr)
            if not pending or (attempt > 1 and got == previous):
                break
            _run(transport, COMPACT_MEMORY)
        shortfall = {n: wanted[n] - got.get(n, 0) for n in wanted if got.get(n, 0) < wanted[n]}
        note(journal, warnings, "restored", nr=by_node(got), shortfall=by_node(shortfall))
        figures.after.update({f"node {n} nr": v for n, v in got.items()})
        figures.after["shortfall"] = dict(shortfall)
    return PoolRestore(before, got, tuple(t.node for t in writes), shortfall)


def restore_pools(
    transport: Transport, targets: tuple[PoolTarget, ...], journal: Journal, step: StepHook | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """:func:`put_pools_back` as ``(nr read back per node, shortfall per node)``.

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it)::

        restore_pools(transport, (PoolTarget(0, GIB_KIB, 4),), journal)  # -> ({0: 4}, {})
    """
    result = put_pools_back(transport, targets, journal, step or plain_step, [])
    return dict(result.after), dict(result.shortfall)


def release_marker(transport: Transport, run: str) -> MarkerReply:
    """Remove the host marker if ``run`` holds it; ``failed`` when the host could not be asked.

    Example (not a doctest: it writes under /run on the host)::

        release_marker(transport, journal.run).status  # -> 'removed'
    """
    try:
        return parse_marker_reply(_run(transport, release_command(run)).stdout)
    except Exception:
        return MarkerReply("failed", None)


def remove_run_dir(transport: Transport, run: str) -> None:
    """Remove the run's directory on the host (reload lock and status); best effort."""
    with contextlib.suppress(Exception):
        _run(transport, cleanup_command(run), 30.0)


class InRunRollback:
    """The rollback of a run in progress: what it needs, and nothing of the step that failed.

    ``transport`` is the one in use (replaced after a reconnect: the caller
    reads it back for what follows).
    """

    def __init__(
        self,
        transport: Transport,
        factory: TransportFactory,
        journal: Journal,
        targets: tuple[PoolTarget, ...],
        steps: StepLog,
        *,
        reconnect_timeout: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.transport = transport
        self.factory = factory
        self.journal = journal
        self.targets = targets
        self.steps = steps
        self.progress: Progress = steps.progress
        self.reconnect_timeout = reconnect_timeout
        self.clock = steps.clock
        self.sleep = sleep

    def run(self) -> None:
        """Put the pools back (see the module doc); leaves the outcome's figures in ``progress``. Never raises."""
        progress = self.progress
        fresh = progress.unreachable is not None
        for attempt in range(1, ROLLBACK_ATTEMPTS + 1):
            try:
                if fresh and not self.reconnect():
                    note(
                        self.journal,
                        progress.warnings,
                        "rollback-pending",
                        reason=f"host unreachable: {progress.unreachable}",
                    )
                    return
                progress.unreachable = None
                self.settle_reload()
                result = put_pools_back(
                    self.transport, self.targets, self.journal, self.steps.tolerant_step, progress.warnings
                )
                progress.restored = {n: v for n, v in result.gained.items() if v}
                progress.shortfall = dict(result.shortfall)
                progress.rolled_back = True
                return
            except HostUnreachable as exc:
                progress.unreachable = exc.cause[:300]
            except Exception as exc:
                progress.warnings.append(f"rollback attempt {attempt}: {describe_error(exc)}")
                progress.unreachable = describe_error(exc)
            fresh = True
        note(self.journal, progress.warnings, "rollback-pending", reason=f"rollback failed: {progress.unreachable}")

    def reconnect(self) -> bool:
        """A fresh transport that answers, tried until the bounded ``reconnect_timeout``; False when none does."""
        deadline = Deadline(self.reconnect_timeout, RECONNECT_CAP, clock=self.clock)
        last = ""
        while True:
            with contextlib.suppress(Exception):
                self.transport.close()
            try:
                self.transport = self.factory()
                self.transport.run("true", timeout=bounded_seconds(deadline.remaining(), 10.0, floor=1.0))
                return True
            except Exception as exc:
                last = describe_error(exc)
            if deadline.passed():
                self.progress.unreachable = last
                return False
            self.sleep(bounded_seconds(deadline.remaining(), 2.0, floor=0.1))

    def settle_reload(self) -> None:
        """Wait (bounded) for a started reload whose status is unknown; see the module doc."""
        progress = self.progress
        if not progress.reload_started or progress.reload_settled:
            return
        with self.steps.tolerant_step("wait for the reload already started", {}) as figures:
            seconds = max(0.0, (progress.reload_deadline or self.clock()) - self.clock()) + RELOAD_GRACE_SECONDS
            deadline = Deadline(seconds, seconds, clock=self.clock)
            state, rc = "unknown", None
            while True:
                result = _run(
                    self.transport,
                    reload_status_command(self.journal.run),
                    bounded_seconds(deadline.remaining(), 10.0, floor=5.0),
                )
                state, rc = parse_reload_state(result.stdout)
                if state != "running" or deadline.passed():
                    break
                self.sleep(bounded_seconds(deadline.remaining(), STATUS_POLL_SECONDS))
            progress.reload_settled = True
            if state == "done":
                progress.reload_rc, progress.reload_ok = rc, rc == 0
                note(self.journal, progress.warnings, "reloaded", rc=rc)
            elif state == "running":
                progress.warnings.append("the reload was still running at its deadline: the pools were put back anyway")
            figures.after.update({"state": state, "rc": rc})
