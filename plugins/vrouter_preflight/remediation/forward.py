"""The destructive stage on one host, forward: claim, record, release, prove the reload -- journaled.

:func:`run_remediation` runs a :class:`~vrouter_preflight.remediation.plan.RemediationPlan`:

0. claim -- write the host marker (:mod:`~vrouter_preflight.remediation.host_marker`);
   a host held by another run's open journal, from any directory or
   controller, is refused and nothing is changed;
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
5. the rollback (:mod:`~vrouter_preflight.remediation.rollback`), which
   runs however the forward path ended -- a failed step, a timeout, a
   signal (:mod:`~vrouter_preflight.remediation.signal_guard`), a dropped
   connection, any exception -- then the marker is removed and the journal
   closed once the pools read back as found. A shortfall, or a host that
   stays unreachable, leaves the journal OPEN for ``--rollback-journal``.

Every wait is bounded (:mod:`~vrouter_preflight.remediation.bounds`): a
timeout of ``1.0e+308`` in the inventory is clamped, and said so.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.contiguity import simulate_reload, zone_supplies
from vrouter_preflight.errors import CommandTimeout, PreflightError
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation.baseline import buddy_record, pools_record, state_record
from vrouter_preflight.remediation.bounds import (
    COMMAND_CAP,
    HEALTH_INTERVAL_CAP,
    HEALTH_WAIT_CAP,
    RELOAD_WAIT_CAP,
    Deadline,
    bounded_seconds,
)
from vrouter_preflight.remediation.commands import (
    COMPACT_MEMORY,
    DROP_CACHES,
    PERSISTED_SYSCTL_COMMAND,
    SYNC,
    agent_log_tail_command,
    before_reload_command,
    kernel_log_command,
    marker_text,
    parse_before_reload,
    parse_pool_readback,
    parse_reload_status,
    read_pools_command,
    reload_once_command,
    write_pool_command,
)
from vrouter_preflight.remediation.host_marker import (
    MARKER_PATH,
    HostMarker,
    claim_command,
    decide_claim,
    parse_marker_reply,
)
from vrouter_preflight.remediation.journal import Journal, utc_now
from vrouter_preflight.remediation.outcome import (
    Progress,
    StepLog,
)
from vrouter_preflight.remediation.plan import RemediationPlan
from vrouter_preflight.remediation.signatures import kernel_lines_after, persisted_hugepage_settings, scan_signatures
from vrouter_preflight.transport.base import CommandResult, Transport


class StepFailed(PreflightError):
    """A step's check failed; the message is the operator's reason."""


class ForwardPath:
    """One host's forward path: the steps in order, each journaled before its change."""

    def __init__(
        self,
        spec: HostSpec,
        transport: Transport,
        plan: RemediationPlan,
        journal: Journal,
        steps: StepLog,
        sleep: Callable[[float], None],
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.plan = plan
        self.journal = journal
        self.steps = steps
        self.progress: Progress = steps.progress
        self.before_nr: dict[int, int] = {t.node: t.nr for t in plan.restore}
        self.mark = parse_before_reload("")
        self.sleep = sleep

    def run(self) -> None:
        """Every step in order; raises whatever stops it (the caller rolls back)."""
        self.claim()
        self.record()
        if self.plan.changes_pools:
            self.release()
            self.memory()
            self.measure()
        self.reload()
        self.health()
        self.scan()

    def _run(self, command: str, timeout: float | None = None) -> CommandResult:
        limit = bounded_seconds(self.spec.command_timeout, COMMAND_CAP) if timeout is None else timeout
        return self.transport.run(command, timeout=limit, privileged=True)

    def facts(self) -> HostFacts:
        return HostFacts(self.spec.name, self.transport.capture(FACT_SOURCES))

    def claim(self) -> None:
        marker = HostMarker(
            self.spec.name, self.journal.run, str(Path(self.journal.path).resolve()), socket.gethostname(), utc_now()
        )
        with self.steps.step("claim the host", {"marker": MARKER_PATH}) as figures:
            self.journal.record("claim", marker=MARKER_PATH, controller=marker.controller, journal=marker.journal)
            self.progress.claim_sent = True
            result = self._run(claim_command(marker))
            decision = decide_claim(parse_marker_reply(result.stdout), self.journal.run, result.stderr)
            figures.after["claimed"] = self.progress.claimed = decision.claimed
            if decision.refusal is not None:
                raise StepFailed(decision.refusal)

    def record(self) -> None:
        with self.steps.step("record the pools and buddy state", {"planned restore": dict(self.before_nr)}) as figures:
            facts = self.facts()
            persisted = persisted_hugepage_settings(self._run(PERSISTED_SYSCTL_COMMAND).stdout)
            self.progress.warnings += [setting.describe() for setting in persisted]
            self.journal.record("baseline", **state_record(facts), persisted=[s.describe() for s in persisted])
            pools = [p for p in facts.hugepages.node_pools(GIB_KIB) if p.node is not None]
            now = {p.node: p.nr for p in pools}
            free = {p.node: p.free for p in pools}
            figures.after.update({"nr": now, "free": free, "persisted": len(persisted)})
            moved = {n: (nr, now.get(n)) for n, nr in self.before_nr.items() if now.get(n) != nr}
            if moved:
                what = ", ".join(f"node {n} planned {a}, now {b}" for n, (a, b) in moved.items())
                raise StepFailed(f"the 1G pools changed since the plan ({what}); plan again")
            short = {n: (count, free.get(n)) for n, count in self.plan.release.items() if (free.get(n) or 0) < count}
            if short:
                what = ", ".join(f"node {n} needs {c} free, has {f}" for n, (c, f) in short.items())
                raise StepFailed(f"fewer free 1G pages than planned ({what}); plan again")
        self.progress.recorded = True

    def release(self) -> None:
        targets = self.plan.targets
        before = {f"node {n} nr": self.before_nr[n] for n in targets}
        with self.steps.step("release 1G pages", before) as figures:
            self.journal.record("release", targets={str(n): t for n, t in targets.items()})
            for node, target in targets.items():
                self._run(write_pool_command(node, GIB_KIB, target))
            readings = parse_pool_readback(self._run(read_pools_command((n, GIB_KIB) for n in targets)).stdout)
            got = {n: readings[(n, GIB_KIB)].nr if (n, GIB_KIB) in readings else None for n in targets}
            for node, nr in got.items():
                if nr is not None:
                    self.progress.released[node] = self.before_nr[node] - nr
            self.journal.record("released", nr={str(n): v for n, v in got.items()})
            figures.after.update({f"node {n} nr": v for n, v in got.items()})
            wrong = {n: (targets[n], nr) for n, nr in got.items() if nr != targets[n]}
            if wrong:
                what = ", ".join(f"node {n}: asked for {a}, got {b}" for n, (a, b) in wrong.items())
                raise StepFailed(f"the release did not take: {what}")

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
        with self.steps.step("sync, drop caches, compact", {"steps": [name for name, _ in chosen]}) as figures:
            self.journal.record("memory", steps=[name for name, _ in chosen])
            for name, command in chosen:
                result = self._run(command)
                figures.after[name] = result.rc
                if not result.succeeded:
                    self.progress.warnings.append(f"{name} failed (rc {result.rc}): {result.stderr.strip()[:200]}")

    def measure(self) -> None:
        with self.steps.step("re-measure the buddy state", {"requested": dict(self.plan.requests)}) as figures:
            facts = self.facts()
            buddy = facts.buddyinfo
            if buddy is None:
                raise StepFailed("/proc/buddyinfo could not be read after the release")
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
                raise StepFailed("the demand is still not met after the release: " + simulation.describe())

    def reload(self) -> None:
        ops = self.plan.operations
        wait = self._bounded("vrouter.reload_timeout", ops.reload_timeout, RELOAD_WAIT_CAP)
        marker = marker_text(self.spec.name, self.journal.run)
        with self.steps.step("reload vRouter", {"command": ops.reload_command, "timeout": wait}) as figures:
            self.mark = parse_before_reload(self._run(before_reload_command(marker, ops.agent_log)).stdout)
            self.journal.record(
                "reload",
                command=ops.reload_command,
                uptime=self.mark.uptime,
                log_bytes=self.mark.log_bytes,
                marked=self.mark.marked,
            )
            self.progress.reload_deadline = self.steps.clock() + wait
            self.progress.reload_started = True
            try:
                result = self._run(reload_once_command(ops.reload_command, self.journal.run, wait + 5), timeout=wait)
            except CommandTimeout:
                raise StepFailed(f"the reload command did not finish within {wait:g}s") from None
            rc, output = parse_reload_status(result.stdout)
            self.progress.reload_rc, self.progress.reload_ok = rc, rc == 0
            self.progress.reload_settled = rc is not None
            self.journal.record("reloaded", rc=rc)
            figures.after.update({"rc": rc, "output": output[-2000:]})

    def health(self) -> None:
        ops = self.plan.operations
        seconds = self._bounded("vrouter.health_timeout", ops.health_timeout, HEALTH_WAIT_CAP)
        interval = self._bounded("vrouter.health_interval", ops.health_interval, HEALTH_INTERVAL_CAP)
        progress = self.progress
        with self.steps.step("wait for vRouter health", {"command": ops.health_command, "timeout": seconds}) as f:
            deadline = Deadline(seconds, HEALTH_WAIT_CAP, clock=self.steps.clock)
            last = ""
            while True:
                progress.health_attempts += 1
                timeout = bounded_seconds(deadline.remaining(), HEALTH_WAIT_CAP, floor=1.0)
                try:
                    result = self._run(ops.health_command, timeout=timeout)
                    if result.succeeded:
                        progress.health_ok = True
                        break
                    last = (result.stdout + result.stderr).strip()[-300:] or f"rc {result.rc}"
                except CommandTimeout:
                    last = f"one try did not finish within {timeout:g}s"
                if deadline.remaining() < interval:
                    progress.health_ok = False
                    break
                self.sleep(interval)
            self.journal.record("health", ok=progress.health_ok, attempts=progress.health_attempts)
            f.after.update({"ok": progress.health_ok, "attempts": progress.health_attempts, "last": last})

    def scan(self) -> None:
        ops = self.plan.operations
        with self.steps.step("look for failure signatures", {"agent log": ops.agent_log}) as figures:
            dmesg = self._run(kernel_log_command()).stdout
            marker = marker_text(self.spec.name, self.journal.run)
            kernel, how = kernel_lines_after(dmesg, marker, self.mark.uptime)
            agent: list[str] = []
            if ops.agent_log:
                tail = self._run(agent_log_tail_command(ops.agent_log, self.mark.log_bytes))
                agent = [line for line in tail.stdout.splitlines() if line != "@@rotated"]
            else:
                self.progress.warnings.append("no agent log named (vrouter.agent_log): only the kernel log was scanned")
            found = scan_signatures(kernel, agent)
            self.progress.signatures = found
            self.journal.record("signatures", found=[s.describe() for s in found], kernel_lines=len(kernel))
            figures.after.update(
                {"kernel lines": len(kernel), "kernel from": how, "agent lines": len(agent), "found": len(found)}
            )

    def _bounded(self, key: str, value: float, cap: float) -> float:
        seconds = bounded_seconds(value, cap)
        if seconds != value:
            self.progress.warnings.append(f"{key} {value:g}s is out of range: {seconds:g}s used")
        return seconds
