"""Certifying this machine (local transport) on its real kernel (opt-in: VRPF_KERNEL_TESTS=1).

The pools the trial needs are reserved at runtime under :func:`kernel_lock` and given back after. The
destructive certification uses the stand-in reload/health commands and the flow table size of
``tests/destructive_runs.py`` so that every cycle really releases a 1G page, reloads and restores it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.destructive_runs import demand_for_a_small_gap, destructive_host, write_inventory
from tests.kernel_pools import (
    kernel_lock,
    pool_snapshot,
    require_kernel_tests,
    reserved_pages,
    two_runtime_1g_pages_on_node0,
)
from tests.suite_runs import run_suite
from vrouter_preflight.certification.certificate import expected_findings
from vrouter_preflight.remediation import load_journal

require_kernel_tests()
pytestmark = pytest.mark.timeout(300)

GIB_KIB = 1048576
HAS_PDPE1GB = "pdpe1gb" in Path("/proc/cpuinfo").read_text().split()
BOOT_RESERVES = any(arg.startswith("hugepages=") for arg in Path("/proc/cmdline").read_text().split())
NODES = sorted(int(p.name[4:]) for p in Path("/sys/devices/system/node").glob("node[0-9]*"))


@pytest.fixture
def trial_pages() -> Iterator[None]:
    """100 × 2M and 2 × 1G on node 0: enough for the default tables in either size."""
    with kernel_lock(), reserved_pages(2048, 100, node=0) as small, reserved_pages(GIB_KIB, 2, node=0) as large:
        if small < 100 or large < 2:
            pytest.fail(f"the kernel gave {small} of 100 2M and {large} of 2 1G pages on node 0", pytrace=False)
        yield


def certify(
    tmp_path: Path, host: dict[str, Any], *extra: str, marker: str = "certification"
) -> tuple[dict[str, Any], str, int]:
    inventory = write_inventory(tmp_path / "inv.yaml", {"this-machine": host})
    certs = tmp_path / "certs"
    result = run_suite(
        "--inventory",
        str(inventory),
        "-m",
        marker,
        f"--certificate-dir={certs}",
        f"--summary-json={tmp_path / 's.json'}",
        f"--journal-dir={tmp_path / 'journal'}",
        *extra,
    )
    certificate = json.loads((certs / "this-machine.json").read_text())
    return certificate, result.stdout + result.stderr, result.returncode


def findings_by_key(certificate: dict[str, Any]) -> dict[tuple[str, int | None], dict[str, Any]]:
    return {(f["id"], f["node"]): f for f in certificate["findings"]}


def test_local_certificate_has_every_finding(trial_pages: None, tmp_path: Path) -> None:
    before = pool_snapshot()
    host = {"transport": "local", "certify": True, "trial": {"sizes": ["1G", "2M"]}}
    certificate, output, rc = certify(tmp_path, host)
    assert pool_snapshot() == before, "the certification left the pools changed"
    findings = findings_by_key(certificate)
    assert list(findings) == expected_findings(NODES)
    assert findings[("identity", None)]["status"] == "passed", output
    identity = certificate["identity"]
    assert identity["kernel_release"] == Path("/proc/sys/kernel/osrelease").read_text().strip()
    assert identity["suite_version"]
    assert set(identity["dmi"]) == {"sys_vendor", "product_name", "bios_version", "bios_date"}
    cpu = findings[("cpu_1g_pages", None)]
    assert cpu["status"] == ("passed" if HAS_PDPE1GB else "failed"), output
    assert cpu["evidence"]["pdpe1gb"] is HAS_PDPE1GB
    numa = findings[("numa_layout", None)]
    assert [n["node"] for n in numa["evidence"]["nodes"]] == NODES
    assert numa["evidence"]["nodes"][0]["memory_kib"] > 0
    boot = findings[("boot_hugepages", None)]
    if not BOOT_RESERVES:
        assert boot["status"] == "failed"
        assert "reserves no hugepages" in boot["message"]
    for node in NODES:
        trial = findings[("trial", node)]
        assert trial["status"] == "passed", trial["message"]
        assert [s["size"] for s in trial["evidence"]["sizes"]] == ["1G", "2M"]
        assert all(s["status"] == "ok" and not s["pools_changed"] for s in trial["evidence"]["sizes"])
    cycles = findings[("destructive_cycles", None)]
    assert cycles["status"] == "not_run"
    assert "needs --destructive" in cycles["message"]
    assert certificate["certified"] is False
    assert rc == 1


def destructive_certified_host(tmp_path: Path, cycles: int) -> dict[str, Any]:
    """This machine with the stand-in reload, a small gap to close, certify and ``cycles`` cycles."""
    return {
        **destructive_host(tmp_path, "this-machine", demand_for_a_small_gap()),
        "certify": True,
        "cert_cycles": cycles,
        "trial": {"sizes": ["1G"]},
        # Without drop_caches/compaction the first cycle does not grow the supply, so every cycle releases.
        "remediation": {"drop_caches": False, "compact_memory": False},
    }


def test_destructive_certification_runs_every_cycle_and_reports_the_supply(tmp_path: Path) -> None:
    with two_runtime_1g_pages_on_node0():
        before = pool_snapshot()
        certificate, output, _ = certify(tmp_path, destructive_certified_host(tmp_path, 2), "--destructive")
        assert pool_snapshot() == before, "the cycles left the pools changed"
    finding = findings_by_key(certificate)[("destructive_cycles", None)]
    assert finding["status"] == "passed", output
    evidence = finding["evidence"]
    assert evidence["wanted"] == 2
    assert evidence["completed"] == 2
    assert [c["cycle"] for c in evidence["cycles"]] == [1, 2]
    for cycle in evidence["cycles"]:
        assert cycle["released"] == {"0": 1}
        assert cycle["restored"] == {"0": 1}
        assert cycle["shortfall"] == {}
        assert cycle["rollback_verified"] is True
        assert cycle["pools_before"] == cycle["pools_after"]
        assert load_journal(cycle["journal"]).state == "closed"
    assert set(evidence["buddy_supply_before"]) == {str(n) for n in NODES}
    assert set(evidence["buddy_supply_after"]) == {str(n) for n in NODES}
    assert set(evidence["order_blocks_before"]) == set(evidence["order_blocks_after"])
    assert "1G pages released per cycle: 1, 1" in finding["message"]
    assert "before the first / after the last cycle" in finding["message"]
    # The stand-in reload ran (and saw node 0 with one 1G page fewer) in every cycle.
    seen = (tmp_path / "this-machine.observed").read_text().split()
    assert seen[:3] == ["0", "1", "1"]
    assert certificate["run"]["destructive"] is True
    assert certificate["run"]["cert_cycles"] == 2


def test_certification_and_remediation_of_one_host_in_one_destructive_run(tmp_path: Path) -> None:
    """Both destructive checks take the host's rollout slot, one after the other."""
    with two_runtime_1g_pages_on_node0():
        before = pool_snapshot()
        host = destructive_certified_host(tmp_path, 1)
        certificate, output, _ = certify(tmp_path, host, "--destructive", marker="certification or destructive")
        assert pool_snapshot() == before, "the run left the pools changed"
    assert findings_by_key(certificate)[("destructive_cycles", None)]["status"] == "passed", output
    summary = json.loads((tmp_path / "s.json").read_text())
    checks = {c["id"]: c for c in summary["hosts"]["this-machine"]["checks"]}
    assert checks["remediation"]["outcome"] == "passed", checks["remediation"]["message"]
    rollout = summary["rollout"]["hosts"]["this-machine"]
    assert rollout["outcome"] == "ok", rollout
