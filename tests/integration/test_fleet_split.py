"""A fleet split across cores (``-n 2``: each worker gathers its own hosts) and across CI runners
(``--shard I/N`` then ``vrouter-preflight merge``) gives the same result as one plain run.

The fleet: 30 snapshot hosts (field-report nodes, some healthy, some failing), one unreachable SSH
host and this machine (local transport).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.gate_snapshots import field_report_node
from tests.suite_runs import INSTALLED_ALLURE, run_suite
from vrouter_preflight.reporting.build_report import build_report

SHARDS = 3


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inventory of 32 hosts: 30 snapshots (every third one healthy), one unreachable, this machine."""
    root = tmp_path_factory.mktemp("fleet")
    hosts: dict[str, Any] = {}
    for n in range(30):
        field_report_node(root / f"c{n}", normal_order10=(60, 60) if n % 3 == 0 else (2, 1))
        hosts[f"compute-{n}"] = {"transport": "snapshot", "path": f"c{n}"}
    hosts["gone"] = {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3}
    hosts["this-machine"] = {"transport": "local"}
    path = root / "fleet.yaml"
    path.write_text(json.dumps({"hosts": hosts}))
    return path


#: The live host's figures move between two runs (its free blocks); its outcomes must not.
LIVE = "this-machine"


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without what differs between two runs of the same fleet (times, order of reports, live figures)."""
    hosts = {}
    for name, host in summary["hosts"].items():
        checks = sorted(
            (c["id"], -1 if c["node"] is None else c["node"], c["outcome"], "" if name == LIVE else c["message"])
            for c in host["checks"]
        )
        not_run = sorted((entry["id"], entry["reason"]) for entry in host.get("not_run", []))
        hosts[name] = {**host, "checks": checks, "not_run": not_run}
        if name == LIVE:
            hosts[name]["supply"] = None
    return {"verdict": summary["verdict"], "exit_status": summary["exit_status"], "hosts": hosts}


def differences(got: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Where two comparable summaries differ: ``host.key: got != expected``, for a readable failure."""
    found = [
        f"{key}: {got[key]!r} != {expected[key]!r}" for key in ("verdict", "exit_status") if got[key] != expected[key]
    ]
    for name in sorted(set(got["hosts"]) | set(expected["hosts"])):
        mine, theirs = got["hosts"].get(name, {}), expected["hosts"].get(name, {})
        found += [
            f"{name}.{key}: {mine.get(key)!r} != {theirs.get(key)!r}"
            for key in set(mine) | set(theirs)
            if mine.get(key) != theirs.get(key)
        ]
    return found


def run_with(fleet: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    run = run_suite("--inventory", str(fleet), "--summary-json", str(out), *args)
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return run, json.loads(out.read_text())


@pytest.fixture(scope="module")
def plain(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    run, summary = run_with(fleet, tmp_path_factory.mktemp("plain") / "summary.json")
    return run.returncode, summary


def test_two_workers_each_gathering_their_hosts_give_the_plain_runs_summary(
    fleet: Path, plain: tuple[int, dict[str, Any]], tmp_path: Path
) -> None:
    returncode, expected = plain
    assert returncode == 1 and expected["hosts"]["gone"]["verdict"] == "error"
    assert {h["verdict"] for h in expected["hosts"].values()} == {"pass", "fail", "error"}
    run, summary = run_with(fleet, tmp_path / "summary.json", "-n", "2", "-v")
    assert run.returncode == returncode
    assert not differences(comparable(summary), comparable(expected))
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, host in re.findall(r"^\[(gw\d+)\] .*?\[([\w-]+?)(?:-node\d+)?\]\s*$", run.stdout, re.MULTILINE):
        workers[host].add(worker)
    assert len(workers) == 32, run.stdout[-2000:]
    assert all(len(ran_on) == 1 for ran_on in workers.values()), dict(workers)
    assert {worker for ran_on in workers.values() for worker in ran_on} == {"gw0", "gw1"}


def test_three_shards_merged_give_the_plain_runs_summary_and_exit_status(
    fleet: Path, plain: tuple[int, dict[str, Any]], tmp_path: Path
) -> None:
    returncode, expected = plain
    parts = []
    for index in range(1, SHARDS + 1):
        _, summary = run_with(fleet, tmp_path / f"shard{index}.json", "--shard", f"{index}/{SHARDS}")
        assert 0 < len(summary["hosts"]) < 32, "each shard is a real slice"
        parts.append(tmp_path / f"shard{index}.json")
    merged_path = tmp_path / "merged.json"
    command = [str(Path(sys.executable).parent / "vrouter-preflight"), "merge", "--summary-json", str(merged_path)]
    merge = subprocess.run(
        [*command, *map(str, parts)], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert merge.returncode == returncode, merge.stderr
    merged = json.loads(merged_path.read_text())
    assert not differences(comparable(merged), comparable(expected))


def test_a_shard_is_stable_when_a_host_is_added(fleet: Path, tmp_path: Path) -> None:
    inventory = json.loads(fleet.read_text())
    _, before = run_with(fleet, tmp_path / "before.json", "--shard", "2/3")
    inventory["hosts"]["compute-new"] = {"transport": "snapshot", "path": "c0"}
    grown = fleet.parent / "grown.yaml"
    grown.write_text(json.dumps(inventory))
    _, after = run_with(grown, tmp_path / "after.json", "--shard", "2/3")
    assert set(before["hosts"]) <= set(after["hosts"])


def test_the_destructive_stage_refuses_a_shard(fleet: Path) -> None:
    run = run_suite("--inventory", str(fleet), "--shard", "1/3", "--destructive")
    assert run.returncode == 4
    assert "--shard: the destructive stage cannot be split across controllers" in run.stderr


def test_a_bad_shard_is_a_usage_error(fleet: Path) -> None:
    run = run_suite("--inventory", str(fleet), "--shard", "4/3")
    assert run.returncode == 4
    assert "--shard: shard 4/3: want 1 <= I <= N <= 1000" in run.stderr


def test_one_change_board_report_from_the_shards(fleet: Path, tmp_path: Path) -> None:
    results, summaries = [], []
    for index in (1, 2):
        alluredir, summary = tmp_path / f"allure-{index}", tmp_path / f"shard{index}.json"
        run_with(fleet, summary, "--shard", f"{index}/2", f"--alluredir={alluredir}")
        results.append(alluredir)
        summaries.append(summary)
    shard_results = sum(len(list(directory.glob("*-result.json"))) for directory in results)
    built = build_report(results, summaries, tmp_path / "report", tmp_path / "history", allure=INSTALLED_ALLURE)
    assert built.hosts == 32, "one overview per host of the whole region"
    assert built.results == shard_results + 32
    environment = (built.site / "widgets" / "environment.json").read_text()
    assert '"shards"' in environment and '"32"' in environment
