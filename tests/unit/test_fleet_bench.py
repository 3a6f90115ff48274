"""The fleet bench's own parts (bench/fleet_*.py, proc_stats, tree_run): parsing, inventory, table, measuring.

Real inputs throughout: this machine's /proc, the real command wrapper run
by bash, the inventory read back by the suite's own loader. No timing is
asserted: the bench measures, these tests check what it reports.
"""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bench import fleet_bench, fleet_inventory, fleet_table, proc_stats, testinfra_capture, tree_run
from bench.fleet_inventory import SshFiles, host_name, inventory_yaml, openssh_client_config, ssh_uris
from bench.fleet_table import RunRow, hosts_lost, junit_hosts_lost, ratio_lines, render_table
from bench.proc_stats import (
    parse_bash_times,
    parse_kib_field,
    parse_machine_cpu,
    parse_proc_stat,
    process_tree,
    read_text,
)
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.inventory import load_inventory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module", [fleet_bench, fleet_inventory, fleet_table, proc_stats, testinfra_capture, tree_run], ids=str
)
def test_examples_in_docstrings_hold(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# ---------------------------------------------------------------------- /proc and the wrapper


def test_proc_stat_of_this_process_reads_its_cpu() -> None:
    sum(range(200_000))  # some CPU of our own, so utime is not all zero on a fast machine
    with open(f"/proc/{os.getpid()}/stat", encoding="utf-8") as handle:
        usage = parse_proc_stat(handle.read())
    assert usage.user >= 0 and usage.system >= 0 and usage.children_user >= 0
    assert usage.total == usage.user + usage.system + usage.children_user + usage.children_system


def test_machine_cpu_and_memory_fields_of_this_machine() -> None:
    cpu = parse_machine_cpu(Path("/proc/stat").read_text())
    assert 0 < cpu.busy < cpu.total
    meminfo = Path("/proc/meminfo").read_text()
    available, total = parse_kib_field(meminfo, "MemAvailable"), parse_kib_field(meminfo, "MemTotal")
    assert available is not None and total is not None and 0 < available <= total


def test_wrapper_runs_the_command_unchanged_and_records_its_cpu(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SHELL": "/bin/bash",
        "SSH_ORIGINAL_COMMAND": 'read -r line; echo "got $line"; echo oops >&2; sed -n 1p /proc/meminfo; exit 3',
    }
    done = subprocess.run(
        ["/bin/bash", str(fleet_bench.WRAPPER), str(tmp_path / "cmd")],
        input="hello\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stderr) == (3, "oops\n")
    assert done.stdout.startswith("got hello\nMemTotal:")
    (record,) = tmp_path.glob("cmd.*")
    cpu = parse_bash_times(record.read_text())
    assert cpu.command >= 0 and cpu.shell >= 0


def test_bash_times_with_minutes_and_a_torn_record() -> None:
    cpu = parse_bash_times("0m0.004s 0m0.001s\n2m3.500s 0m0.250s\n")
    assert cpu.shell == pytest.approx(0.005) and cpu.command == pytest.approx(123.75)
    with pytest.raises(ValueError, match="3 values, 4 expected"):
        parse_bash_times("0m0.004s 0m0.001s\n2m3.500s")


# ---------------------------------------------------------------------- the measured run


def _tree_run(tmp_path: Path, cap: float, *command: str) -> dict[str, object]:
    out = tmp_path / "tree.json"
    argv = [sys.executable, "-m", "bench.tree_run", "--out", str(out), "--cap", str(cap), "--sample", "0.05"]
    subprocess.run([*argv, "--", *command], cwd=ROOT, check=True, timeout=60)
    stats: dict[str, object] = json.loads(out.read_text())
    return stats


def test_tree_run_counts_an_orphan_and_reaps_it(tmp_path: Path) -> None:
    # The child starts a busy grandchild in the background and exits: the grandchild is orphaned.
    busy = "i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done"
    stats = _tree_run(tmp_path, 30, "sh", "-c", f"sh -c '{busy}' & sleep 0.3; exit 0")
    assert stats["finished"] is True and stats["returncode"] == 0
    assert stats["subreaper"] is True
    assert stats["orphans_reaped"] == 1
    assert isinstance(stats["cpu_user_s"], float) and stats["cpu_user_s"] > 0
    assert isinstance(stats["largest_process_peak_rss_kib"], int) and stats["largest_process_peak_rss_kib"] > 0


def test_tree_run_stops_a_run_at_the_cap(tmp_path: Path) -> None:
    stats = _tree_run(tmp_path, 0.5, "sleep", "30")
    assert (stats["finished"], stats["returncode"]) == (False, None)
    left = [pid for pid in process_tree(os.getpid()) if read_text(f"/proc/{pid}/cmdline") == "sleep\0" + "30\0"]
    assert left == []


# ---------------------------------------------------------------------- inventory and testinfra arguments


def _inventory(tmp_path: Path, ports: list[int]) -> Path:
    files = SshFiles(str(tmp_path / "id"), str(tmp_path / "known_hosts"), str(tmp_path / "ssh_config"))
    path = tmp_path / "inventory.yaml"
    path.write_text(inventory_yaml(ports, files))
    return path


def test_generated_inventory_loads_strict_with_one_host_per_port(tmp_path: Path) -> None:
    inventory = load_inventory(_inventory(tmp_path, [20000, 20001, 20005]))
    assert [(h.name, h.address, h.port) for h in inventory.hosts] == [
        ("bench-0000", "127.0.0.1", 20000),
        ("bench-0001", "127.0.0.1", 20001),
        ("bench-0002", "127.0.0.1", 20005),
    ]
    for host in inventory.hosts:
        assert (host.transport, host.user, host.become, host.host_key_policy) == ("ssh", "root", "none", "strict")
        assert host.identity_file == str(tmp_path / "id") and host.known_hosts == str(tmp_path / "known_hosts")


def test_testinfra_gets_the_inventory_hosts_strictly(tmp_path: Path) -> None:
    hosts = load_inventory(_inventory(tmp_path, [20000, 20001])).hosts
    assert ssh_uris(hosts) == "ssh://root@bench-0000,ssh://root@bench-0001"
    config = openssh_client_config(hosts, "/cm")
    blocks = config.split("Host ")[1:]
    assert [block.split()[0] for block in blocks] == ["bench-0000", "bench-0001", "*"]
    assert "Port 20001" in blocks[1] and f"UserKnownHostsFile {tmp_path / 'known_hosts'}" in blocks[1]
    assert "StrictHostKeyChecking yes" in blocks[2] and "BatchMode yes" in blocks[2]


def test_testinfra_reads_every_source_of_the_capture() -> None:
    commands = [testinfra_capture.read_command(source) for source in FACT_SOURCES]
    assert len(commands) == len(FACT_SOURCES)
    for source, command in zip(FACT_SOURCES, commands):
        assert command == source.command or command == f"cat -- {source.pattern}"


def test_suite_command_is_the_operators_with_reports_in_the_run_directory() -> None:
    argv = fleet_bench.suite_command(Path("/v/bin/python"), Path("/b/inv.yaml"), Path("/b/run"), 2)
    assert argv[: 1 + len(fleet_bench.SUITE_LAUNCHER)] == ["/v/bin/python", *fleet_bench.SUITE_LAUNCHER]
    assert "checks" not in argv  # the installed plugin collects its checks from any directory
    assert "--alluredir=/b/run/allure-results" in argv and "--junitxml=/b/run/junit.xml" in argv
    assert argv[argv.index("--summary-json") + 1] == "/b/run/summary.json"
    assert argv[-2:] == ["-n", "2"]


# ---------------------------------------------------------------------- hosts lost and the table


def test_a_host_missing_unreachable_or_erroring_reachability_is_lost() -> None:
    names = [host_name(index) for index in range(4)]
    summary = {
        "hosts": {
            names[0]: {"error": None, "checks": [{"id": "reachable", "outcome": "passed"}]},
            names[1]: {"error": "bench-0001 (127.0.0.1:20001): connection refused", "checks": []},
            names[2]: {"error": None, "checks": [{"id": "contiguous_blocks", "outcome": "failed"}]},
        }
    }
    assert hosts_lost(summary, names) == [names[1], names[3]]
    assert hosts_lost(None, names) == names


def test_testinfra_hosts_lost_from_junit() -> None:
    cases = "".join(
        f'<testcase name="test_read[ssh://root@{name}-/proc/cmdline]">{extra}</testcase>'
        for name, extra in (("bench-0000", ""), ("bench-0001", '<error message="rc 255"/>'))
    )
    xml = f"<testsuites><testsuite>{cases}</testsuite></testsuites>"
    assert junit_hosts_lost(xml, ["bench-0000", "bench-0001", "bench-0002"]) == ["bench-0001", "bench-0002"]
    assert junit_hosts_lost(None, ["bench-0000"]) == ["bench-0000"]


def test_table_has_a_line_per_run_and_says_did_not_finish() -> None:
    rows = [
        RunRow(1000, "vrouter-preflight", 1, True, 40.0, 14.5, 9.0, 30.0, 600, 900, 0, 1.5, 0.2),
        RunRow(1000, "vrouter-preflight", 2, False, 900.2, 900.0, 50.0, 30.0, 700, 1400, 1000, 1.5, 0.2, silent=92),
    ]
    lines = render_table(rows, 900).splitlines()
    assert len(lines) == 4 and all(line.count("|") == len(fleet_table.COLUMNS) + 1 for line in lines)
    assert "| 40.0 |" in lines[2] and "| 600 / 900 |" in lines[2]
    assert "did not finish (cap 900 s)" in lines[3] and "| no summary; 92 ran no command |" in lines[3]
    assert ratio_lines(rows) == []  # no ratio with a run that did not finish
