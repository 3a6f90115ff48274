"""The destructive stage's pure parts: the plan, the journal, the deployments' commands, the scans."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from vrouter_preflight.contiguity import ZoneSupply
from vrouter_preflight.demand import vrouter_demand, vrouter_settings
from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
from vrouter_preflight.inventory import HostSpec, RemediationSteps, VrouterOverrides
from vrouter_preflight.remediation import (
    DEPLOYMENTS,
    Journal,
    OpenJournal,
    OperationsMissing,
    load_journal,
    persisted_hugepage_settings,
    plan_remediation,
    plan_remediation_for,
    refuse_if_open,
    resolve_operations,
)
from vrouter_preflight.remediation.commands import parse_reload_status, reload_once_command
from vrouter_preflight.remediation.signatures import kernel_lines_after, scan_signatures

GIB_KIB = 1048576


def spec(**overrides: object) -> HostSpec:
    base = HostSpec(
        name="compute-0",
        transport="local",
        vrouter=VrouterOverrides(reload_command="/opt/reload", health_command="/opt/health"),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def pools(*nodes: tuple[int, int], resv: int = 0) -> HugepagePools:
    """Per-node (nr, free) 1G pools plus the global pool with ``resv``."""
    total_nr = sum(nr for nr, _ in nodes)
    total_free = sum(free for _, free in nodes)
    return HugepagePools(
        (
            HugepagePool(GIB_KIB, None, total_nr, total_free, 0, resv=resv),
            *(HugepagePool(GIB_KIB, node, nr, free, 0) for node, (nr, free) in enumerate(nodes)),
        )
    )


def normal(node: int, o10: int) -> ZoneSupply:
    return ZoneSupply(node, "Normal", (0,) * 10 + (o10,), None, None)


# ---------------------------------------------------------------------- plan


def test_nothing_is_released_when_the_reload_fits() -> None:
    plan = plan_remediation_for({10: 44}, [normal(0, 50)], pools((4, 4)), spec())
    assert plan.fits_now and plan.feasible and not plan.changes_pools
    assert [c.phase for c in plan.commands] == ["reload", "health"]
    assert [t.nr for t in plan.restore] == [4]


def test_fewest_pages_on_the_single_node_that_closes_the_gap() -> None:
    # node 1 has more to spare; node 0 closes the gap with 1 page like node 1: lowest node wins the tie.
    plan = plan_remediation_for({10: 200}, [normal(0, 0), normal(1, 0)], pools((4, 4), (10, 10)), spec())
    assert dict(plan.release) == {0: 1}
    assert plan.targets == {0: 3}
    assert plan.commands[0].command == (
        "echo 3 > /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
    )
    assert [c.phase for c in plan.commands] == ["release", "read back", "memory", "memory", "memory", "measure",
                                                 "reload", "health"]  # fmt: skip
    assert [c.command.split(" >")[0] for c in plan.rollback_commands[:2]] == ["echo 4", "echo 10"]


def test_margin_from_the_demand_counts() -> None:
    settings = vrouter_settings(VrouterOverrides(contiguity_margin=2.0), {})
    demand = vrouter_demand(settings, 4096)  # 44 × o10 -> 88 with the margin
    assert plan_remediation(demand, [normal(0, 50)], pools((4, 4)), spec()).fits_now is False
    settings_1 = vrouter_settings(VrouterOverrides(), {})
    assert plan_remediation(vrouter_demand(settings_1, 4096), [normal(0, 50)], pools((4, 4)), spec()).fits_now


def test_min_free_per_node_caps_the_release() -> None:
    # 600 blocks need 3 pages at 240 per page; node 0 may give only 4 - 2 = 2.
    plan = plan_remediation_for({10: 600}, [normal(0, 0)], pools((4, 4)), spec(min_free_1g_per_node=2))
    assert not plan.feasible and not plan.release
    assert plan.problem is not None and "would still not make the reload fit" in plan.problem
    assert "cannot be made to" in plan.describe()


def test_reserved_pages_are_shared_in_proportion_rounded_up() -> None:
    plan = plan_remediation_for({10: 10}, [normal(0, 0), normal(1, 0)], pools((8, 6), (8, 3), resv=4), spec())
    shares = {b.node: b.resv_share for b in plan.budgets}
    assert shares == {0: 3, 1: 2}  # ceil(4*6/9)=3, ceil(4*3/9)=2: together at least 4
    assert {b.node: b.releasable for b in plan.budgets} == {0: 3, 1: 1}


def test_no_spare_pages_anywhere_is_explained() -> None:
    plan = plan_remediation_for({10: 10}, [normal(0, 0)], pools((4, 0)), spec())
    assert not plan.feasible
    assert plan.problem is not None and plan.problem.startswith("no node has a 1G page to spare")


def test_several_nodes_when_none_closes_the_gap_alone() -> None:
    plan = plan_remediation_for({10: 700}, [normal(0, 0), normal(1, 0)], pools((2, 2), (2, 2)), spec())
    assert plan.feasible and sum(plan.release.values()) == 3
    assert set(plan.release) == {0, 1}


def test_memory_steps_follow_the_inventory() -> None:
    steps = RemediationSteps(sync=True, drop_caches=False, compact_memory=False)
    plan = plan_remediation_for({10: 200}, [normal(0, 0)], pools((4, 4)), spec(remediation=steps))
    assert [c.command for c in plan.commands if c.phase == "memory"] == ["sync"]


def test_keep_free_total_is_honoured() -> None:
    plan = plan_remediation_for({10: 200}, [normal(0, 0)], pools((2, 2)), spec(), keep_free_1g_total=2)
    assert not plan.feasible


# ---------------------------------------------------------------------- deployments


@pytest.mark.parametrize("name", ["supervisor", "compose", "rhosp"])
def test_every_deployment_has_reload_health_and_log(name: str) -> None:
    ops = resolve_operations(VrouterOverrides(deployment=name))  # type: ignore[arg-type]
    assert ops.reload_command == DEPLOYMENTS[name].reload_command
    assert "contrail-status" in ops.health_command
    assert ops.agent_log is not None and ops.agent_log.endswith("contrail-vrouter-agent.log")
    assert {key for key, source in ops.source.items() if source != f"default for {name}"} == {
        "reload_timeout",
        "health_interval",
    }
    assert ops.source["reload_timeout"] == ops.source["health_interval"] == "built-in default"
    # the defaults are valid sh
    for command in (ops.reload_command, ops.health_command):
        assert subprocess.run(["sh", "-n", "-c", command], check=False).returncode == 0


def test_supervisor_default_is_the_mcp_module_reload() -> None:
    reload = DEPLOYMENTS["supervisor"].reload_command
    assert reload.startswith("service supervisor-vrouter stop; rmmod vrouter; sync")
    assert "ifdown vhost0; ifup vhost0" in DEPLOYMENTS["rhosp"].reload_command


def test_inventory_overrides_win() -> None:
    ops = resolve_operations(
        VrouterOverrides(deployment="supervisor", health_command="my-check", health_timeout=42, agent_log="/l")
    )
    assert (ops.health_command, ops.health_timeout, ops.agent_log) == ("my-check", 42.0, "/l")
    assert ops.source["reload_command"] == "default for supervisor" and ops.source["health_command"] == "inventory"


def test_no_deployment_and_no_commands_names_the_keys() -> None:
    with pytest.raises(OperationsMissing) as info:
        resolve_operations(VrouterOverrides(), "compute-7")
    message = str(info.value)
    assert "compute-7" in message and "vrouter.deployment" in message
    assert "vrouter.reload_command, vrouter.health_command" in message
    with pytest.raises(OperationsMissing):
        plan_remediation_for({10: 1}, [], pools((1, 1)), spec(vrouter=VrouterOverrides()))


# ---------------------------------------------------------------------- journal


def test_journal_records_are_json_lines_on_disk(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, "c0", begin={"host": {"name": "c0"}, "restore": []})
    journal.record("release", targets={"0": 3})
    lines = (tmp_path / "c0.json").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["begin", "release"]
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]


def test_open_journal_refuses_a_second_run(tmp_path: Path) -> None:
    Journal.open(tmp_path, "c0", begin={"restore": [{"node": 0, "size_kib": GIB_KIB, "nr": 4}]})
    with pytest.raises(OpenJournal) as info:
        Journal.open(tmp_path, "c0", begin={})
    assert "--rollback-journal" in str(info.value)
    with pytest.raises(OpenJournal):
        refuse_if_open(tmp_path, "c0")
    refuse_if_open(tmp_path, "c1")


def test_a_closed_journal_is_appended_to_never_overwritten(tmp_path: Path) -> None:
    first = Journal.open(tmp_path, "c0", begin={"n": 1})
    first.close("ok")
    size = (tmp_path / "c0.json").stat().st_size
    second = Journal.open(tmp_path, "c0", begin={"n": 2})
    text = (tmp_path / "c0.json").read_bytes()
    assert len(text) > size and text.count(b'"event": "begin"') == 2
    loaded = load_journal(second.path)
    assert loaded.run == second.run != first.run and loaded.is_open
    assert loaded.records[0].seq == 3  # sequence numbers continue across runs


def test_torn_last_line_is_tolerated_and_appending_goes_on(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, "c0", begin={"restore": [{"node": 1, "size_kib": GIB_KIB, "nr": 170}]})
    journal.record("release", targets={"1": 168})
    with open(journal.path, "ab") as handle:
        handle.write(b'{"seq": 3, "at": "2026-01-01T00:00:00Z", "run": "x", "event": "rel')  # crash mid-write
    loaded = load_journal(journal.path)
    assert loaded.is_open and loaded.torn_lines == (3,)
    assert [(t.node, t.nr) for t in loaded.restore] == [(1, 170)]
    assert "OPEN" in loaded.describe() and "node 1 1024M nr_hugepages=170" in loaded.describe()
    resumed = Journal.resume(journal.path)
    resumed.close("restored-from-journal")
    reloaded = load_journal(journal.path)
    assert reloaded.state == "closed" and reloaded.torn_lines == (3,)
    assert [r.event for r in reloaded.records] == ["begin", "release", "close"]


def test_empty_or_garbage_journal(tmp_path: Path) -> None:
    path = tmp_path / "c0.json"
    path.write_text("not json\n")
    loaded = load_journal(path)
    assert loaded.state == "empty" and loaded.torn_lines == (1,)
    Journal.open(tmp_path, "c0", begin={})  # an empty journal does not block


# ---------------------------------------------------------------------- commands and scans


def test_reload_runs_once_even_when_run_twice(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    command = f"echo x >> {counter}; echo reloading; exit 3"
    run = "unit" + tmp_path.name[-8:].replace("_", "")
    script = reload_once_command(command, run)
    try:
        outputs = [
            subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout for _ in range(2)
        ]
    finally:
        subprocess.run(["rm", "-rf", f"/tmp/vrouter-preflight.{run}"], check=True)
    assert counter.read_text() == "x\n"
    assert [parse_reload_status(out) for out in outputs] == [(3, "reloading"), (3, "reloading")]


def test_signatures_after_the_marker_only() -> None:
    dmesg = "\n".join(
        [
            "[  100.0] vrouter: Huge page req_recv_cntr:1 resp_cntr:1 resp: -1 ret: -12",
            "[  200.0] vrouter-preflight: c0 run r1: vRouter reload starts",
            "[  201.0] vrouter: Huge page req_recv_cntr:1 resp_cntr:1 resp: 0 ret: 0",
        ]
    )
    kernel, how = kernel_lines_after(dmesg, "vrouter-preflight: c0 run r1: vRouter reload starts", 150.0)
    assert how == "after the marker" and len(kernel) == 1
    assert scan_signatures(kernel, []) == ()
    agent = ["contrail-vrouter-agent: ksync_memory.cc:100: ... Assertion `table_size_ != 0' failed."]
    found = scan_signatures(
        ["[  202.0] modprobe: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL)"],
        [*agent, "Error sending Huge Page configuration to VROUTER. Skipping KSync Start"],
    )
    assert [(s.source, s.needle) for s in found] == [
        ("kernel log", "page allocation failure: order:"),
        ("agent log", "Assertion"),
        ("agent log", "Error sending Huge Page configuration"),
    ]


def test_persisted_hugepage_settings_warn() -> None:
    grep = (
        "/etc/sysctl.conf:3:#vm.nr_hugepages=2\n"
        "/etc/sysctl.d/99-tripleo.conf:7:vm.nr_hugepages = 4\n"
        "/etc/sysctl.d/10-contrail-hugepage.conf:1:vm.nr_hugepages_mempolicy=1024\n"
        "/etc/sysctl.d/x.conf:2:vm.nr_overcommit_hugepages = 1\n"
    )
    found = persisted_hugepage_settings(grep)
    assert [(s.path, s.line, s.key, s.value) for s in found] == [
        ("/etc/sysctl.d/99-tripleo.conf", 7, "vm.nr_hugepages", "4"),
        ("/etc/sysctl.d/10-contrail-hugepage.conf", 1, "vm.nr_hugepages_mempolicy", "1024"),
    ]
    assert "sysctl --system" in found[0].describe()


def test_reload_timeout_and_health_interval_come_from_the_inventory() -> None:
    ops = resolve_operations(VrouterOverrides(deployment="rhosp", reload_timeout=1200, health_interval=2.5))
    assert (ops.reload_timeout, ops.health_interval) == (1200.0, 2.5)
    assert ops.source["reload_timeout"] == ops.source["health_interval"] == "inventory"
    assert "every 2.5s" in ops.describe()
