"""The destructive stage on one host: release, prove the reload, put the pools back -- journaled.

:func:`run_remediation` runs a :class:`~vrouter_preflight.remediation.plan.RemediationPlan`:

1. record -- gather the facts again, journal the pools (per node and size
   ``nr``/``free``), the buddy state and ``vm.*``; refuse to go on when the
   pools moved since the plan;
2. release -- journal the targets, write each node's 1G ``nr_hugepages``,
   read back ("asked N, got M" fails);
3. memory -- ``sync``, ``drop_caches``, ``compact_memory`` as the inventory
   allows; re-measure (one capture) and replay the demand: stop and roll
   back when it still does not fit;
4. reload -- note the uptime and the agent log's size and mark the kernel
   log, start the reload once (detached; a dropped connection neither kills
   it nor starts it twice), take its exit status; poll the health command
   until it succeeds or ``health_timeout`` passes; scan the kernel log and
   the agent log's new lines for failure signatures;
5. rollback -- write every node's ``nr_hugepages`` back, read back, retry
   after compaction while that helps; a shortfall is reported per node, the
   run fails and the journal stays OPEN.

The rollback also runs when a step fails or times out, on Ctrl-C and SIGTERM
(a handler that raises is installed while the stage runs; a second signal
during the rollback is noted, not obeyed), and when the connection drops: a
fresh transport from ``transport_factory`` is tried until
``reconnect_timeout``; if the host stays unreachable the journal stays open
and the outcome says so -- :func:`rollback_from_journal` replays it later.

Each step goes through ``step(title, before)``, a context manager factory
yielding a :class:`StepFigures` whose ``after`` the engine fills: the caller
makes it an Allure step with the figures attached.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any

from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.contiguity import simulate_reload, zone_supplies
from vrouter_preflight.errors import CommandTimeout, HostError, HostUnreachable
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation.baseline import JournalHost, buddy_record, pools_record, state_record
from vrouter_preflight.remediation.commands import (
    COMPACT_MEMORY,
    DROP_CACHES,
    PERSISTED_SYSCTL_COMMAND,
    SYNC,
    agent_log_tail_command,
    before_reload_command,
    cleanup_command,
    kernel_log_command,
    marker_text,
    parse_before_reload,
    parse_pool_readback,
    parse_reload_status,
    read_pools_command,
    reload_once_command,
    write_pool_command,
)
from vrouter_preflight.remediation.journal import Journal, LoadedJournal, PoolTarget, load_journal
from vrouter_preflight.remediation.plan import RemediationPlan
from vrouter_preflight.remediation.signatures import (
    Signature,
    kernel_lines_after,
    persisted_hugepage_settings,
    scan_signatures,
)
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.base import Transport

RESTORE_ATTEMPTS = 3
"""Writes of a pool's old size during a rollback (compaction between them) while each gains pages."""


class Terminated(BaseException):
    """Raised in the main thread by the SIGTERM handler the stage installs while it runs."""


class RemediationInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the stage; the rollback ran first. ``outcome`` says how it ended."""

    def __init__(self, outcome: RemediationOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class StepFigures:
    """Handed to the caller's step hook: the step's title, figures before, and ``after`` (filled by the engine).

    >>> figures = StepFigures("release", {"node 0 nr": 4})
    >>> figures.after["node 0 nr"] = 3
    >>> figures.title, dict(figures.after)
    ('release', {'node 0 nr': 3})
    """

    def __init__(self, title: str, before: Mapping[str, Any]) -> None:
        self.title = title
        self.before: dict[str, Any] = dict(before)
        self.after: dict[str, Any] = {}


StepHook = Callable[[str, Mapping[str, Any]], AbstractContextManager[StepFigures]]
TransportFactory = Callable[[], Transport]
HostTransportFactory = Callable[[JournalHost], Transport]


@contextlib.contextmanager
def plain_step(title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
    """The default step hook: no reporting, just the figures.

    >>> with plain_step("reload", {"rc": None}) as figures:
    ...     figures.after["rc"] = 0
    """
    yield StepFigures(title, before)


@dataclass(frozen=True)
class StepRecord:
    """One step as it ran: when, how long, whether it succeeded, its figures."""

    title: str
    started: str
    seconds: float
    ok: bool
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class RemediationOutcome:
    """How the stage ended on one host.

    ``released``/``restored``/``shortfall`` map NUMA node to 1G pages: given
    back to the buddy allocator, put back into the pool, and still missing
    after the rollback. ``back`` is True when the pools are as found (the
    journal is then closed). ``reload_ok``/``health_ok`` are ``None`` when
    the step did not run.

    >>> RemediationOutcome("c0", ok=True, changed=False, journal_path="j", journal_closed=True, message="m").back
    True
    """

    host: str
    ok: bool
    changed: bool
    journal_path: str
    journal_closed: bool
    message: str
    released: Mapping[int, int] = field(default_factory=dict)
    restored: Mapping[int, int] = field(default_factory=dict)
    shortfall: Mapping[int, int] = field(default_factory=dict)
    reload_ok: bool | None = None
    reload_rc: int | None = None
    health_ok: bool | None = None
    health_attempts: int = 0
    signatures: tuple[Signature, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    failure: str | None = None
    interrupted: str | None = None

    @property
    def back(self) -> bool:
        """The pools are as they were found (nothing missing, journal closed)."""
        return self.journal_closed and not any(self.shortfall.values())


class _StepFailed(Exception):
    """Internal: a step's check failed; the message is the operator's reason."""


@dataclass
class _Progress:
    """Mutable state of one run (the outcome is built from it at the end)."""

    released: dict[int, int] = field(default_factory=dict)
    restored: dict[int, int] = field(default_factory=dict)
    shortfall: dict[int, int] = field(default_factory=dict)
    reload_ok: bool | None = None
    reload_rc: int | None = None
    reload_started: bool = False
    reload_awaited: bool = False
    health_ok: bool | None = None
    health_attempts: int = 0
    signatures: tuple[Signature, ...] = ()
    steps: list[StepRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    interrupted: str | None = None
    unreachable: str | None = None
    rolled_back: bool = False
    recorded: bool = False


def _utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _SignalGuard:
    """SIGTERM raises :class:`Terminated` while the stage runs; during the rollback Ctrl-C/SIGTERM are noted only."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress
        self.active = threading.current_thread() is threading.main_thread()
        self.saved: dict[int, Any] = {}

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.progress.warnings.append(f"{name} received during the rollback: noted, the rollback went on")

    def __enter__(self) -> _SignalGuard:
        if self.active:
            self.saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._raise)
        return self

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """While the rollback runs, a signal does not interrupt it."""
        if not self.active:
            yield
            return
        previous = {sig: signal.signal(sig, self._note) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


class _Run:
    """One host's run: the transport in use, the journal, the step bookkeeping."""

    def __init__(
        self,
        spec: HostSpec,
        transport: Transport,
        plan: RemediationPlan,
        journal: Journal,
        step: StepHook,
        factory: TransportFactory,
        reconnect_timeout: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.plan = plan
        self.journal = journal
        self.step_hook = step
        self.factory = factory
        self.reconnect_timeout = reconnect_timeout
        self.clock = clock
        self.sleep = sleep
        self.progress = _Progress()
        self.before_nr: dict[int, int] = {t.node: t.nr for t in plan.restore}

    # ------------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def step(self, title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
        started_at, started = _utc(), self.clock()
        error: str | None = None
        figures = StepFigures(title, before)
        try:
            with self.step_hook(title, before) as hooked:
                figures = hooked
                yield hooked
        except BaseException as exc:
            error = str(exc) or type(exc).__name__
            raise
        finally:
            self.progress.steps.append(
                StepRecord(
                    title,
                    started_at,
                    round(self.clock() - started, 3),
                    error is None,
                    MappingProxyType(dict(figures.before)),
                    MappingProxyType(dict(figures.after)),
                    error,
                )
            )

    def run(self, command: str, timeout: float | None = None) -> Any:
        return self.transport.run(command, timeout=timeout, privileged=True)

    def facts(self) -> HostFacts:
        return HostFacts(self.spec.name, self.transport.capture(FACT_SOURCES))

    def read_pools(self, nodes: list[int]) -> dict[int, int | None]:
        result = self.run(read_pools_command((node, GIB_KIB) for node in nodes))
        readings = parse_pool_readback(result.stdout)
        return {node: readings[(node, GIB_KIB)].nr if (node, GIB_KIB) in readings else None for node in nodes}

    # ------------------------------------------------------------------ steps

    def record(self) -> None:
        with self.step("record the pools and buddy state", {"planned restore": dict(self.before_nr)}) as figures:
            facts = self.facts()
            persisted = persisted_hugepage_settings(self.run(PERSISTED_SYSCTL_COMMAND).stdout)
            self.progress.warnings += [setting.describe() for setting in persisted]
            state = state_record(facts)
            self.journal.record("baseline", **state, persisted=[s.describe() for s in persisted])
            now = {p.node: p.nr for p in facts.hugepages.node_pools(GIB_KIB) if p.node is not None}
            free = {p.node: p.free for p in facts.hugepages.node_pools(GIB_KIB) if p.node is not None}
            figures.after.update({"nr": now, "free": free, "persisted": len(persisted)})
            moved = {n: (nr, now.get(n)) for n, nr in self.before_nr.items() if now.get(n) != nr}
            if moved:
                what = ", ".join(f"node {n} planned {a}, now {b}" for n, (a, b) in moved.items())
                raise _StepFailed(f"the 1G pools changed since the plan ({what}); plan again")
            short = {n: (count, free.get(n)) for n, count in self.plan.release.items() if (free.get(n) or 0) < count}
            if short:
                what = ", ".join(f"node {n} needs {c} free, has {f}" for n, (c, f) in short.items())
                raise _StepFailed(f"fewer free 1G pages than planned ({what}); plan again")
        self.progress.recorded = True

    def release(self) -> None:
        targets = self.plan.targets
        before = {f"node {n} nr": self.before_nr[n] for n in targets}
        with self.step("release 1G pages", before) as figures:
            self.journal.record("release", targets={str(n): t for n, t in targets.items()})
            for node, target in targets.items():
                self.run(write_pool_command(node, GIB_KIB, target))
            got = self.read_pools(list(targets))
            for node, nr in got.items():
                if nr is not None:
                    self.progress.released[node] = self.before_nr[node] - nr
            self.journal.record("released", nr={str(n): v for n, v in got.items()})
            figures.after.update({f"node {n} nr": v for n, v in got.items()})
            wrong = {n: (targets[n], nr) for n, nr in got.items() if nr != targets[n]}
            if wrong:
                what = ", ".join(f"node {n}: asked for {a}, got {b}" for n, (a, b) in wrong.items())
                raise _StepFailed(f"the release did not take: {what}")

    def memory(self) -> None:
        steps = self.plan.steps
        chosen = [
            (name, command)
            for enabled, name, command in (
                (steps.sync, "sync", SYNC),
                (steps.drop_caches, "drop_caches", DROP_CACHES),
                (steps.compact_memory, "compact_memory", COMPACT_MEMORY),
            )
            if enabled
        ]
        if not chosen:
            return
        with self.step("sync, drop caches, compact", {"steps": [name for name, _ in chosen]}) as figures:
            self.journal.record("memory", steps=[name for name, _ in chosen])
            for name, command in chosen:
                result = self.run(command)
                figures.after[name] = result.rc
                if not result.succeeded:
                    self.progress.warnings.append(f"{name} failed (rc {result.rc}): {result.stderr.strip()[:200]}")

    def measure(self) -> None:
        with self.step("re-measure the buddy state", {"requested": dict(self.plan.requests)}) as figures:
            facts = self.facts()
            buddy = facts.buddyinfo
            if buddy is None:
                raise _StepFailed("/proc/buddyinfo could not be read after the release")
            simulation = simulate_reload(
                self.plan.requests,
                zone_supplies(buddy, facts.zoneinfo, facts.pagetypeinfo_if_parsed),
                page_size=self.plan.page_size,
            )
            self.journal.record(
                "measured",
                fits=simulation.fits,
                shortfall={str(k): v for k, v in simulation.shortfall.items()},
                buddy=buddy_record(facts),
                pools=pools_record(facts),
            )
            figures.after.update(
                {
                    "fits": simulation.fits,
                    "granted": dict(simulation.granted),
                    "shortfall": dict(simulation.shortfall),
                    "free order-10 blocks": {f"node {z.node} {z.zone}": z.free_blocks[-1] for z in buddy.zones},
                }
            )
            if not simulation.fits:
                raise _StepFailed("the demand is still not met after the release: " + simulation.describe())

    def reload(self) -> None:
        ops = self.plan.operations
        marker = marker_text(self.spec.name, self.journal.run)
        with self.step("reload vRouter", {"command": ops.reload_command}) as figures:
            mark = parse_before_reload(self.run(before_reload_command(marker, ops.agent_log)).stdout)
            self.journal.record(
                "reload", command=ops.reload_command, uptime=mark.uptime, log_bytes=mark.log_bytes, marked=mark.marked
            )
            self.mark = mark
            self.progress.reload_started = True
            self.wait_for_reload(figures)

    def wait_for_reload(self, figures: StepFigures) -> None:
        ops = self.plan.operations
        try:
            script = reload_once_command(ops.reload_command, self.journal.run, ops.reload_timeout + 5)
            result = self.run(script, timeout=ops.reload_timeout)
        except CommandTimeout:
            raise _StepFailed(f"the reload command did not finish within {ops.reload_timeout:g}s") from None
        rc, output = parse_reload_status(result.stdout)
        self.progress.reload_rc = rc
        self.progress.reload_ok = rc == 0
        self.journal.record("reloaded", rc=rc)
        figures.after.update({"rc": rc, "output": output[-2000:]})

    def health(self) -> None:
        ops = self.plan.operations
        with self.step("wait for vRouter health", {"command": ops.health_command, "timeout": ops.health_timeout}) as f:
            deadline = self.clock() + ops.health_timeout
            last = ""
            while True:
                self.progress.health_attempts += 1
                remaining = max(1.0, deadline - self.clock())
                try:
                    result = self.run(ops.health_command, timeout=remaining)
                    if result.succeeded:
                        self.progress.health_ok = True
                        break
                    last = (result.stdout + result.stderr).strip()[-300:] or f"rc {result.rc}"
                except CommandTimeout:
                    last = f"one try did not finish within {remaining:g}s"
                if self.clock() + ops.health_interval > deadline:
                    self.progress.health_ok = False
                    break
                self.sleep(ops.health_interval)
            self.journal.record("health", ok=self.progress.health_ok, attempts=self.progress.health_attempts)
            f.after.update({"ok": self.progress.health_ok, "attempts": self.progress.health_attempts, "last": last})

    def scan(self) -> None:
        ops = self.plan.operations
        mark = getattr(self, "mark", None)
        with self.step("look for failure signatures", {"agent log": ops.agent_log}) as figures:
            dmesg = self.run(kernel_log_command()).stdout
            marker = marker_text(self.spec.name, self.journal.run)
            kernel, how = kernel_lines_after(dmesg, marker, None if mark is None else mark.uptime)
            agent: list[str] = []
            if ops.agent_log:
                tail = self.run(agent_log_tail_command(ops.agent_log, None if mark is None else mark.log_bytes))
                agent = [line for line in tail.stdout.splitlines() if line != "@@rotated"]
            else:
                self.progress.warnings.append("no agent log named (vrouter.agent_log): only the kernel log was scanned")
            found = scan_signatures(kernel, agent)
            self.progress.signatures = found
            self.journal.record("signatures", found=[s.describe() for s in found], kernel_lines=len(kernel))
            figures.after.update(
                {"kernel lines": len(kernel), "kernel from": how, "agent lines": len(agent), "found": len(found)}
            )

    # ------------------------------------------------------------------ rollback

    def reconnect(self) -> bool:
        """A fresh transport that answers, tried until ``reconnect_timeout``; False when none does."""
        deadline = self.clock() + self.reconnect_timeout
        last = ""
        while True:
            with contextlib.suppress(Exception):
                self.transport.close()
            try:
                self.transport = self.factory()
                self.transport.run("true", timeout=max(1.0, min(10.0, deadline - self.clock())))
                return True
            except HostError as exc:
                last = exc.cause
            if self.clock() >= deadline:
                self.progress.unreachable = last
                return False
            self.sleep(min(2.0, max(0.1, deadline - self.clock())))

    def rollback(self) -> None:
        progress = self.progress
        for attempt in (1, 2):
            try:
                if progress.unreachable is not None or attempt == 2:
                    progress.unreachable = None
                    if not self.reconnect():
                        self.journal.record("rollback-pending", reason=f"host unreachable: {progress.unreachable}")
                        return
                if progress.reload_started and progress.reload_rc is None and not progress.reload_awaited:
                    # Never give pages back while the module may still be allocating its tables.
                    progress.reload_awaited = True
                    with self.step("wait for the reload already started", {}) as figures:
                        try:
                            self.wait_for_reload(figures)
                        except _StepFailed as exc:
                            progress.warnings.append(str(exc))
                restored, shortfall = restore_pools(self.transport, self.plan.restore, self.journal, self.step)
                progress.restored = {
                    n: v - (self.before_nr[n] - progress.released.get(n, 0)) for n, v in restored.items()
                }
                progress.shortfall = shortfall
                progress.rolled_back = True
                return
            except HostUnreachable as exc:
                progress.unreachable = exc.cause
            except (HostError, _StepFailed) as exc:
                progress.warnings.append(f"rollback attempt {attempt}: {exc}")
                progress.unreachable = str(exc)
        self.journal.record("rollback-pending", reason=f"rollback failed: {progress.unreachable}")

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.run(cleanup_command(self.journal.run), timeout=30)


def restore_pools(
    transport: Transport, targets: tuple[PoolTarget, ...], journal: Journal, step: Callable[..., Any] | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Write every target's ``nr_hugepages`` back and read back; retry after compaction while pages come.

    Returns ``(nr read back per node, shortfall per node)``; journals
    ``rollback`` before the writes and ``restored`` after. Closes nothing.

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it for real)::

        restore_pools(transport, (PoolTarget(0, GIB_KIB, 4),), journal)  # -> ({0: 4}, {})
    """
    hook = step if step is not None else plain_step
    nodes = [t.node for t in targets]
    wanted = {t.node: t.nr for t in targets}
    with hook("roll back the 1G pools", {f"node {n} target": nr for n, nr in wanted.items()}) as figures:
        journal.record("rollback", targets={str(n): nr for n, nr in wanted.items()})
        got: dict[int, int] = {}
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            for target in targets:
                if got.get(target.node) != target.nr:
                    transport.run(write_pool_command(target.node, target.size_kib, target.nr), privileged=True)
            readings = parse_pool_readback(
                transport.run(read_pools_command((t.node, t.size_kib) for t in targets), privileged=True).stdout
            )
            previous = dict(got)
            got = {
                t.node: (readings[(t.node, t.size_kib)].nr or 0) for t in targets if (t.node, t.size_kib) in readings
            }
            missing = {n: wanted[n] - got.get(n, 0) for n in nodes if got.get(n, 0) < wanted[n]}
            if not missing or (attempt > 1 and got == previous):
                break
            transport.run(COMPACT_MEMORY, privileged=True)
        shortfall = {n: wanted[n] - got.get(n, 0) for n in nodes if got.get(n, 0) < wanted[n]}
        journal.record(
            "restored", nr={str(n): v for n, v in got.items()}, shortfall={str(n): v for n, v in shortfall.items()}
        )
        figures.after.update({f"node {n} nr": v for n, v in got.items()})
        figures.after["shortfall"] = dict(shortfall)
    return got, shortfall


def open_journal(directory: str | Path, spec: HostSpec, plan: RemediationPlan) -> Journal:
    """Start ``spec``'s journal for ``plan`` (refused with OpenJournal while an earlier run is open).

    The ``begin`` record holds the reconnect essentials, the plan's numbers
    and ``restore``: every node's 1G ``nr_hugepages`` to write back.

    >>> import tempfile
    >>> from vrouter_preflight.contiguity import ZoneSupply
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

    Returns the outcome; on Ctrl-C or SIGTERM the rollback runs first and
    :class:`RemediationInterrupted` (a KeyboardInterrupt) carries it.
    ``transport_factory`` makes a fresh transport after a dropped connection
    (default: a new one from ``spec``).

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it for real)::

        outcome = run_remediation(spec, transport, plan, open_journal("/var/lib/vrpf", spec, plan))
        outcome.message  # -> 'compute-0: reload proved (1 × 1G on node 0), vRouter healthy, pools restored'
    """
    run = _Run(
        spec,
        transport,
        plan,
        journal,
        step or plain_step,
        transport_factory or (lambda: open_transport(spec)),
        reconnect_timeout,
        clock,
        sleep,
    )
    progress = run.progress
    if not plan.feasible:
        journal.close("not-run", reason=plan.problem)
        return _outcome(run, f"not run: {plan.problem}")
    guard = _SignalGuard(progress)
    with guard:
        try:
            run.record()
            if plan.changes_pools:
                run.release()
                run.memory()
                run.measure()
            run.reload()
            run.health()
            run.scan()
        except (KeyboardInterrupt, Terminated) as exc:
            progress.interrupted = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
            progress.failure = f"interrupted by {progress.interrupted}"
        except HostUnreachable as exc:
            progress.failure = f"connection lost: {exc.cause}"
            progress.unreachable = exc.cause
        except CommandTimeout as exc:
            progress.failure = f"timed out: {exc.cause}"
        except (HostError, _StepFailed) as exc:
            progress.failure = str(exc)
        except Exception as exc:  # any bug still gets the pools back
            progress.failure = f"unexpected error: {type(exc).__name__}: {exc}"
        with guard.shielded():
            if progress.recorded:
                run.rollback()
            run.cleanup()
    outcome = _finish(run)
    if progress.interrupted is not None:
        raise RemediationInterrupted(outcome)
    return outcome


def _finish(run: _Run) -> RemediationOutcome:
    """Close the journal when everything is back; build the outcome and its one-line message."""
    progress = run.progress
    problems: list[str] = []
    if progress.failure:
        problems.append(progress.failure)
    if progress.reload_ok is False:
        problems.append(f"the reload command failed (rc {progress.reload_rc})")
    if progress.health_ok is False:
        problems.append(f"vRouter was not healthy within {run.plan.operations.health_timeout:g}s")
    if progress.signatures:
        problems.append(f"{len(progress.signatures)} failure signature(s): {progress.signatures[0].describe()}")
    back = progress.rolled_back and not progress.shortfall
    if not progress.recorded:
        run.journal.close("not-run", problems=problems)
        return _outcome(run, f"{run.spec.name}: not run, nothing changed: " + "; ".join(problems))
    if back:
        run.journal.close("ok" if not problems else "failed-restored", problems=problems)
    elif progress.shortfall:
        short = ", ".join(f"{pages} × 1G on node {node}" for node, pages in progress.shortfall.items())
        problems.append(f"could not restore {short}; the journal stays OPEN")
    else:
        problems.append(
            f"the pools were NOT restored ({progress.unreachable or 'rollback did not run'}); the journal stays OPEN: "
            f"replay it with --rollback-journal {run.journal.path}"
        )
    if problems:
        message = f"{run.spec.name}: FAILED: " + "; ".join(problems)
        if back:
            message += "; the pools are restored and the journal closed"
    else:
        released = ", ".join(f"{p} × 1G on node {n}" for n, p in progress.released.items() if p) or "nothing released"
        message = f"{run.spec.name}: reload proved ({released}), vRouter healthy, pools restored"
    return _outcome(run, message, ok=not problems)


def _outcome(run: _Run, message: str, *, ok: bool = False) -> RemediationOutcome:
    progress = run.progress
    return RemediationOutcome(
        host=run.spec.name,
        ok=ok,
        changed=any(progress.released.values()),
        journal_path=str(run.journal.path),
        journal_closed=run.journal.closed,
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
        interrupted=progress.interrupted,
    )


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
    as it is.

    Example (not a doctest: it changes the host's 1G pools; tests/integration/test_remediation.py runs it for real)::

        rollback_from_journal(Path("/var/lib/vrpf/compute-0.journal")).journal_closed  # -> True
    """
    loaded = load_journal(path)
    host = JournalHost.from_record(loaded.host)
    if not loaded.is_open:
        return RemediationOutcome(
            host=host.name,
            ok=loaded.state == "closed",
            changed=False,
            journal_path=str(path),
            journal_closed=loaded.state == "closed",
            message=f"{host.name}: nothing to roll back: {loaded.describe()}",
        )
    journal = Journal.resume(path)
    factory = transport_factory or (lambda h: open_transport(h.to_spec()))
    hook = step or plain_step
    journal.record("replay", reason="--rollback-journal")
    try:
        transport = factory(host)
        try:
            got, shortfall = restore_pools(transport, loaded.restore, journal, hook)
            with contextlib.suppress(Exception):
                transport.run(cleanup_command(journal.run), timeout=30, privileged=True)
        finally:
            transport.close()
    except HostError as exc:
        journal.record("rollback-pending", reason=str(exc))
        return RemediationOutcome(
            host=host.name,
            ok=False,
            changed=False,
            journal_path=str(path),
            journal_closed=False,
            message=f"{host.name}: FAILED: the rollback could not run ({exc.cause}); the journal stays OPEN",
            failure=str(exc),
        )
    released = _last_nr(loaded, ("released",))
    before = _last_nr(loaded, ("released", "restored"))
    restored = {n: v - before.get(n, v) for n, v in got.items()}
    released = {n: _target(loaded.restore, n) - nr for n, nr in released.items()}
    if shortfall:
        short = ", ".join(f"{pages} × 1G on node {node}" for node, pages in shortfall.items())
        message = f"{host.name}: FAILED: could not restore {short}; the journal stays OPEN"
    else:
        journal.close("restored-from-journal")
        message = f"{host.name}: pools restored from {path}; journal closed"
    return RemediationOutcome(
        host=host.name,
        ok=not shortfall,
        changed=False,
        journal_path=str(path),
        journal_closed=journal.closed,
        message=message,
        released=MappingProxyType(released),
        restored=MappingProxyType(restored),
        shortfall=MappingProxyType(shortfall),
    )


def _target(targets: tuple[PoolTarget, ...], node: int) -> int:
    return next(t.nr for t in targets if t.node == node)


def _last_nr(loaded: LoadedJournal, events: tuple[str, ...]) -> dict[int, int]:
    """Per node, ``nr_hugepages`` as last read back in one of ``events`` (``released``, ``restored``)."""
    last: dict[int, int] = {}
    for record in loaded.records:
        if record.event in events:
            for node, nr in record.data.get("nr", {}).items():
                if nr is not None:
                    last[int(node)] = int(nr)
    return last
