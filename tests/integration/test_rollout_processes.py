"""One rollout shared by real processes (forked, as pytest-xdist workers are separate processes).

Each process takes its hosts in batch order (the contract), "works" on a host
for a random 50-200 ms inside the slot and records when it did; the tests
assert on those recorded intervals, not on the coordinator's own records.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator, Sequence
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.rollout import Rollout, parse_serial

CTX: ForkContext = multiprocessing.get_context("fork")
JOIN_TIMEOUT = 10.0


def _rollout(state_dir: str, hosts: Sequence[str], serial: str, **settings: Any) -> Rollout:
    return Rollout(state_dir, "run-x", hosts, parse_serial(serial), wait_timeout=5, poll_interval=0.005, **settings)


def worker(
    state_dir: str,
    hosts: list[str],
    serial: str,
    settings: dict[str, Any],
    mine: list[str],
    failing: list[str],
    seed: int,
    out: str,
) -> None:
    """Work through ``mine`` in batch order; write [{host, start, end}] (or the error) to ``out``."""
    rng = random.Random(seed)
    intervals: list[dict[str, Any]] = []
    try:
        rollout = _rollout(state_dir, hosts, serial, **settings)
        time.sleep(rng.uniform(0, 0.03))
        for host in sorted(mine, key=rollout.batch_of):
            with rollout.slot(host) as decision:
                if decision.run:
                    start = time.time()
                    time.sleep(rng.uniform(0.05, 0.2))
                    intervals.append({"host": host, "start": start, "end": time.time()})
                    rollout.finish(host, ok=host not in failing, reason="failed on purpose" if host in failing else "")
            time.sleep(rng.uniform(0, 0.01))
        Path(out).write_text(json.dumps({"intervals": intervals}))
    except BaseException as exc:
        Path(out).write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        raise


def hold(state_dir: str, hosts: list[str], serial: str, settings: dict[str, Any], host: str, holding: Event) -> None:
    """Take ``host``'s slot and never let go (the test kills this process)."""
    rollout = _rollout(state_dir, hosts, serial, **settings)
    with rollout.slot(host):
        holding.set()
        time.sleep(60)


@pytest.fixture
def processes() -> Iterator[list[BaseProcess]]:
    started: list[BaseProcess] = []
    yield started
    for process in started:
        if process.is_alive():
            process.kill()
        process.join(JOIN_TIMEOUT)


def run_workers(
    processes: list[BaseProcess],
    tmp_path: Path,
    hosts: list[str],
    serial: str,
    shares: list[list[str]],
    failing: Sequence[str] = (),
    seed: int = 0,
    **settings: Any,
) -> list[dict[str, Any]]:
    """Run one process per share of hosts; return every recorded interval, with the process's pid."""
    outs = [tmp_path / f"worker-{i}.json" for i in range(len(shares))]
    for i, (mine, out) in enumerate(zip(shares, outs)):
        args = (str(tmp_path / "state"), hosts, serial, settings, mine, list(failing), seed * 100 + i, str(out))
        processes.append(CTX.Process(target=worker, args=args))
        processes[-1].start()
    intervals = []
    for process, out in zip(processes, outs):
        process.join(JOIN_TIMEOUT)
        result = json.loads(out.read_text())
        assert process.exitcode == 0, result.get("error")
        intervals += [interval | {"pid": process.pid} for interval in result["intervals"]]
    return intervals


def most_at_once(intervals: list[dict[str, Any]]) -> int:
    """The largest number of recorded intervals that overlap at one moment (an end before a start at a tie)."""
    events = sorted([(i["start"], 1) for i in intervals] + [(i["end"], -1) for i in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def assert_batch_order(intervals: list[dict[str, Any]], batch_of: dict[str, int]) -> None:
    for earlier in intervals:
        for later in intervals:
            if batch_of[earlier["host"]] < batch_of[later["host"]]:
                assert earlier["end"] <= later["start"], f"{later['host']} started before {earlier['host']} ended"


@pytest.mark.timeout(15)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_serial_2_across_3_processes_never_runs_more_than_2_hosts(
    processes: list[BaseProcess], tmp_path: Path, seed: int
) -> None:
    hosts = [f"c{i}" for i in range(6)]
    dealt = hosts[:]
    random.Random(seed).shuffle(dealt)
    intervals = run_workers(processes, tmp_path, hosts, "2", [dealt[0::3], dealt[1::3], dealt[2::3]], seed=seed)
    assert sorted(i["host"] for i in intervals) == hosts
    assert most_at_once(intervals) <= 2
    assert_batch_order(intervals, {h: n // 2 for n, h in enumerate(hosts)})


@pytest.mark.timeout(15)
def test_serial_1_across_2_processes_never_overlaps(processes: list[BaseProcess], tmp_path: Path) -> None:
    hosts = [f"c{i}" for i in range(4)]
    intervals = run_workers(processes, tmp_path, hosts, "1", [["c0", "c3"], ["c1", "c2"]])
    ordered = sorted(intervals, key=lambda i: i["start"])
    assert [i["host"] for i in ordered] == hosts
    assert {i["pid"] for i in intervals} == {p.pid for p in processes}
    for before, after in zip(ordered, ordered[1:]):
        assert before["end"] <= after["start"], f"{before['host']} and {after['host']} overlapped"


@pytest.mark.timeout(15)
def test_a_batch_over_max_fail_percentage_stops_later_batches(processes: list[BaseProcess], tmp_path: Path) -> None:
    hosts = [f"c{i}" for i in range(9)]  # serial 1,4: [c0] [c1 c2 c3 c4] [c5 c6 c7 c8]
    shares = [["c0", "c3", "c6"], ["c1", "c4", "c7"], ["c2", "c5", "c8"]]
    intervals = run_workers(processes, tmp_path, hosts, "1,4", shares, failing=["c1", "c2"], max_fail_percentage=25)
    report = _rollout(str(tmp_path / "state"), hosts, "1,4", max_fail_percentage=25).report()
    stopped = "the rollout stopped {} batch 2 (2 of 4 hosts failed, more than max_fail_percentage 25)"
    assert report["stopped"]["reason"] == "2 of 4 hosts failed, more than max_fail_percentage 25"
    assert report["failed"] == sorted(["c1", "c2"], key=lambda h: report["hosts"][h]["start"])
    for host in ("c5", "c6", "c7", "c8"):
        assert report["not_run"][host] == f"not run: {stopped.format('after')}"
        assert report["hosts"][host]["start"] is None
    for host in ("c3", "c4"):  # same batch: ran if it started before the second failure
        outcome = report["hosts"][host]
        assert outcome["outcome"] == "ok" or outcome["reason"] == f"not run: {stopped.format('during')}"
    assert {i["host"] for i in intervals} == set(report["ran"])
    assert_batch_order(intervals, {"c0": 1} | dict.fromkeys(["c1", "c2", "c3", "c4"], 2))


def start_holder(processes: list[BaseProcess], tmp_path: Path, hosts: list[str], serial: str, **settings: Any) -> int:
    """Start a process that takes hosts[0]'s slot, then SIGKILL it (left unreaped: a zombie). Returns its pid."""
    holding = CTX.Event()
    process = CTX.Process(target=hold, args=(str(tmp_path / "state"), hosts, serial, settings, hosts[0], holding))
    processes.append(process)
    process.start()
    assert holding.wait(JOIN_TIMEOUT), "the holder never took its slot"
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    return process.pid


@pytest.mark.timeout(15)
def test_a_process_killed_holding_a_slot_counts_as_failed_and_stops_serial_1(
    processes: list[BaseProcess], tmp_path: Path
) -> None:
    hosts = ["c0", "c1", "c2"]
    pid = start_holder(processes, tmp_path, hosts, "1")
    rollout = _rollout(str(tmp_path / "state"), hosts, "1")
    with rollout.slot("c1") as decision:
        assert decision.action == "skip"
    assert decision.reason == "not run: the rollout stopped after batch 1 (1 of 1 hosts failed: the whole batch)"
    report = rollout.report()
    assert report["hosts"]["c0"]["outcome"] == "failed"
    assert report["hosts"]["c0"]["reason"] == f"worker died (pid {pid}) while the host was in flight"
    assert report["not_run"]["c2"] == decision.reason


@pytest.mark.timeout(15)
def test_a_killed_process_within_max_fail_percentage_lets_the_rollout_go_on(
    processes: list[BaseProcess], tmp_path: Path
) -> None:
    hosts = ["c0", "c1", "c2", "c3"]
    pid = start_holder(processes, tmp_path, hosts, "2", max_fail_percentage=50)
    rollout = _rollout(str(tmp_path / "state"), hosts, "2", max_fail_percentage=50)
    for host in ("c1", "c2", "c3"):
        with rollout.slot(host) as decision:
            assert decision.run, decision.reason
            rollout.finish(host, ok=True)
    report = rollout.report()
    assert report["failed"] == ["c0"]
    assert report["hosts"]["c0"]["reason"] == f"worker died (pid {pid}) while the host was in flight"
    assert report["stopped"] is None
    assert report["hosts"]["c0"]["end"] <= report["hosts"]["c2"]["start"]
