"""Whole runs on hostile snapshot trees: a FIFO never blocks, a 100 MB file is not read, each says why in one line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.snapshot_trees import copy_sosreport
from tests.suite_runs import run_suite


def _run(tmp_path: Path, tree: Path) -> dict[str, dict[str, str]]:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(f"hosts:\n  compute-7: {{transport: snapshot, path: '{tree}'}}\n")
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), "--summary-json", str(summary), "-q")
    assert summary.exists(), result.stdout[-3000:] + result.stderr[-2000:]
    host = json.loads(summary.read_text())["hosts"]["compute-7"]
    return {check["id"]: {"outcome": check["outcome"], "message": check["message"]} for check in host["checks"]}


@pytest.mark.timeout(120)
def test_a_fifo_and_a_100_mb_file_in_a_real_sosreport(tmp_path: Path) -> None:
    tree = copy_sosreport(tmp_path)
    (tree / "proc" / "zoneinfo").unlink()
    os.mkfifo(tree / "proc" / "zoneinfo")  # nobody ever writes to it: opening it would block for good
    with open(tree / "proc" / "pagetypeinfo", "wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    started = time.monotonic()
    checks = _run(tmp_path, tree)
    assert time.monotonic() - started < 100
    assert checks["reachable"]["outcome"] == "passed"
    message = checks["facts_parse"]["message"]
    assert "/proc/zoneinfo: not a regular file (fifo)" in message
    assert "/proc/pagetypeinfo: too large (more than 4194304 bytes: 104857600 bytes)" in message


def test_the_machines_own_root_as_a_snapshot_is_refused_before_anything_runs(tmp_path: Path) -> None:
    up = "/".join([".."] * (len(tmp_path.parts) + 3))
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(f"hosts:\n  compute-7: {{transport: snapshot, path: '{up}'}}\n")
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), "--summary-json", str(summary), "-q")
    assert result.returncode == 4, result.stdout[-3000:] + result.stderr[-2000:]
    assert not summary.exists()
    assert (
        f"{inventory}: host 'compute-7': key 'path': / is this machine's own root, not a captured tree "
        "(transport: local checks this machine)"
    ) in result.stderr
