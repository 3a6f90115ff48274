"""The destructive stage's guards, without touching the pools: bounds, the host marker, the signal guard,
the rollback's decision and the journal's refusals (issue 13 items 1, 7 and 10)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from vrouter_preflight.remediation import Journal, JournalError, rollback_from_journal
from vrouter_preflight.remediation.baseline import JournalHost
from vrouter_preflight.remediation.bounds import RELOAD_WAIT_CAP, Deadline, bounded_seconds
from vrouter_preflight.remediation.host_marker import (
    HostMarker,
    MarkerReply,
    claim_command,
    decide_claim,
    parse_marker_reply,
    release_command,
)
from vrouter_preflight.remediation.journal import PoolTarget, load_journal, replayable_journal
from vrouter_preflight.remediation.rollback import restore_decision
from vrouter_preflight.remediation.signal_guard import Interrupted, SignalGuard

GIB_KIB = 1048576
HOST = {"name": "c0", "transport": "local"}
RESTORE = [{"node": 0, "size_kib": GIB_KIB, "nr": 2}]


# ---------------------------------------------------------------------- bounds (item 1)


@pytest.mark.parametrize("value", [1.0e308, float("inf"), float("nan")])
def test_a_huge_or_undefined_duration_becomes_the_cap(value: float) -> None:
    assert bounded_seconds(value, RELOAD_WAIT_CAP) == RELOAD_WAIT_CAP


def test_a_deadline_of_1e308_seconds_never_overflows() -> None:
    deadline = Deadline(1.0e308, 60.0, clock=lambda: 1000.0)
    assert deadline.at == 1060.0 and deadline.remaining() == 60.0
    assert bounded_seconds(-5, 10.0) == 0.05


# ---------------------------------------------------------------------- the rollback's decision (item 7)


def replay(pool: dict[int, int], baseline: int) -> None:
    """One journal's replay on ``pool`` as the rollback decides it (write only below the baseline)."""
    for target in restore_decision((PoolTarget(0, GIB_KIB, baseline),), pool):
        pool[target.node] = target.nr


@pytest.mark.parametrize("order", [("older", "newer"), ("newer", "older")])
def test_two_journals_replayed_in_either_order_leave_the_oldest_baseline(order: tuple[str, str]) -> None:
    # The older run found 2 and left 1; the newer one found 1 and left 0.
    baselines = {"older": 2, "newer": 1}
    pool = {0: 0}
    for name in order:
        replay(pool, baselines[name])
    assert pool == {0: 2}


def test_the_rollback_never_takes_pages_out_and_writes_unreadable_pools() -> None:
    targets = (PoolTarget(0, GIB_KIB, 2), PoolTarget(1, GIB_KIB, 4))
    assert restore_decision(targets, {0: 5, 1: 4}) == ()
    assert restore_decision(targets, {0: None, 1: 3}) == targets


# ---------------------------------------------------------------------- the host marker (item 7)


def shell(script: str) -> str:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout


def test_the_marker_is_claimed_once_and_released_only_by_its_run(tmp_path: Path) -> None:
    first = HostMarker("c0", "run1", "/srv/a/journal/c0.json", "ctl-1", "2026-11-26T10:00:00Z")
    second = HostMarker("c0", "run2", "/home/op/b/c0.json", "ctl-2", "2026-11-26T11:00:00Z")
    directory = str(tmp_path / "run")
    claimed = parse_marker_reply(shell(claim_command(first, directory)))
    assert decide_claim(claimed, "run1").claimed
    # the same claim again (the SSH transport re-runs a command after a dropped connection): still ours
    assert decide_claim(parse_marker_reply(shell(claim_command(first, directory))), "run1").claimed
    refused = decide_claim(parse_marker_reply(shell(claim_command(second, directory))), "run2")
    assert not refused.claimed and refused.refusal is not None
    assert "/srv/a/journal/c0.json on controller ctl-1" in refused.refusal
    assert refused.refusal.endswith("--rollback-journal /srv/a/journal/c0.json")
    other = parse_marker_reply(shell(release_command("run2", directory)))
    assert other.status == "other" and other.holder == first
    assert parse_marker_reply(shell(release_command("run1", directory))).status == "removed"
    assert parse_marker_reply(shell(release_command("run1", directory))).status == "absent"
    assert sorted(os.listdir(directory)) == []  # no temporary file left behind


def test_a_hostile_journal_path_is_written_as_text(tmp_path: Path) -> None:
    hostile = HostMarker("c0", "run1", "/tmp/$(touch pwned)'; rm -rf x\nrun=forged", "ctl", "t")
    directory = str(tmp_path / "run")
    shell(f"cd {tmp_path} && " + claim_command(hostile, directory))
    assert not (tmp_path / "pwned").exists()
    text = (Path(directory) / "open-journal").read_text()
    assert text.count("\nrun=") == 1 and "journal=/tmp/$(touch pwned)'; rm -rf x?run=forged" in text


def test_a_marker_that_cannot_be_written_refuses_the_run() -> None:
    decision = decide_claim(MarkerReply("failed", None), "r1", "sh: 1: cannot create: Read-only file system")
    assert not decision.claimed and decision.refusal is not None and "Read-only file system" in decision.refusal


# ---------------------------------------------------------------------- the signal guard (item 5)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_the_first_signal_stops_the_forward_path_once_and_later_ones_are_noted(sig: signal.Signals) -> None:
    reached: list[str] = []

    def forward() -> None:
        os.kill(os.getpid(), sig)
        reached.append("after the signal")  # never reached

    with SignalGuard() as guard:
        stop = guard.run(forward)
        for again in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), again)  # during the rollback: noted only
    assert isinstance(stop, Interrupted) and stop.signal_name == sig.name
    assert reached == [] and guard.first == sig.name
    assert guard.noted == ["SIGINT", "SIGTERM", "SIGHUP"]
    assert signal.getsignal(sig) != guard._handle  # the previous handlers are back


def test_a_signal_before_the_forward_path_stops_it_before_it_starts() -> None:
    started: list[bool] = []
    with SignalGuard() as guard:
        os.kill(os.getpid(), signal.SIGTERM)
        stop = guard.run(lambda: started.append(True))
    assert isinstance(stop, Interrupted) and not started and guard.noted == []


def test_any_exception_is_returned_to_the_caller() -> None:
    def overflow() -> None:
        raise OverflowError("cannot convert float infinity to integer")

    with SignalGuard() as guard:
        assert isinstance(guard.run(overflow), OverflowError)
        assert isinstance(guard.run(lambda: (_ for _ in ()).throw(SystemExit(3))), SystemExit)


def test_outside_the_main_thread_the_guard_installs_nothing() -> None:
    results: list[object] = []

    def worker() -> None:
        with SignalGuard() as guard:
            results.append((guard.active, guard.run(lambda: None)))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert results == [(False, None)]


# ---------------------------------------------------------------------- journals that cannot be replayed (item 10)


def write_journal(path: Path, *records: dict[str, object]) -> Path:
    lines = [json.dumps({"seq": n, "at": "2026-11-26T10:00:00Z", "run": "ab12", **r}) for n, r in enumerate(records, 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def begin(**data: object) -> dict[str, object]:
    return {"event": "begin", "host": HOST, "restore": RESTORE, **data}


@pytest.mark.parametrize(
    ("records", "cause"),
    [
        ([begin(restore=[{"node": 0, "size_kib": GIB_KIB, "nr": 1e30}])], "bad restore entry"),
        ([begin(restore=[{"node": "0; reboot", "size_kib": GIB_KIB, "nr": 2}])], "bad restore entry"),
        ([begin(restore=[{"node": 0, "size_kib": 1000, "nr": 2}])], "bad restore entry"),
        ([begin(restore=[*RESTORE, *RESTORE])], "node 0 named twice"),
        ([begin(restore={"node": 0})], "'restore' is not a list"),
        ([begin(), {"event": "released", "nr": {"0": -1}}], "record 2 (released): bad pool reading '0': -1"),
        ([begin(), {"event": "released", "nr": ["0", 1]}], "record 2 (released): bad pool readings"),
        ([begin(host={"name": "c0", "port": "22; reboot"})], "the begin record's host: port"),
        ([begin(host={"name": ""})], "the begin record names no usable host"),
        ([begin(host="c0")], "the begin record names no usable host"),
    ],
)
def test_a_journal_with_bad_entries_is_one_journal_error(
    tmp_path: Path, records: list[dict[str, object]], cause: str
) -> None:
    path = write_journal(tmp_path / "c0.json", *records)
    with pytest.raises(JournalError) as info:
        replayable_journal(path)
    assert info.value.path == str(path) and cause in info.value.cause
    assert str(info.value).startswith(f"{path}: ")
    with pytest.raises(JournalError):
        rollback_from_journal(path)


@pytest.mark.parametrize("keep", [0, 40])
def test_a_truncated_journal_names_the_file_not_an_empty_host(tmp_path: Path, keep: int) -> None:
    whole = Journal.open(tmp_path, "c0", begin={"host": HOST, "restore": RESTORE})
    whole.record("release", targets={"0": 1})
    text = whole.path.read_bytes()
    whole.path.write_bytes(text[:keep])  # cut inside the begin record (or to nothing)
    with pytest.raises(JournalError) as info:
        rollback_from_journal(whole.path)
    assert "no run recorded: the file is empty or truncated" in str(info.value)
    assert str(whole.path) in str(info.value) and "host ''" not in str(info.value)


def test_a_journal_path_that_is_a_directory(tmp_path: Path) -> None:
    for load in (load_journal, replayable_journal, rollback_from_journal):
        with pytest.raises(JournalError) as info:
            load(tmp_path)
        assert str(info.value) == f"{tmp_path}: cannot read the journal: a directory"


def test_a_journal_larger_than_the_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "c0.json"
    with open(path, "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(JournalError, match="larger than 64 MiB"):
        load_journal(path)


def test_a_journal_nested_too_deep_is_a_torn_line_not_a_recursion_error(tmp_path: Path) -> None:
    path = write_journal(tmp_path / "c0.json", begin())
    with open(path, "a") as handle:
        handle.write("[" * 100_000 + "\n")
    assert load_journal(path).torn_lines == (2,)


def test_the_journal_host_refuses_what_the_inventory_would_refuse() -> None:
    assert JournalHost.from_record({"name": "c0"}).transport == "ssh"
    for bad in ({"transport": "telnet"}, {"become": "su"}, {"port": True}, {"address": ["x"]}, {"user": "u" * 300}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            JournalHost.from_record({"name": "c0", **bad})


def test_the_journal_says_whether_the_run_changed_a_pool(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, "c0", begin={"host": HOST, "restore": RESTORE})
    journal.record("baseline")
    assert not journal.changed and not load_journal(journal.path).changed
    journal.record("release", targets={"0": 1})
    assert journal.changed and load_journal(journal.path).changed
    assert Journal.resume(journal.path).changed
