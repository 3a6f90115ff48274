"""The destructive stage as an operator runs it: ``pytest checks --plan | --destructive | --rollback-journal``.

Real kernel (opt-in): two runtime 1G pages are held on node 0; the host's
``contiguity_margin`` is set so that the demand exceeds this machine's usable
order-10 blocks by a few dozen, which freeing one 1G page closes. The reload
and health commands are the stand-ins in tests/standins/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.kernel_pools import kernel_lock, pool_snapshot, read_pool, require_kernel_tests, usable_order10_supply
from tests.suite_runs import ROOT, run_suite
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation import load_journal
from vrouter_preflight.transport.local import LocalTransport

require_kernel_tests()
pytestmark = pytest.mark.timeout(300)

GIB_KIB = 1048576
STANDINS = ROOT / "tests" / "standins"


def margin_for_a_small_gap(extra_blocks: int = 60) -> float:
    """A contiguity_margin making the default demand (44 × order 10) exceed the usable supply by ~extra_blocks."""
    _, usable = usable_order10_supply(
        HostFacts("me", LocalTransport(HostSpec(name="me", transport="local")).capture(FACT_SOURCES))
    )
    return round((usable + extra_blocks) / 44, 2)


def destructive_host(tmp_path: Path, name: str, margin: float, *, reload: str | None = None) -> dict[str, Any]:
    return {
        "transport": "local",
        "destructive": True,
        "vrouter": {
            "contiguity_margin": margin,
            "reload_command": reload or f"sh {STANDINS / 'reload.sh'} {tmp_path / f'{name}.observed'} 0.3",
            "health_command": f"sh {STANDINS / 'health.sh'} {tmp_path / f'{name}.tries'} 1",
            "health_timeout": 30,
        },
    }


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"hosts": hosts}))
    return path


def remediation_of(summary: dict[str, Any], host: str) -> dict[str, Any]:
    return next(c for c in summary["hosts"][host]["checks"] if c["id"] == "remediation")


def test_plan_prints_commands_and_changes_nothing(two_1g_pages: int, tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path / "inv.yaml", {"node-a": destructive_host(tmp_path, "node-a", margin_for_a_small_gap())}
    )
    before = pool_snapshot()
    result = run_suite("--inventory", str(inventory), "--plan", f"--summary-json={tmp_path / 's.json'}")
    assert pool_snapshot() == before
    assert "plan (nothing was changed)" in result.stdout
    assert "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages" in result.stdout
    assert not (tmp_path / "node-a.observed").exists()
    assert not (ROOT / "reports" / "journal" / "node-a.json").exists()


def test_not_opted_in_twice_is_deselected_with_the_reason(tmp_path: Path) -> None:
    host = destructive_host(tmp_path, "willing", 1.0)
    unwilling = {**destructive_host(tmp_path, "unwilling", 1.0), "destructive": False}
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
        tmp_path / "inv.yaml", {"node-a": destructive_host(tmp_path, "node-a", margin_for_a_small_gap())}
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
    margin = margin_for_a_small_gap()
    hosts = {name: destructive_host(tmp_path, name, margin) for name in ("node-a", "node-b", "node-c")}
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


def test_crash_mid_reload_then_rollback_journal_restores(two_1g_pages: int, tmp_path: Path) -> None:
    pid_file = tmp_path / "pytest.pid"
    crash = f"kill -9 $(cat {pid_file}); sleep 1"
    host = destructive_host(tmp_path, "node-a", margin_for_a_small_gap(), reload=crash)
    inventory = write_inventory(tmp_path / "inv.yaml", {"node-a": host})
    journal_dir = tmp_path / "journal"
    nr_before = read_pool(GIB_KIB, node=0)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "checks",
        "-p",
        "no:cacheprovider",
        "--inventory",
        str(inventory),
        "--destructive",
        f"--journal-dir={journal_dir}",
        f"--summary-json={tmp_path / 's.json'}",
    ]
    run = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_file.write_text(str(run.pid))
    assert run.wait(timeout=120) == -9, "the run was meant to be killed by its reload command"
    journal = journal_dir / "node-a.json"
    assert load_journal(journal).is_open
    assert read_pool(GIB_KIB, node=0) == nr_before - 1, "the crash left the released page released"
    time.sleep(1.5)  # the crashing reload has finished
    replay = run_suite("--inventory", str(inventory), "--rollback-journal", str(journal))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert read_pool(GIB_KIB, node=0) == nr_before
    assert load_journal(journal).state == "closed"
    again = run_suite("--inventory", str(inventory), "--rollback-journal", str(journal))
    assert again.returncode == 0
    assert "nothing to roll back" in again.stdout
