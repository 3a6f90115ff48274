"""Whole runs with implausible numbers (issue 13, items 1, 2, 10): one host's bad fact costs that host only,
and a bad inventory value stops the run with exit 4 and one message before any connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.snapshot_trees import build_tree
from tests.suite_runs import run_suite

pytestmark = pytest.mark.timeout(300)

IMPLAUSIBLE = {
    "flow-1t": ("vr_flow_entries", "1099511627776"),
    "flow-1e30": ("vr_flow_entries", "1" + "0" * 30),
    "nexthops-huge": ("vr_nexthops", "99999999999999"),
    "oflow-huge": ("vr_oflow_entries", "99999999999999"),
}


def snapshot(root: Path, parameters: dict[str, str]) -> None:
    extra = {f"/sys/module/vrouter/parameters/{name}": value + "\n" for name, value in parameters.items()}
    build_tree(
        root,
        buddyinfo="ubuntu1204-3.2-8g.txt",
        zoneinfo="ubuntu1204-3.2.txt",
        meminfo="ubuntu1204-3.2-8g.txt",
        cmdline="ubuntu1204-3.2-generic.txt",
        extra={"/proc/sys/kernel/osrelease": "3.2.0\n", **extra},
    )


def test_a_targets_implausible_table_size_is_an_error_for_that_host_only(tmp_path: Path) -> None:
    lines = ["defaults: {page_size: 4096}", "hosts:"]
    for name, (parameter, value) in IMPLAUSIBLE.items():
        snapshot(tmp_path / name, {parameter: value})
        lines += [f"  {name}: {{transport: snapshot, path: {name}}}"]
    snapshot(tmp_path / "plain", {"vr_flow_entries": "524288"})
    lines += ["  plain: {transport: snapshot, path: plain}"]
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text("\n".join(lines) + "\n")
    summary = tmp_path / "summary.json"

    result = run_suite("--inventory", str(inventory), "--summary-json", str(summary))

    assert "Traceback" not in result.stdout + result.stderr
    hosts = json.loads(summary.read_text())["hosts"]
    for name, (parameter, _) in IMPLAUSIBLE.items():
        check = next(c for c in hosts[name]["checks"] if c["id"] == "contiguous_blocks")
        assert check["outcome"] == "error", check
        assert f"module parameter {parameter}: expected an integer from " in check["message"]
        assert "67,108,864" in check["message"]
    plain = next(c for c in hosts["plain"]["checks"] if c["id"] == "contiguous_blocks")
    assert plain["outcome"] in ("passed", "failed"), plain


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("vrouter: {reload_timeout: 1.0e+308}", "key 'vrouter.reload_timeout': expected a positive number of seconds"),
        ("command_timeout: 1.0e+308", "key 'command_timeout': expected a positive number of seconds, at most 3600"),
        ("address: '$(touch${IFS}pwned)'", "key 'address': expected a host name or IP address, got"),
        ("identity_file: /dev/zero", "key 'identity_file': /dev/zero is a character device, not a regular file"),
    ],
)
def test_an_implausible_inventory_value_exits_4_with_one_message(tmp_path: Path, entry: str, message: str) -> None:
    inventory = tmp_path / "bad.yaml"
    inventory.write_text(f"hosts:\n  compute-0:\n    {entry}\n")
    result = run_suite("--inventory", str(inventory))
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"{inventory}: host 'compute-0': {message}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "pwned").exists()
