"""The destructive stage as an operator runs it: ``pytest checks --plan | --destructive | --rollback-journal``.

Real kernel (opt-in): two runtime 1G pages are held on node 0; the host's
``vrouter.flow_entries`` (and ``contiguity_margin`` on a machine with much free memory) is set so that
the demand exceeds this machine's usable
order-10 blocks by a few dozen, which freeing one 1G page closes. The reload
and health commands are the stand-ins in tests/standins/.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.destructive_runs import (
    demand_for_a_small_gap,
    destructive_host,
    no_marker_left,  # noqa: F401  (autouse: every test leaves the host unclaimed)
    remediation_of,
    replay,
    start_suite,
    write_inventory,
)
from tests.kernel_pools import kernel_lock, pool_snapshot, read_pool, require_kernel_tests
from tests.suite_runs import ROOT, run_suite
from vrouter_preflight.remediation import MARKER_PATH, load_journal, parse_marker

require_kernel_tests()
pytestmark = pytest.mark.timeout(300)

GIB_KIB = 1048576


def test_plan_prints_commands_and_changes_nothing(two_1g_pages: int, tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path / "inv.yaml", {"node-a": destructive_host(tmp_path, "node-a", demand_for_a_small_gap())}
    )
    before = pool_snapshot()
    result = run_suite("--inventory", str(inventory), "--plan", f"--summary-json={tmp_path / 's.json'}")
    assert pool_snapshot() == before
    assert "plan (nothing was changed)" in result.stdout
    assert "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages" in result.stdout
    assert not (tmp_path / "node-a.observed").exists()
    assert not (ROOT / "reports" / "journal" / "node-a.json").exists()


def test_not_opted_in_twice_is_deselected_with_the_reason(tmp_path: Path) -> None:
    host = destructive_host(tmp_path, "willing", None)
    unwilling = {**destructive_host(tmp_path, "unwilling", None), "destructive": False}
    inventory = write_inventory(tmp_path / "inv.yaml", {"willing": host, "unwilling": unwilling})
    summary_path = tmp_path / "s.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary_path}")
    summary = json.loads(summary_path.read_text())
    assert summary["hosts"]["willing"]["not_run"] == [
        {"id": "remediation", "reason": "needs --destructive on the command line (or --plan to see what it would do)"}
    ]
    assert "needs --destructive" in result.stdout
    with kernel_lock():
        result = run_suite(
            "--inventory", str(inventory), "--destructive", "--hosts", "unwilling", f"--summary-json={summary_path}"
        )
    summary = json.loads(summary_path.read_text())
    assert (
        summary["hosts"]["unwilling"]["not_run"][0]["reason"]
        == "needs destructive: true for this host in the inventory"
    )


def test_full_cycle_releases_reloads_and_restores(two_1g_pages: int, tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path / "inv.yaml", {"node-a": destructive_host(tmp_path, "node-a", demand_for_a_small_gap())}
    )
    before = pool_snapshot()
    summary_path = tmp_path / "s.json"
    result = run_suite(
        "--inventory",
        str(inventory),
        "--destructive",
        f"--journal-dir={tmp_path / 'journal'}",
        f"--summary-json={summary_path}",
    )
    remediation = remediation_of(json.loads(summary_path.read_text()), "node-a")
    assert remediation["outcome"] == "passed", result.stdout
    assert remediation["released"] == {"0": 1}
    assert remediation["shortfall"] == {}
    assert remediation["journal_closed"] is True
    # The stand-in reload saw node 0 with one 1G page fewer.
    seen = (tmp_path / "node-a.observed").read_text().split()
    assert seen[:3] == ["0", "1", "1"]
    assert pool_snapshot() == before
    assert load_journal(tmp_path / "journal" / "node-a.json").state == "closed"
    assert "destructive stage" in result.stdout


def test_serial_1_never_overlaps_two_hosts_under_xdist(two_1g_pages: int, tmp_path: Path) -> None:
    gap = demand_for_a_small_gap()
    hosts = {name: destructive_host(tmp_path, name, gap) for name in ("node-a", "node-b", "node-c")}
    inventory = write_inventory(tmp_path / "inv.yaml", hosts)
    summary_path = tmp_path / "s.json"
    result = run_suite(
        "--inventory",
        str(inventory),
        "--destructive",
        "-n",
        "2",
        "--serial",
        "1",
        f"--journal-dir={tmp_path / 'journal'}",
        f"--summary-json={summary_path}",
    )
    summary = json.loads(summary_path.read_text())
    intervals = sorted((h["start"], h["end"]) for h in summary["rollout"]["hosts"].values())
    assert len(intervals) == 3, result.stdout
    for (_, end), (start, _) in zip(intervals, intervals[1:]):
        assert end <= start, f"two hosts changed at once: {intervals}"
    assert all(remediation_of(summary, name)["outcome"] == "passed" for name in hosts), result.stdout


def crash_mid_reload(tmp_path: Path, journal_dir: Path, gap: dict[str, Any]) -> Path:
    """Run the destructive stage on node-a and kill -9 it from inside its reload; returns the open journal."""
    pid_file = tmp_path / "pytest.pid"
    crash = f"kill -9 $(cat {pid_file}); sleep 1"
    host = destructive_host(tmp_path, "node-a", gap, reload=crash)
    inventory = write_inventory(tmp_path / f"crash-{journal_dir.name}.yaml", {"node-a": host})
    run = start_suite(
        "--inventory",
        str(inventory),
        "--destructive",
        f"--journal-dir={journal_dir}",
        f"--summary-json={tmp_path / 's.json'}",
    )
    pid_file.write_text(str(run.pid))
    assert run.wait(timeout=120) == -9, "the run was meant to be killed by its reload command"
    journal = journal_dir / "node-a.json"
    assert load_journal(journal).is_open
    time.sleep(1.5)  # the crashing reload has finished
    return journal


def test_crash_mid_reload_then_rollback_journal_restores(two_1g_pages: int, tmp_path: Path) -> None:
    nr_before = read_pool(GIB_KIB, node=0)
    journal = crash_mid_reload(tmp_path, tmp_path / "journal", demand_for_a_small_gap())
    assert read_pool(GIB_KIB, node=0) == nr_before - 1, "the crash left the released page released"
    result = replay(tmp_path, journal)
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_pool(GIB_KIB, node=0) == nr_before
    assert load_journal(journal).state == "closed"
    again = replay(tmp_path, journal)
    assert again.returncode == 0
    assert "nothing to roll back" in again.stdout


def test_another_journal_dir_is_refused_while_the_first_journal_holds_the_host(
    two_1g_pages: int, tmp_path: Path
) -> None:
    """Issue 13 item 7: the guard holds per host, whatever --journal-dir the second run is given."""
    nr_before = read_pool(GIB_KIB, node=0)
    first = crash_mid_reload(tmp_path, tmp_path / "first", demand_for_a_small_gap())
    marker = parse_marker(Path(MARKER_PATH).read_text())
    assert marker is not None and marker.journal == str(first.resolve()) and marker.controller == socket.gethostname()
    inventory = write_inventory(
        tmp_path / "inv.yaml", {"node-a": destructive_host(tmp_path, "node-a", demand_for_a_small_gap())}
    )
    second = [
        "--inventory",
        str(inventory),
        "--destructive",
        f"--journal-dir={tmp_path / 'second'}",
        f"--summary-json={tmp_path / 's.json'}",
    ]
    refused = run_suite(*second)
    remediation = remediation_of(json.loads((tmp_path / "s.json").read_text()), "node-a")
    assert remediation["outcome"] == "failed" and remediation["changed"] is False, refused.stdout
    assert (
        f"not run, nothing changed: the host is held by the open journal {first.resolve()} "
        f"on controller {socket.gethostname()}"
    ) in remediation["message"]
    assert remediation["message"].endswith(f"replay it there with --rollback-journal {first.resolve()}")
    assert read_pool(GIB_KIB, node=0) == nr_before - 1, "the refused run changed nothing"
    assert load_journal(tmp_path / "second" / "node-a.json").outcome == "not-run"
    assert parse_marker(Path(MARKER_PATH).read_text()) == marker
    replayed = replay(tmp_path, first)
    assert replayed.returncode == 0, replayed.stdout
    assert read_pool(GIB_KIB, node=0) == nr_before and not os.path.exists(MARKER_PATH)
    allowed = run_suite(*second)
    remediation = remediation_of(json.loads((tmp_path / "s.json").read_text()), "node-a")
    assert remediation["outcome"] == "passed", allowed.stdout
    assert read_pool(GIB_KIB, node=0) == nr_before


@pytest.mark.parametrize("order", [("older", "newer"), ("newer", "older")])
def test_two_open_journals_replayed_in_either_order_leave_the_oldest_baseline(
    two_1g_pages: int, tmp_path: Path, order: tuple[str, str]
) -> None:
    """Issue 13 item 7: two open journals of one host (the second written with the marker removed by hand,
    as by a version without the guard); each replay compares with the pools the host has now."""
    nr_before = read_pool(GIB_KIB, node=0)
    journals = {"older": crash_mid_reload(tmp_path, tmp_path / "older", demand_for_a_small_gap())}
    os.unlink(MARKER_PATH)
    journals["newer"] = crash_mid_reload(tmp_path, tmp_path / "newer", demand_for_a_small_gap())
    assert read_pool(GIB_KIB, node=0) == nr_before - 2
    said = {}
    for name in order:
        result = replay(tmp_path, journals[name])
        assert result.returncode == 0, result.stdout + result.stderr
        said[name] = next(line for line in result.stdout.splitlines() if line.startswith(str(journals[name])))
    assert read_pool(GIB_KIB, node=0) == nr_before
    assert all(load_journal(path).state == "closed" for path in journals.values())
    assert not os.path.exists(MARKER_PATH)
    b = nr_before
    if order == ("older", "newer"):
        assert (
            f"node 0: held {b - 2}, fewer than the {b - 1} this run left (changed since by another run or by hand), "
            f"set to its baseline {b}"
        ) in said["older"]
        assert f"the host is still held by the open journal {journals['newer'].resolve()}" in said["older"]
        assert (
            f"nothing to write from {journals['newer']} (node 0: held {b}, at or above its baseline {b - 1}: "
            "not written); journal closed"
        ) in said["newer"]
    else:
        assert (
            f"pools restored from {journals['newer']} (node 0: held {b - 2}, set to its baseline {b - 1})"
            in (said["newer"])
        )
        assert (
            f"pools restored from {journals['older']} (node 0: held {b - 1}, set to its baseline {b})"
            in (said["older"])
        )
