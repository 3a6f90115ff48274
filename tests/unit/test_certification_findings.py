"""The certification's findings, judged from real captures: the field report's 2-node compute (a snapshot
tree), corpus files for node memory and command lines, and trial/cycle records as the engine makes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gate_snapshots import field_report_node
from tests.unit.facts.corpus import read
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.certification.findings import (
    CycleRecord,
    Finding,
    certification_sizes,
    identity,
    judge_1g_pages,
    judge_boot_reservations,
    judge_cycles,
    judge_identity,
    judge_numa_balance,
    judge_trial_node,
    numa_layout,
)
from vrouter_preflight.facts.cmdline import parse_cmdline
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import BootExpectation, ExpectedPool, HostSpec
from vrouter_preflight.transport.snapshot import SnapshotTransport
from vrouter_preflight.trial.report import PoolCounters, SizePools, SizeTrial, Supply, TrialReport

NODE0_128G = read("node-meminfo", "ne-fixture-node0-128g")
NODE1_128G = read("node-meminfo", "ne-fixture-node1-128g")
NODE1_47G = read("node-meminfo", "hwloc-el7-3.10-node1-hp2048")


def snapshot_facts(root: Path, **files: str) -> HostFacts:
    """The field report's node (340 × 1G at boot, 170 per node) with extra files, read like a live host."""
    extra = {
        "/sys/devices/system/node/node0/meminfo": NODE0_128G,
        "/sys/devices/system/node/node1/meminfo": NODE1_128G,
        "/sys/devices/system/node/node0/cpulist": "0-15,32-47\n",
        "/sys/devices/system/node/node1/cpulist": "16-31,48-63\n",
    }
    extra.update({path.replace("__", "/"): text for path, text in files.items()})
    field_report_node(root, extra=extra)
    spec = HostSpec(name="compute-7", transport="snapshot", path=str(root))
    return HostFacts("compute-7", SnapshotTransport(spec).capture(FACT_SOURCES))


@pytest.fixture
def field(tmp_path: Path) -> HostFacts:
    return snapshot_facts(tmp_path / "field")


# ---------------------------------------------------------------- CPU


def test_pdpe1gb_present_passes(field: HostFacts) -> None:
    assert field.cpu_flags is not None
    finding = judge_1g_pages(field.cpu_flags, kernel_has_1g_pool=GIB_KIB in field.hugepages.sizes_kib)
    assert finding.ok
    assert finding.evidence["pdpe1gb"] is True
    assert finding.evidence["kernel_1g_pool"] is True


def test_no_pdpe1gb_fails(tmp_path: Path) -> None:
    facts = snapshot_facts(tmp_path, **{"/proc/cpuinfo": "processor\t: 0\nmodel name\t: Atom\nflags\t\t: fpu pse\n\n"})
    assert facts.cpu_flags is not None
    finding = judge_1g_pages(facts.cpu_flags, kernel_has_1g_pool=False, cpu_model=facts.cpu_model)
    assert not finding.ok
    assert "lacks pdpe1gb" in finding.message
    assert "Atom" in finding.message
    assert finding.evidence["pdpe1gb"] is False


# ---------------------------------------------------------------- NUMA


def test_two_equal_nodes_are_balanced(field: HostFacts) -> None:
    layout = numa_layout(field.numa_nodes, field.node_meminfo, field.node_cpus)
    assert [n.as_json()["cpus"] for n in layout] == [32, 32]
    finding = judge_numa_balance(layout, 10)
    assert finding.ok, finding.message
    assert finding.evidence["nodes"][1] == {
        "node": 1,
        "memory_kib": layout[1].memory_kib,
        "cpus": 32,
        "cpulist": "16-31,48-63",
    }
    assert finding.evidence["tolerance_pct"] == 10


def test_unbalanced_memory_fails_and_tolerance_is_configurable(tmp_path: Path) -> None:
    facts = snapshot_facts(tmp_path, **{"/sys/devices/system/node/node1/meminfo": NODE1_47G})
    layout = numa_layout(facts.numa_nodes, facts.node_meminfo, facts.node_cpus)
    finding = judge_numa_balance(layout, 10)
    assert not finding.ok
    assert "NUMA nodes unbalanced beyond 10%: memory per node 128.0G, 47.2G" in finding.message
    assert finding.evidence["memory_max_deviation_pct"] > 40
    assert judge_numa_balance(layout, 50).ok


def test_unbalanced_cpus_fail(tmp_path: Path) -> None:
    facts = snapshot_facts(tmp_path, **{"/sys/devices/system/node/node1/cpulist": "16-23\n"})
    finding = judge_numa_balance(numa_layout(facts.numa_nodes, facts.node_meminfo, facts.node_cpus), 10)
    assert not finding.ok
    assert "CPUs per node 32, 8" in finding.message


def test_one_node_is_balanced_and_missing_memtotal_is_not() -> None:
    from vrouter_preflight.facts.meminfo import parse_node_meminfo

    one = numa_layout([0], {0: parse_node_meminfo(NODE0_128G, "n0")}, {0: (0, 1)})
    assert judge_numa_balance(one, 0).ok
    two = numa_layout([0, 1], {0: parse_node_meminfo(NODE0_128G, "n0")}, {})
    finding = judge_numa_balance(two, 10)
    assert not finding.ok
    assert "no MemTotal in the meminfo of node(s) [1]" in finding.message


# ---------------------------------------------------------------- boot reservations


def boot(facts: HostFacts, expectation: BootExpectation | None = None) -> Finding:
    assert facts.cmdline is not None
    return judge_boot_reservations(
        expectation, facts.cmdline, facts.hugepages, facts.numa_nodes, facts.cpu_flags, facts.default_hugepage_kib
    )


def test_reservation_met_on_every_node(field: HostFacts) -> None:
    finding = boot(field)
    assert finding.ok, finding.message
    assert finding.evidence["reservations"] == [
        {"size": "1G", "node": 0, "asked": 170, "held": 170, "form": "total, even share"},
        {"size": "1G", "node": 1, "asked": 170, "held": 170, "form": "total, even share"},
    ]
    assert "hugepages=340" in finding.evidence["cmdline_hugepage_args"]


def test_reservation_short_names_the_node(tmp_path: Path) -> None:
    base = "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"
    facts = snapshot_facts(
        tmp_path, **{base: "168\n", "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages": "338\n"}
    )
    finding = boot(facts)
    assert not finding.ok
    assert "1G: 338 of 340 reserved, 2 missing on node 1 (168 of 170)" in finding.message


def test_total_met_but_uneven_fails_per_node(tmp_path: Path) -> None:
    node = "/sys/devices/system/node/node{}/hugepages/hugepages-1048576kB/nr_hugepages"
    facts = snapshot_facts(tmp_path, **{node.format(0): "172\n", node.format(1): "168\n"})
    finding = boot(facts)
    assert not finding.ok
    assert "node 1 holds 168 of its total, even share 170" in finding.message


def test_no_reservation_on_the_command_line_fails(tmp_path: Path) -> None:
    facts = snapshot_facts(tmp_path, **{"/proc/cmdline": read("cmdline", "debian11-5.10-lvm")})
    finding = boot(facts)
    assert not finding.ok
    assert "reserves no hugepages" in finding.message


def test_expectation_differs_from_the_command_line(field: HostFacts) -> None:
    want = BootExpectation(GIB_KIB, (ExpectedPool(GIB_KIB, per_node={0: 200, 1: 200}),))
    finding = boot(field, want)
    assert not finding.ok
    assert "the inventory expects 1G per node 0:200,1:200" in finding.message


def test_corpus_1g_command_line_is_read() -> None:
    cmdline = parse_cmdline(read("cmdline", "csit-ubuntu1604hwe-4.15-dnv-1g"))
    from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools

    pools = HugepagePools((HugepagePool(GIB_KIB, None, 8, 8, 0), HugepagePool(GIB_KIB, 0, 8, 8, 0)))
    finding = judge_boot_reservations(None, cmdline, pools, [0], frozenset({"pdpe1gb"}), GIB_KIB)
    assert finding.ok, finding.message
    assert finding.message == "every boot hugepage reservation is held: 8 × 1G (node 0: 8 of 8)"


# ---------------------------------------------------------------- trial


def _state(size: int, free: int, node_free: dict[int, int]) -> dict[int, SizePools]:
    nodes = {n: PoolCounters(nr=f, free=f) for n, f in node_free.items()}
    return {size: SizePools(size, PoolCounters(nr=sum(node_free.values()), free=free, resv=0, surplus=0), nodes)}


def trial_report(status: str, *, node: int = 0, reason: str = "") -> TrialReport:
    before = _state(2048, 100, {0: 100})
    during = _state(2048, 13, {0: 13}) if status == "ok" else None
    trial = SizeTrial(2048, 77, 10, status, reason, Supply(100, 0, 100, 100), before, during, before, 0.0)  # type: ignore[arg-type]
    return TrialReport("3.11.7", "x86_64", node, "m", None, (trial,))


def test_trial_passes_on_its_node() -> None:
    finding = judge_trial_node(trial_report("ok"), 0)
    assert finding.ok, finding.message
    assert finding.node == 0
    assert finding.evidence["sizes"][0]["taken_by_node"] == {"0": 87}


def test_trial_failed_fails() -> None:
    finding = judge_trial_node(trial_report("failed", reason="mmap: Cannot allocate memory"), 0)
    assert not finding.ok
    assert "Cannot allocate memory" in finding.message
    assert finding.evidence["sizes"][0]["status"] == "failed"


def test_sizes_to_certify() -> None:
    assert certification_sizes((), None, ()) == ()
    assert certification_sizes((), GIB_KIB, (2048,)) == (GIB_KIB, 2048)


# ---------------------------------------------------------------- destructive cycles


def cycle(number: int, *, ok: bool = True, after: int = 2, shortfall: int = 0) -> CycleRecord:
    return CycleRecord(
        number=number,
        ok=ok,
        message="reload proved" if ok else "FAILED: vRouter was not healthy within 30s",
        released={0: 1},
        restored={0: 1 - shortfall},
        shortfall={0: shortfall} if shortfall else {},
        back=not shortfall,
        pools_before={"1048576/0": 2},
        pools_after={"1048576/0": after},
        journal="j.json",
    )


SUPPLY_BEFORE = {"0": {"Normal": [0] * 10 + [40]}}
SUPPLY_AFTER = {"0": {"Normal": [0] * 10 + [38]}}


def test_cycles_in_a_row_pass_with_supply_before_and_after() -> None:
    finding = judge_cycles([cycle(1), cycle(2)], 2, SUPPLY_BEFORE, SUPPLY_AFTER)
    assert finding.ok, finding.message
    assert "2 destructive cycles in a row passed" in finding.message
    assert "node 0: 40 → 38" in finding.message
    assert finding.evidence["order_blocks_before"] == {"0": 40}
    assert finding.evidence["order_blocks_after"] == {"0": 38}
    assert [c["cycle"] for c in finding.evidence["cycles"]] == [1, 2]


def test_a_failed_cycle_fails() -> None:
    finding = judge_cycles([cycle(1), cycle(2, ok=False)], 3, SUPPLY_BEFORE, SUPPLY_AFTER)
    assert not finding.ok
    assert finding.message.startswith("cycle 2 of 3 failed: FAILED: vRouter was not healthy")


def test_an_unverified_rollback_fails() -> None:
    finding = judge_cycles([cycle(1, after=1)], 1, None, None)
    assert not finding.ok
    assert "rollback is not verified" in finding.message
    assert "1048576/0" in finding.message
    shortfall = judge_cycles([cycle(1, shortfall=1, after=1)], 1, None, None)
    assert not shortfall.ok


def test_too_few_cycles_fail() -> None:
    finding = judge_cycles([cycle(1)], 3, None, None)
    assert not finding.ok
    assert finding.message == "only 1 of 3 cycles ran"


# ---------------------------------------------------------------- identity


def test_identity_from_facts(field: HostFacts) -> None:
    recorded = identity(
        dmi=field.dmi,
        kernel_release=field.kernel_release,
        os_name=None,
        cpu_model=field.cpu_model,
        vrouter_version=field.vrouter_version,
        suite_version="0.1.0",
        time="2026-01-01T00:00:00Z",
    )
    finding = judge_identity(recorded)
    assert finding.ok
    assert recorded["kernel_release"] == "3.10.0-862.6.3.el7.x86_64"
    assert recorded["dmi"] == {"sys_vendor": None, "product_name": None, "bios_version": None, "bios_date": None}


def test_identity_reads_dmi(tmp_path: Path) -> None:
    facts = snapshot_facts(
        tmp_path,
        **{
            "/sys/class/dmi/id/sys_vendor": "Dell Inc.\n",
            "/sys/class/dmi/id/product_name": "PowerEdge R740\n",
            "/sys/class/dmi/id/bios_version": "2.12.2\n",
        },
    )
    assert facts.dmi == {
        "sys_vendor": "Dell Inc.",
        "product_name": "PowerEdge R740",
        "bios_version": "2.12.2",
        "bios_date": None,
    }
    ident = identity(
        dmi=facts.dmi,
        dmi_unavailable={"bios_date": "absent"},
        kernel_release=None,
        os_name=None,
        cpu_model=None,
        vrouter_version="5.1.0",
        suite_version="0.1.0",
        time="t",
    )
    finding = judge_identity(ident)
    assert not finding.ok
    assert "Dell Inc." in finding.message
    assert "bios_date (absent)" in finding.message
