"""The trial allocation against this machine's real kernel (opt-in: VRPF_KERNEL_TESTS=1, set by .ci/run).

Pages are reserved at runtime with tests.kernel_pools.reserved_pages (which
restores the old pool size and verifies it), and every test holds
kernel_lock(): another engineer's kernel tests may run on this machine at the
same time. After every trial the whole pool snapshot (every counter of every
size, global and per node) must read exactly as before.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import SpecFactory
from tests.kernel_pools import kernel_lock, pool_snapshot, read_pool, require_kernel_tests, reserved_pages
from tests.snapshot_trees import build_tree
from tests.sshd_rig import SshdServer
from tests.suite_runs import run_suite
from tests.unit.test_trial_helper import PYTHONS, run_wrapper
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.local import LocalTransport
from vrouter_preflight.trial.judge import judge_trial
from vrouter_preflight.trial.report import TrialReport
from vrouter_preflight.trial.runner import TrialRequest, TrialUnavailable, build_command, interpret, run_trial

require_kernel_tests()

pytestmark = pytest.mark.timeout(300)

MIB2, GIB1 = 2048, 1048576
FLOW, BRIDGE = 161_218_560, 20_185_088  # vRouter's default tables: 77 + 10 = 87 × 2M, 1 + 1 = 2 × 1G


@pytest.fixture(autouse=True)
def _exclusive_pools() -> Iterator[None]:
    """Hold the cross-process lock for the whole test, and check that the pools end as they started."""
    with kernel_lock():
        before = pool_snapshot()
        yield
        assert pool_snapshot() == before


def local() -> LocalTransport:
    return LocalTransport(HostSpec(name="this-machine", transport="local"))


def trial(transport: Any, size_kib: int = MIB2, **overrides: Any) -> TrialReport:
    fields: dict[str, Any] = {"sizes_kib": (size_kib,), "flow_bytes": FLOW, "bridge_bytes": BRIDGE, "deadline_s": 60}
    fields.update(overrides)
    return run_trial(transport, TrialRequest(**fields))


def settled_pools(expected: dict[str, int], seconds: float = 5.0) -> dict[str, int]:
    """The pool snapshot once it equals ``expected``, or the last one after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        now = pool_snapshot()
        if now == expected or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def test_100_2m_pages_fit_and_come_back_locally() -> None:
    with reserved_pages(MIB2, 100) as got:
        assert got == 100
        before = pool_snapshot()
        report = trial(local())
        assert pool_snapshot() == before
    (size,) = report.trials
    assert size.status == "ok", size.reason
    assert (size.need_flow, size.need_bridge) == (77, 10)
    assert size.during is not None
    assert size.during[MIB2].whole.free == 13  # 87 taken while held
    assert size.after == size.before
    judgement = judge_trial(report, [], [])
    assert judgement.ok, judgement.message
    assert "87 × 2M (flow 77 + bridge 10) mapped and touched, 87 from node 0" in judgement.message


def test_bound_to_node_0_the_pages_come_from_node_0() -> None:
    with reserved_pages(MIB2, 100):
        report = trial(local(), node=0)
    (size,) = report.trials
    assert size.status == "ok", size.reason
    assert size.during is not None and size.during[MIB2].nodes[0].free == 13
    assert judge_trial(report, [], []).ok


@pytest.mark.parametrize("as_user", ["root", "sudo"])
def test_100_2m_pages_fit_through_sshd(
    as_user: str, make_spec: SpecFactory, sshd: SshdServer, request: pytest.FixtureRequest
) -> None:
    from vrouter_preflight.transport.ssh import SshTransport

    spec = make_spec()
    if as_user == "sudo":
        user, _ = request.getfixturevalue("sudo_users")
        spec = make_spec(user=user, become="sudo")
    transport = SshTransport(spec)
    try:
        with reserved_pages(MIB2, 100):
            before = pool_snapshot()
            report = trial(transport)
            assert pool_snapshot() == before
    finally:
        transport.close()
    (size,) = report.trials
    assert size.status == "ok", size.reason
    assert size.during is not None and size.during[MIB2].whole.free == 13
    assert judge_trial(report, [], []).ok


def test_50_2m_pages_are_refused_without_allocating() -> None:
    with reserved_pages(MIB2, 50):
        before = pool_snapshot()
        report = trial(local())
        assert pool_snapshot() == before
    (size,) = report.trials
    assert size.status == "short"
    assert size.during is None  # never mapped
    judgement = judge_trial(report, [], [])
    assert not judgement.ok
    assert "the tables need 87 × 2M (flow 77 + bridge 10), 50 available (free 50 − reserved 0)" in judgement.message
    assert "not tried, nothing allocated; reserve 37 more 2M pages" in judgement.message


def test_two_1g_pages_reserved_at_runtime_fit() -> None:
    with reserved_pages(GIB1, 2) as got:
        if got != 2:
            pytest.fail(f"the kernel gave {got} of 2 1G pages at runtime: cannot test the 1G trial", pytrace=False)
        report = trial(local(), GIB1)
    (size,) = report.trials
    assert size.status == "ok", size.reason
    assert (size.need_flow, size.need_bridge) == (1, 1)
    assert size.during is not None and size.during[GIB1].whole.free == 0
    assert judge_trial(report, [], []).ok


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_a_real_trial_under_every_python(version: str, tmp_path: Path) -> None:
    name = "python3" if version.startswith("3.") else "python2.7"
    (tmp_path / name).symlink_to(PYTHONS[version])
    request = TrialRequest(sizes_kib=(MIB2,), flow_bytes=FLOW, bridge_bytes=BRIDGE, node=0)
    with reserved_pages(MIB2, 100):
        report = interpret(run_wrapper(build_command(request), tmp_path), request)
    assert report.python == version
    assert report.trials[0].status == "ok", report.trials[0].reason
    assert judge_trial(report, [], []).ok


def helper_pids(marker: str) -> dict[int, int]:
    """Python processes whose command line carries ``marker``: pid -> parent pid."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if os.path.basename(argv[0]).startswith(b"python") and any(marker.encode() in a for a in argv):
            found[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


@pytest.mark.parametrize("victim", ["holder", "supervisor", "both"])
def test_a_trial_killed_mid_way_leaves_the_pools_as_before(victim: str) -> None:
    outcome: dict[str, Any] = {}
    request = TrialRequest(sizes_kib=(MIB2,), flow_bytes=FLOW, bridge_bytes=BRIDGE, deadline_s=60, hold_s=30)

    def run() -> None:
        try:
            outcome["report"] = run_trial(local(), request)
        except TrialUnavailable as exc:
            outcome["error"] = exc

    with reserved_pages(MIB2, 100):
        before = pool_snapshot()
        worker = threading.Thread(target=run)
        worker.start()
        held_since = time.monotonic()
        while read_pool(MIB2, "free_hugepages") > 13 and time.monotonic() - held_since < 20:
            time.sleep(0.02)
        assert read_pool(MIB2, "free_hugepages") == 13, "the helper never held its 87 pages"
        pids = helper_pids(request.marker)
        holders = [pid for pid, parent in pids.items() if parent in pids]
        supervisors = [pid for pid in pids if pid not in holders]
        assert len(holders) == 1 and len(supervisors) == 1, pids
        targets = {"holder": holders, "supervisor": supervisors, "both": supervisors + holders}[victim]
        for pid in targets:
            os.kill(pid, signal.SIGKILL)
        worker.join(30)
        assert not worker.is_alive()
        assert settled_pools(before) == before
        assert helper_pids(request.marker) == {}
    if victim == "holder":
        (size,) = outcome["report"].trials
        assert (size.status, size.reason) == ("failed", "the worker was killed by signal 9")
        assert size.after == size.before
        assert "did not get them: the worker was killed by signal 9" in judge_trial(outcome["report"], [], []).message
    else:
        assert "gave no report" in str(outcome["error"])


def test_the_deadline_stops_a_trial_and_gives_everything_back() -> None:
    with reserved_pages(MIB2, 100):
        before = pool_snapshot()
        report = trial(local(), deadline_s=2, hold_s=30)
        assert pool_snapshot() == before
    (size,) = report.trials
    assert size.status == "timeout"
    assert size.reason == "stopped by deadline while the worker held the pages"
    assert size.after == size.before


def test_whole_run_passes_with_2m_reserved_and_a_missing_node_is_an_error(tmp_path: Path) -> None:
    build_tree(tmp_path / "captured", meminfo="ubuntu1204-3.2-8g.txt", extra={"/proc/sys/kernel/osrelease": "6.1\n"})
    inventory = tmp_path / "trial.yaml"
    hosts = {
        "this-machine": {"transport": "local", "vrouter": {"hugepage_size": "2M"}},
        "two-nodes": {"transport": "local", "vrouter": {"hugepage_size": "2M"}, "trial": {"nodes": [0, 1]}},
        "buddy-mode": {"transport": "local", "vrouter": {"hugepage_size": "none"}},
        "captured": {"transport": "snapshot", "path": "captured", "vrouter": {"hugepage_size": "2M"}},
    }
    inventory.write_text(json.dumps({"hosts": hosts}))
    summary_path = tmp_path / "summary.json"
    with reserved_pages(MIB2, 100):
        before = pool_snapshot()
        result = run_suite("--inventory", str(inventory), f"--summary-json={summary_path}")
        assert pool_snapshot() == before
    assert "Traceback" not in result.stdout + result.stderr
    summary = json.loads(summary_path.read_text())
    trials = {
        (name, check["node"]): check
        for name, host in summary["hosts"].items()
        for check in host["checks"]
        if check["id"] == "trial_allocation"
    }
    assert set(trials) == {("this-machine", None), ("two-nodes", 0), ("two-nodes", 1), ("buddy-mode", None)}
    passed = trials[("this-machine", None)]
    assert passed["outcome"] == "passed", passed["message"]
    assert "87 × 2M (flow 77 + bridge 10) mapped and touched" in passed["message"]
    assert "pools read back exactly as before" in passed["message"]
    assert trials[("two-nodes", 0)]["outcome"] == "passed"
    missing = trials[("two-nodes", 1)]
    assert missing["outcome"] == "error"
    assert "trial.nodes asks for NUMA node 1, the host has node(s) 0" in missing["message"]
    skipped = trials[("buddy-mode", None)]
    assert skipped["outcome"] == "skipped"
    assert "does not use hugepages for its tables" in skipped["message"]
    assert summary["hosts"]["two-nodes"]["verdict"] == "error"
