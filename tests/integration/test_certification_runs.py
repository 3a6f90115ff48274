"""A certification run as an operator starts it (``pytest checks -m certification``), on snapshots: what is
collected, which certificate is written, and that a finding that could not run is never a pass."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gate_snapshots import field_report_node
from tests.suite_runs import run_suite, summary_counts

NODE_FILES = {
    "/sys/devices/system/node/node0/meminfo": "Node 0 MemTotal:       197468394 kB\nNode 0 MemFree: 1 kB\n",
    "/sys/devices/system/node/node1/meminfo": "Node 1 MemTotal:       197468394 kB\nNode 1 MemFree: 1 kB\n",
    "/sys/devices/system/node/node0/cpulist": "0-19,40-59\n",
    "/sys/devices/system/node/node1/cpulist": "20-39,60-79\n",
}


def inventory(tmp_path: Path, text: str) -> Path:
    field_report_node(tmp_path / "field", extra=NODE_FILES)
    path = tmp_path / "inv.yaml"
    path.write_text(text)
    return path


def test_snapshot_certificate_has_every_finding_and_says_not_certified(tmp_path: Path) -> None:
    inv = inventory(
        tmp_path,
        "certify_groups: [r740]\n"
        "hosts:\n"
        "  compute-7: {transport: snapshot, path: field, groups: [r740]}\n"
        "  other: {transport: snapshot, path: field}\n",
    )
    certs = tmp_path / "certs"
    result = run_suite(
        "--inventory",
        str(inv),
        "-m",
        "certification",
        f"--certificate-dir={certs}",
        f"--summary-json={tmp_path / 's.json'}",
    )
    assert result.returncode == 1, result.stdout
    # the summary's exit status is the run's, the certificate's failure included
    assert json.loads((tmp_path / "s.json").read_text())["exit_status"] == 1
    assert sorted(p.name for p in certs.iterdir()) == ["compute-7.json"]
    cert = json.loads((certs / "compute-7.json").read_text())
    assert cert["certified"] is False
    assert cert["verdict"] == "not certified"
    status = {(f["id"], f["node"]): f["status"] for f in cert["findings"]}
    assert status == {
        ("identity", None): "passed",
        ("cpu_1g_pages", None): "passed",
        ("numa_layout", None): "passed",
        ("boot_hugepages", None): "passed",
        ("trial", 0): "not_run",
        ("trial", 1): "not_run",
        ("destructive_cycles", None): "not_run",
    }
    assert cert["reasons"] == [
        "trial node 0: not run: needs a live host: this host is a snapshot, which runs no commands",
        "trial node 1: not run: needs a live host: this host is a snapshot, which runs no commands",
        "destructive_cycles: not run: needs a live host: this host is a snapshot, which runs no commands",
    ]
    assert cert["identity"]["kernel_release"] == "3.10.0-862.6.3.el7.x86_64"
    boot = next(f for f in cert["findings"] if f["id"] == "boot_hugepages")
    assert boot["evidence"]["reservations"][1] == {
        "size": "1G",
        "node": 1,
        "asked": 170,
        "held": 170,
        "form": "total, even share",
    }
    assert cert["run"]["cert_cycles"] == 3
    # Only the certification checks of the marked host ran; the gate's checks were deselected.
    counts = summary_counts(result.stdout)
    assert counts["passed"] == 4, result.stdout
    assert "compute-7  NOT CERTIFIED" in result.stdout


def test_a_gate_run_collects_no_certification_check(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "defaults: {certify: true}\nhosts:\n  compute-7: {transport: snapshot, path: field}\n")
    certs = tmp_path / "certs"
    result = run_suite("--inventory", str(inv), f"--certificate-dir={certs}", "--collect-only", "-q")
    assert "test_certification" not in result.stdout
    assert not certs.exists()


def test_certification_without_a_marked_host_is_a_usage_error(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "hosts:\n  compute-7: {transport: snapshot, path: field}\n")
    result = run_suite("--inventory", str(inv), "-m", "certification")
    assert result.returncode == 4
    assert "no selected host" in result.stderr
    assert "is marked for certification" in result.stderr


def test_an_unreachable_host_gets_a_certificate_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("hosts:\n  gone: {address: 127.0.0.1, port: 1, certify: true, connect_timeout: 2}\n")
    certs = tmp_path / "certs"
    result = run_suite("--inventory", str(path), "-m", "certification", f"--certificate-dir={certs}")
    assert result.returncode == 1
    cert = json.loads((certs / "gone.json").read_text())
    assert cert["certified"] is False
    assert cert["reasons"][0].startswith("unreachable: ")
    identity = cert["findings"][0]
    assert identity["id"] == "identity"
    assert identity["status"] == "error"
