"""The rollout coordinator in one process: decisions, records, reasons, errors and the report.

Several real processes sharing one rollout: tests/integration/test_rollout_processes.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from vrouter_preflight.rollout import Rollout, RolloutError, RolloutTimeout, parse_serial

HOSTS = ["c0", "c1", "c2", "c3", "c4", "c5"]


class Clock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


MakeRollout = Callable[..., Rollout]


@pytest.fixture
def make(tmp_path: Path) -> MakeRollout:
    def build(serial: str = "2", hosts: list[str] | None = None, run_id: str = "run-1", **kwargs: object) -> Rollout:
        kwargs.setdefault("clock", Clock())
        return Rollout(tmp_path, run_id, HOSTS if hosts is None else hosts, parse_serial(serial), **kwargs)  # type: ignore[arg-type]

    return build


def run(rollout: Rollout, host: str, ok: bool = True, reason: str = "") -> str:
    """Take the host's slot; when it may run, finish it. Returns the decision's action and reason."""
    with rollout.slot(host) as decision:
        if decision.run:
            rollout.finish(host, ok, reason)
    return f"{decision.action}: {decision.reason}"


@pytest.mark.timeout(10)
def test_hosts_run_batch_after_batch_and_are_recorded(make: MakeRollout) -> None:
    rollout = make("2")
    assert [run(rollout, h) for h in HOSTS[:3]] == ["run: batch 1 of 3", "run: batch 1 of 3", "run: batch 2 of 3"]
    report = rollout.report()
    assert report["batches"] == [["c0", "c1"], ["c2", "c3"], ["c4", "c5"]]
    assert report["ran"] == ["c0", "c1", "c2"]
    assert report["hosts"]["c0"] == {
        "batch": 1,
        "outcome": "ok",
        "reason": "",
        "start": 1001.0,
        "end": 1002.0,
        "pid": report["hosts"]["c0"]["pid"],
    }
    assert report["hosts"]["c3"]["outcome"] == "not run"
    assert report["not_run"] == {h: "not run: its test never started" for h in ("c3", "c4", "c5")}
    assert report["stopped"] is None


@pytest.mark.timeout(10)
def test_a_batch_over_max_fail_percentage_stops_later_batches_with_the_reason(make: MakeRollout) -> None:
    rollout = make("1,4", hosts=[f"c{i}" for i in range(9)], max_fail_percentage=25)
    run(rollout, "c0")
    run(rollout, "c1", ok=False, reason="health check timed out")
    run(rollout, "c2", ok=False, reason="unreachable: connection refused")
    assert run(rollout, "c3") == (
        "skip: not run: the rollout stopped during batch 2 (2 of 4 hosts failed, more than max_fail_percentage 25)"
    )
    assert run(rollout, "c5") == (
        "skip: not run: the rollout stopped after batch 2 (2 of 4 hosts failed, more than max_fail_percentage 25)"
    )
    report = rollout.report()
    assert report["failed"] == ["c1", "c2"]
    assert report["hosts"]["c2"]["reason"] == "unreachable: connection refused"
    assert report["stopped"]["batch"] == 2
    assert report["stopped"]["reason"] == "2 of 4 hosts failed, more than max_fail_percentage 25"
    assert set(report["not_run"]) == {"c3", "c4", "c5", "c6", "c7", "c8"}
    assert report["not_run"]["c8"] == (
        "not run: the rollout stopped after batch 2 (2 of 4 hosts failed, more than max_fail_percentage 25)"
    )


@pytest.mark.timeout(10)
def test_one_failure_of_four_is_not_more_than_25_percent(make: MakeRollout) -> None:
    rollout = make("4", hosts=[f"c{i}" for i in range(8)], max_fail_percentage=25)
    for h, ok in zip(["c0", "c1", "c2", "c3"], [False, True, True, True]):
        run(rollout, h, ok=ok)
    assert run(rollout, "c4") == "run: batch 2 of 2"


@pytest.mark.timeout(10)
def test_any_errors_fatal_stops_the_rest_of_the_batch_too(make: MakeRollout) -> None:
    rollout = make("3", any_errors_fatal=True)
    run(rollout, "c0", ok=False, reason="vRouter did not come back")
    assert run(rollout, "c1") == (
        "skip: not run: the rollout stopped during batch 1 (1 of 3 hosts failed and any_errors_fatal is set)"
    )


@pytest.mark.timeout(10)
def test_without_max_fail_percentage_a_whole_failed_batch_stops(make: MakeRollout) -> None:
    rollout = make("2")
    run(rollout, "c0", ok=False)
    run(rollout, "c1", ok=False)
    assert (
        run(rollout, "c2") == "skip: not run: the rollout stopped after batch 1 (2 of 2 hosts failed: the whole batch)"
    )


@pytest.mark.timeout(10)
def test_an_exception_in_the_slot_is_a_failure_and_propagates(make: MakeRollout) -> None:
    rollout = make("1", max_fail_percentage=0)
    with pytest.raises(TimeoutError), rollout.slot("c0"):
        raise TimeoutError("health command did not succeed within 120 s")
    assert rollout.report()["hosts"]["c0"]["reason"] == "TimeoutError: health command did not succeed within 120 s"
    assert run(rollout, "c1").startswith("skip: not run: the rollout stopped after batch 1")


@pytest.mark.timeout(10)
def test_leaving_the_slot_without_finish_is_a_failure(make: MakeRollout) -> None:
    rollout = make("1", hosts=["c0"])
    with rollout.slot("c0"):
        pass
    host = rollout.report()["hosts"]["c0"]
    assert (host["outcome"], host["reason"]) == ("failed", "left its rollout slot without reporting a result")


@pytest.mark.timeout(10)
def test_a_host_that_changed_well_may_change_again_in_the_same_run(make: MakeRollout) -> None:
    rollout = make("2")
    assert run(rollout, "c0") == "run: batch 1 of 3"
    with rollout.slot("c0") as decision:
        assert decision.run and decision.reason == "batch 1 of 3, change 2 on this host"
        rollout.finish("c0", ok=True)
    assert rollout.report()["hosts"]["c0"]["outcome"] == "ok"


@pytest.mark.timeout(10)
def test_a_further_change_waits_while_a_later_batch_is_in_flight(make: MakeRollout) -> None:
    rollout = make("1", hosts=["c0", "c1"], wait_timeout=0.3, poll_interval=0.01)
    assert run(rollout, "c0") == "run: batch 1 of 2"
    with rollout.slot("c1"):  # batch 2 now in flight (held by this process)
        with pytest.raises(RolloutError, match=re.escape("c0 (batch 1) waits for c1, held by this same process")):
            run(rollout, "c0")
        rollout.finish("c1", ok=True)
    assert run(rollout, "c0") == "run: batch 1 of 2, change 2 on this host"


@pytest.mark.timeout(10)
def test_after_a_failed_change_a_host_takes_no_further_slot(make: MakeRollout) -> None:
    rollout = make("2", max_fail_percentage=100)
    with rollout.slot("c0"):
        rollout.finish("c0", ok=False, reason="health never came back")
    assert run(rollout, "c0") == "skip: not run: an earlier change on c0 in this run: failed: health never came back"
    assert rollout.report()["hosts"]["c0"]["outcome"] == "failed"


@pytest.mark.timeout(10)
def test_a_host_cannot_take_a_second_slot_while_running(make: MakeRollout) -> None:
    rollout = make("2")
    with rollout.slot("c0"):
        with pytest.raises(RolloutError, match="c0: already running in rollout run-1"):
            run(rollout, "c0")
        rollout.finish("c0", ok=True)


@pytest.mark.timeout(10)
def test_unknown_hosts_and_stray_finish_are_refused(make: MakeRollout) -> None:
    rollout = make("2")
    with pytest.raises(RolloutError, match="c9: not one of this rollout's hosts"):
        run(rollout, "c9")
    with pytest.raises(
        RolloutError, match=r"c0: finish\(\) without a slot held by this process .* the host is pending"
    ):
        rollout.finish("c0", ok=True)


@pytest.mark.timeout(10)
def test_a_later_batch_held_by_the_same_process_fails_at_once(make: MakeRollout) -> None:
    rollout = make("1")
    with (
        rollout.slot("c0"),
        pytest.raises(RolloutError, match="c1 \\(batch 2\\) waits for c0, held by this same process"),
        rollout.slot("c1"),
    ):
        pass


@pytest.mark.timeout(10)
def test_waiting_on_a_host_that_never_starts_times_out_with_what_it_waited_for(make: MakeRollout) -> None:
    rollout = make("2", wait_timeout=0.3)
    with pytest.raises(RolloutTimeout) as caught:
        run(rollout, "c2")
    message = str(caught.value)
    assert message.startswith("c2 (batch 2) waited 0.3 s and no host of rollout run-1 started or finished; ")
    assert "still waiting for c0 (batch 1, not started), c1 (batch 1, not started)." in message
    assert message.endswith("each process must take its hosts in batch order")
    assert rollout.report()["not_run"]["c2"] == f"not run: {message}"


@pytest.mark.timeout(10)
def test_same_run_id_with_other_settings_is_refused(make: MakeRollout) -> None:
    run(make("2"), "c0")
    with pytest.raises(RolloutError, match="holds a different rollout"):
        run(make("3"), "c1")
    with pytest.raises(RolloutError, match="holds a different rollout"):
        run(make("2", max_fail_percentage=10), "c1")


@pytest.mark.timeout(10)
def test_a_new_run_id_starts_afresh(make: MakeRollout) -> None:
    run(make("2"), "c0", ok=False)
    run(make("2"), "c1", ok=False)
    assert run(make("2", run_id="run-2"), "c0") == "run: batch 1 of 3"


@pytest.mark.parametrize("run_id", ["", "../x", "a/b", ".hidden", "a b"])
def test_run_ids_are_plain_names(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(RolloutError, match="rollout run id"):
        Rollout(tmp_path, run_id, HOSTS, parse_serial("1"))


@pytest.mark.parametrize("value", [-1, 101])
def test_max_fail_percentage_is_0_to_100(tmp_path: Path, value: int) -> None:
    with pytest.raises(RolloutError, match=f"max_fail_percentage {value}: expected 0 to 100"):
        Rollout(tmp_path, "r", HOSTS, parse_serial("1"), max_fail_percentage=value)


@pytest.mark.timeout(10)
def test_state_is_one_json_file_and_no_temporary_is_left(make: MakeRollout, tmp_path: Path) -> None:
    rollout = make("2")
    run(rollout, "c0")
    assert sorted(p.name for p in (tmp_path / "run-1").iterdir()) == ["lock", "state.json"]
    state = json.loads((tmp_path / "run-1" / "state.json").read_text())
    assert state["hosts"]["c0"]["state"] == "ok"
    assert state["settings"]["serial"] == "2"


@pytest.mark.timeout(10)
def test_the_controller_opens_the_rollout_the_workers_recorded(make: MakeRollout, tmp_path: Path) -> None:
    assert Rollout.open(tmp_path, "run-1") is None
    run(make("1,50%", max_fail_percentage=20, any_errors_fatal=True), "c0", ok=False, reason="restore short by 1 page")
    opened = Rollout.open(tmp_path, "run-1")
    assert opened is not None
    assert (opened.batches, str(opened.spec), opened.max_fail_percentage, opened.any_errors_fatal) == (
        [["c0"], ["c1", "c2", "c3"], ["c4", "c5"]],
        "1,50%",
        20,
        True,
    )
    report = opened.report()
    assert report["failed"] == ["c0"]
    assert report["not_run"]["c5"].startswith("not run: the rollout stopped after batch 1 (1 of 1 hosts failed")
