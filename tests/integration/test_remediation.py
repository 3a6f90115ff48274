"""The destructive stage on this machine's real hugepage pools, locally and through real sshd.

Each test reserves two 1G pages on node 0 at runtime, builds a stand-in demand
that the buddy state cannot serve now but can once the planned pages are
released (this machine is not fragmented, so the demand is sized from its
live supply), and runs the stage with stand-in reload and health commands
(``tests/standins/``). The stand-in reload records the 1G pools it sees from
inside the reload. Pools are always put back (``reserved_pages`` verifies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.destructive_runs import no_marker_left  # noqa: F401  (autouse: every run removes its host marker)
from tests.integration.conftest import SpecFactory
from tests.kernel_pools import read_pool, require_kernel_tests, usable_order10_supply
from tests.sshd_rig import SshdServer
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec, RemediationSteps, VrouterOverrides
from vrouter_preflight.remediation import (
    RemediationInterrupted,
    RemediationOutcome,
    RemediationPlan,
    StepFigures,
    load_journal,
    open_journal,
    plan_remediation_for,
    rollback_from_journal,
    run_remediation,
)
from vrouter_preflight.remediation.baseline import JournalHost
from vrouter_preflight.transport.base import CommandResult, Transport
from vrouter_preflight.transport.local import LocalTransport
from vrouter_preflight.transport.ssh import SshTransport

require_kernel_tests()

GIB_KIB = 1048576
STANDINS = Path(__file__).resolve().parents[1] / "standins"
RELOAD = STANDINS / "reload.sh"
HEALTH = STANDINS / "health.sh"
OpenSsh = Callable[[HostSpec], SshTransport]


def local_spec(
    tmp_path: Path,
    *,
    seconds: float = 0,
    succeed_on: int = 1,
    agent_line: str = "",
    remediation: RemediationSteps | None = None,
    **vrouter: Any,
) -> HostSpec:
    agent_log = tmp_path / "agent.log"
    agent_log.write_text("old line: Assertion from an earlier life\n")
    reload = f"sh {RELOAD} {tmp_path / 'observed'} {seconds}"
    if agent_line:
        reload += f" {agent_log} '{agent_line}'"
    overrides = {"health_timeout": 5, **vrouter}
    return HostSpec(
        name="remediation-test",
        transport="local",
        remediation=remediation or RemediationSteps(),
        vrouter=VrouterOverrides(
            reload_command=reload,
            health_command=f"sh {HEALTH} {tmp_path / 'health-tries'} {succeed_on}",
            agent_log=str(agent_log),
            **overrides,
        ),
    )


def stand_in_plan(spec: HostSpec, transport: Transport, extra_blocks: int) -> RemediationPlan:
    """A plan whose demand is the live usable order-10 supply plus ``extra_blocks`` (health polled every 0.2 s
    unless the spec names its own interval)."""
    facts = HostFacts(spec.name, transport.capture(FACT_SOURCES))
    supplies, usable = usable_order10_supply(facts)
    plan = plan_remediation_for({10: usable + extra_blocks}, supplies, facts.hugepages, spec, page_size=4096)
    if spec.vrouter.health_interval is not None:
        return plan
    return replace(plan, operations=replace(plan.operations, health_interval=0.2))


def local_run(tmp_path: Path, extra_blocks: int, **spec: Any) -> tuple[HostSpec, LocalTransport, RemediationPlan]:
    """A local host (``local_spec(tmp_path, **spec)``), its transport, and its stand-in plan."""
    host = local_spec(tmp_path, **spec)
    transport = LocalTransport(host)
    return host, transport, stand_in_plan(host, transport, extra_blocks)


def observed(tmp_path: Path) -> dict[int, tuple[int, int]]:
    """``node: (nr, free)`` of the 1G pools, as the stand-in reload saw them."""
    lines = (tmp_path / "observed").read_text().splitlines()[:-1]
    return {int(n): (int(nr), int(free)) for n, nr, free in (line.split() for line in lines)}


def test_full_cycle_locally_releases_observes_and_restores(two_1g_pages: int, tmp_path: Path) -> None:
    spec = local_spec(tmp_path, succeed_on=3)
    transport = LocalTransport(spec)
    plan = stand_in_plan(spec, transport, extra_blocks=300)  # 300 blocks: 2 pages at 240 planned per page
    assert dict(plan.release) == {0: two_1g_pages}, plan.describe()
    journal = open_journal(tmp_path / "journal", spec, plan)
    outcome = run_remediation(spec, transport, plan, journal)
    print(plan.describe(), outcome.message, [(s.title, s.seconds) for s in outcome.steps], sep="\n")
    assert outcome.ok, outcome.message
    assert dict(outcome.released) == {0: 2} and dict(outcome.restored) == {0: 2} and not outcome.shortfall
    assert observed(tmp_path)[0] == (0, 0)  # released, seen from inside the reload
    assert read_pool(GIB_KIB, node=0) == 2
    assert outcome.reload_ok and outcome.health_ok and outcome.health_attempts == 3
    assert outcome.signatures == ()  # the agent log's old assertion is not counted
    assert outcome.journal_closed and load_journal(journal.path).outcome == "ok"
    events = [r.event for r in load_journal(journal.path).records]
    assert events == ["begin", "claim", "baseline", "release", "released", "memory", "measured", "reload", "reloaded",
                      "health", "signatures", "rollback", "restored", "close"]  # fmt: skip
    measured = next(r for r in load_journal(journal.path).records if r.event == "measured")
    assert measured.data["fits"] is True
    assert not os.path.exists(f"/tmp/vrouter-preflight.{journal.run}")


def test_fitting_gate_only_proves_the_reload(two_1g_pages: int, tmp_path: Path) -> None:
    spec, transport, plan = local_run(tmp_path, -50)
    assert plan.fits_now and not plan.changes_pools
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    assert outcome.ok and not outcome.changed and outcome.back, outcome.message
    assert observed(tmp_path)[0] == (2, 2)


def test_health_never_succeeds_rolls_back_and_fails(two_1g_pages: int, tmp_path: Path) -> None:
    spec, transport, plan = local_run(tmp_path, 100, succeed_on=0)
    assert dict(plan.release) == {0: 1}
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    assert not outcome.ok and outcome.health_ok is False and outcome.health_attempts > 3
    assert "not healthy within 5s" in outcome.message
    assert observed(tmp_path)[0] == (1, 1)
    assert dict(outcome.restored) == {0: 1} and outcome.back and read_pool(GIB_KIB, node=0) == 2
    assert load_journal(outcome.journal_path).outcome == "failed-restored"


def test_agent_log_signature_after_the_reload_fails_the_run(two_1g_pages: int, tmp_path: Path) -> None:
    line = "ksync_memory.cc:100: void KSyncMemory::Mmap(bool): Assertion table_size_ != 0 failed."
    spec, transport, plan = local_run(tmp_path, 100, agent_line=line)
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    assert not outcome.ok and [s.needle for s in outcome.signatures] == ["Assertion"]
    assert outcome.back and read_pool(GIB_KIB, node=0) == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_during_the_reload_rolls_back_first(two_1g_pages: int, tmp_path: Path, sig: signal.Signals) -> None:
    spec, transport, plan = local_run(tmp_path, 100, seconds=3)
    journal = open_journal(tmp_path, spec, plan)
    killer = threading.Thread(target=_signal_when, args=(tmp_path / "observed", sig), daemon=True)
    killer.start()
    with pytest.raises(RemediationInterrupted) as info:
        run_remediation(spec, transport, plan, journal)
    outcome = info.value.outcome
    assert outcome.interrupted == sig.name and not outcome.ok and outcome.changed
    assert observed(tmp_path)[0] == (1, 1)
    assert outcome.back and read_pool(GIB_KIB, node=0) == 2 and load_journal(journal.path).state == "closed"
    # the rollback waited for the reload already started (its own status poll), then put the page back
    assert [s.title for s in outcome.steps][-2:] == ["wait for the reload already started", "roll back the 1G pools"]
    assert outcome.reload_rc == 0


def _signal_when(path: Path, sig: signal.Signals = signal.SIGTERM) -> None:
    _wait_for(path)
    os.kill(os.getpid(), sig)


def _wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_timeouts_of_1e308_are_clamped_and_the_run_completes(two_1g_pages: int, tmp_path: Path) -> None:
    """Issue 13 item 1: ``reload_timeout: 1.0e+308`` raised OverflowError in the wait and again in the rollback."""
    spec, transport, plan = local_run(
        tmp_path, 100, reload_timeout=1.0e308, health_timeout=1.0e308, health_interval=1.0e308
    )
    assert plan.operations.reload_timeout == 1.0e308
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    assert outcome.ok and outcome.changed and outcome.back, outcome.message
    assert "vrouter.reload_timeout 1e+308s is out of range: 3600s used" in outcome.warnings
    assert "vrouter.health_interval 1e+308s is out of range: 300s used" in outcome.warnings
    assert observed(tmp_path)[0] == (1, 1) and read_pool(GIB_KIB, node=0) == 2
    assert load_journal(outcome.journal_path).outcome == "ok"


def failing_hook(raise_at: Mapping[str, BaseException]) -> Callable[..., Any]:
    """A step hook (the caller's report) that raises ``raise_at[title]`` when that step starts."""

    @contextlib.contextmanager
    def hook(title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
        if title in raise_at:
            raise raise_at[title]
        yield StepFigures(title, before)

    return hook


def test_an_overflow_in_a_step_and_a_broken_report_in_the_rollback_still_put_the_page_back(
    two_1g_pages: int, tmp_path: Path
) -> None:
    spec, transport, plan = local_run(tmp_path, 100)
    overflow = OverflowError("cannot convert float infinity to integer")
    hook = failing_hook({"wait for vRouter health": overflow, "roll back the 1G pools": overflow})
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan), step=hook)
    assert not outcome.ok and outcome.changed and dict(outcome.released) == {0: 1}
    assert "unexpected OverflowError: cannot convert float infinity to integer" in outcome.message
    assert outcome.back and dict(outcome.restored) == {0: 1} and read_pool(GIB_KIB, node=0) == 2
    assert any("the report of step 'roll back the 1G pools' failed" in w for w in outcome.warnings)
    assert load_journal(outcome.journal_path).outcome == "failed-restored"


def test_systemexit_mid_run_rolls_back_then_goes_on(two_1g_pages: int, tmp_path: Path) -> None:
    spec, transport, plan = local_run(tmp_path, 100)
    journal = open_journal(tmp_path, spec, plan)
    hook = failing_hook({"sync, drop caches, compact": SystemExit(3)})
    with pytest.raises(SystemExit):
        run_remediation(spec, transport, plan, journal, step=hook)
    loaded = load_journal(journal.path)
    assert loaded.outcome == "failed-restored" and read_pool(GIB_KIB, node=0) == 2
    assert [r.event for r in loaded.records].count("rollback") == 1


def test_a_reload_that_hangs_past_its_timeout_is_waited_for_a_bounded_grace_then_rolled_back(
    two_1g_pages: int, tmp_path: Path
) -> None:
    spec, transport, plan = local_run(tmp_path, 100, seconds=40, reload_timeout=2)
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    # the stand-in sleeps 40 s: the rollback gave up waiting at the deadline + grace, while it still ran
    assert "the reload command did not finish within 2s" in outcome.message
    assert "the reload was still running at its deadline: the pools were put back anyway" in outcome.warnings
    assert outcome.back and read_pool(GIB_KIB, node=0) == 2


STEPS = [
    "claim the host",
    "record the pools and buddy state",
    "release 1G pages",
    "sync, drop caches, compact",
    "re-measure the buddy state",
    "reload vRouter",
    "wait for vRouter health",
    "look for failure signatures",
]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
@pytest.mark.parametrize("at", STEPS)
def test_a_signal_at_any_step_leads_to_the_rollback_exactly_once(
    two_1g_pages: int, tmp_path: Path, at: str, sig: signal.Signals
) -> None:
    spec, transport, plan = local_run(
        tmp_path, 100, remediation=RemediationSteps(sync=True, drop_caches=False, compact_memory=False)
    )
    assert dict(plan.release) == {0: 1}

    @contextlib.contextmanager
    def signalling(title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
        if title == at:
            os.kill(os.getpid(), sig)
        if title == "roll back the 1G pools":
            os.kill(os.getpid(), signal.SIGTERM)  # a second signal, during the rollback: noted, not obeyed
        yield StepFigures(title, before)

    journal = open_journal(tmp_path, spec, plan)
    with pytest.raises(RemediationInterrupted) as info:
        run_remediation(spec, transport, plan, journal, step=signalling)
    outcome: RemediationOutcome = info.value.outcome
    loaded = load_journal(journal.path)
    changes = STEPS.index(at) > STEPS.index("release 1G pages")  # the signal comes as the step starts
    assert outcome.interrupted == sig.name and f"interrupted by {sig.name}" in outcome.message
    assert outcome.changed is changes and loaded.state == "closed" and read_pool(GIB_KIB, node=0) == 2
    rollbacks = [r for r in loaded.records if r.event == "rollback"]
    recorded = STEPS.index(at) > STEPS.index("record the pools and buddy state")
    assert len(rollbacks) == (1 if recorded else 0), [r.event for r in loaded.records]
    assert [s.title for s in outcome.steps].count("roll back the 1G pools") == len(rollbacks)
    if rollbacks:
        assert "SIGTERM received during the rollback: noted, the rollback went on" in outcome.warnings
    assert loaded.outcome == ("failed-restored" if recorded else "not-run")


class ShortKernel(Transport):
    """Passes commands through, but a pool write asking node 0 for more than ``cap`` pages asks for ``cap``.

    The kernel really releases and really re-reserves; only the target of the
    rollback's write is lowered, as a fragmented node would fall short.
    """

    def __init__(self, inner: Transport, cap: int) -> None:
        super().__init__(inner.spec)
        self.inner, self.cap = inner, cap

    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        path = "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
        if command.startswith("echo ") and command.endswith(f"> {path}"):
            count = int(command.split()[1])
            command = f"echo {min(count, self.cap)} > {path}"
        return self.inner.run(command, timeout=timeout, privileged=privileged)


def test_restore_that_falls_short_reports_the_shortfall_and_keeps_the_journal_open(
    two_1g_pages: int, tmp_path: Path
) -> None:
    spec = local_spec(tmp_path)
    local = LocalTransport(spec)
    plan = stand_in_plan(spec, local, extra_blocks=300)
    assert dict(plan.release) == {0: 2}
    outcome = run_remediation(spec, ShortKernel(local, cap=1), plan, open_journal(tmp_path, spec, plan))
    assert not outcome.ok and not outcome.back
    assert dict(outcome.shortfall) == {0: 1} and dict(outcome.restored) == {0: 1}
    assert "could not restore 1 × 1G on node 0; the journal stays OPEN" in outcome.message
    loaded = load_journal(outcome.journal_path)
    assert loaded.is_open and read_pool(GIB_KIB, node=0) == 1
    replay = rollback_from_journal(outcome.journal_path, lambda host: LocalTransport(host.to_spec()))
    assert replay.ok and replay.journal_closed and dict(replay.restored) == {0: 1}, replay.message
    assert read_pool(GIB_KIB, node=0) == 2


# ---------------------------------------------------------------------- through sshd


def ssh_spec(make_spec: SpecFactory, tmp_path: Path, *, port: int | None = None, seconds: float = 0) -> HostSpec:
    local = local_spec(tmp_path, seconds=seconds)
    overrides: dict[str, object] = {"name": "remediation-ssh", "vrouter": local.vrouter}
    if port is not None:
        overrides["port"] = port
    return make_spec(**overrides)


@pytest.mark.timeout(120)
def test_full_cycle_through_sshd(two_1g_pages: int, tmp_path: Path, make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    spec = ssh_spec(make_spec, tmp_path)
    transport = open_ssh(spec)
    plan = stand_in_plan(spec, transport, extra_blocks=300)
    outcome = run_remediation(spec, transport, plan, open_journal(tmp_path, spec, plan))
    assert outcome.ok, outcome.message
    assert dict(outcome.released) == {0: 2} and observed(tmp_path)[0] == (0, 0)
    assert outcome.back and read_pool(GIB_KIB, node=0) == 2


def _cut(server: SshdServer, when: Path, down_for: float | None) -> threading.Thread:
    """Stop ``server`` once ``when`` exists; start it again ``down_for`` seconds later (never when None)."""

    def cut() -> None:
        _wait_for(when)
        server.stop()
        if down_for is not None:
            time.sleep(down_for)
            server.start()

    thread = threading.Thread(target=cut, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(120)
def test_connection_cut_during_the_reload_reconnects_and_restores(
    two_1g_pages: int, tmp_path: Path, make_spec: SpecFactory, open_ssh: OpenSsh, private_sshd: SshdServer
) -> None:
    private_sshd.write_known_hosts(make_spec().known_hosts or "")
    spec = ssh_spec(make_spec, tmp_path, port=private_sshd.port, seconds=3)
    transport = open_ssh(spec)
    plan = stand_in_plan(spec, transport, extra_blocks=100)
    cutter = _cut(private_sshd, tmp_path / "observed", down_for=2.0)
    outcome = run_remediation(
        spec, transport, plan, open_journal(tmp_path, spec, plan), transport_factory=lambda: open_ssh(spec)
    )
    cutter.join()
    print(outcome.message, outcome.warnings)
    assert observed(tmp_path)[0] == (1, 1)
    assert outcome.back and dict(outcome.restored) == {0: 1} and read_pool(GIB_KIB, node=0) == 2
    assert load_journal(outcome.journal_path).state == "closed"
    # the reload ran once, although its wrapper ran again after the reconnect
    assert outcome.reload_rc == 0


@pytest.mark.timeout(120)
def test_host_gone_during_the_reload_leaves_the_journal_open_for_replay(
    two_1g_pages: int, tmp_path: Path, make_spec: SpecFactory, open_ssh: OpenSsh, private_sshd: SshdServer
) -> None:
    private_sshd.write_known_hosts(make_spec().known_hosts or "")
    spec = ssh_spec(make_spec, tmp_path, port=private_sshd.port, seconds=1)
    transport = open_ssh(spec)
    plan = stand_in_plan(spec, transport, extra_blocks=100)
    cutter = _cut(private_sshd, tmp_path / "observed", down_for=None)
    outcome = run_remediation(
        spec,
        transport,
        plan,
        open_journal(tmp_path, spec, plan),
        transport_factory=lambda: open_ssh(spec),
        reconnect_timeout=3,
    )
    cutter.join()
    assert not outcome.ok and not outcome.journal_closed
    assert "NOT restored" in outcome.message and "--rollback-journal" in outcome.message
    loaded = load_journal(outcome.journal_path)
    assert loaded.is_open and loaded.records[-1].event == "rollback-pending"
    assert read_pool(GIB_KIB, node=0) == 1  # still released: the host was unreachable
    private_sshd.start()

    def factory(host: JournalHost) -> Transport:
        assert host.name == spec.name and host.port == spec.port and host.address == "127.0.0.1"
        return open_ssh(spec)

    replay = rollback_from_journal(outcome.journal_path, factory)
    assert replay.ok and replay.journal_closed, replay.message
    assert dict(replay.released) == {0: 1} and dict(replay.restored) == {0: 1}
    assert read_pool(GIB_KIB, node=0) == 2 and load_journal(outcome.journal_path).state == "closed"
