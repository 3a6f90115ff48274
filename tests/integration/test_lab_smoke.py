"""Smoke test of the compute lab (lab/): one real Debian 6.1 guest under QEMU.

Opt-in: ``VRPF_LAB_TESTS=1`` (builds the image if needed, about 30 s cold, then boots a
guest, about 15-25 s under TCG). The suite reaches the guest through its own SSH transport
with strict host-key checking; the stand-in vRouter module is the ground truth.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.lab import Guest, GuestSpec, Lab
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.demand import vrouter_demand, vrouter_settings
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec, load_inventory
from vrouter_preflight.transport.ssh import SshTransport

pytestmark = [
    pytest.mark.skipif(os.environ.get("VRPF_LAB_TESTS") != "1", reason="lab tests are opt-in: VRPF_LAB_TESTS=1"),
    pytest.mark.xdist_group("lab-smoke"),
]

ONE_G_KIB = 1_048_576


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with its own run dir (so `make lab-down` elsewhere cannot touch it); built if needed."""
    lab = Lab(run_dir=tmp_path_factory.mktemp("lab-run"))
    lab.build()
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def guest(lab: Lab) -> Guest:
    [guest] = lab.boot(GuestSpec(f"smoke-{os.getpid()}", hp1g={0: 1, 1: 1}, hp2m=64))
    assert guest.check("true") == ""
    return guest


@pytest.fixture(scope="module")
def host_spec(lab: Lab, guest: Guest, tmp_path_factory: pytest.TempPathFactory) -> HostSpec:
    path = lab.write_inventory(tmp_path_factory.mktemp("lab-inventory") / "inventory.yaml", [guest])
    return load_inventory(path).host(guest.name)


def facts_of(spec: HostSpec) -> HostFacts:
    transport = SshTransport(spec)
    try:
        return HostFacts(spec.name, transport.capture(FACT_SOURCES))
    finally:
        transport.close()


def test_gather_through_sshd_sees_two_nodes_with_a_1g_page_each(host_spec: HostSpec) -> None:
    assert host_spec.host_key_policy == "strict"
    facts = facts_of(host_spec)
    assert facts.numa_nodes == (0, 1)
    for node in (0, 1):
        pool = facts.hugepages.node_pool(node, ONE_G_KIB)
        assert pool is not None, f"node {node}: no 1G pool read"
        assert (pool.nr, pool.free) == (1, 1), f"node {node}: 1G pool {pool}"
    assert facts.buddyinfo is not None


def test_standin_loads_as_the_suite_models_it(guest: Guest, host_spec: HostSpec) -> None:
    result = guest.load_standin()
    assert result.loaded, result.kernel_log
    assert result.failed is None
    facts = facts_of(host_spec)
    params = facts.vrouter_parameters
    assert params["vr_flow_entries"] == "524288"
    assert params["vr_oflow_entries"] == "105472"  # the auto value, written back as vRouter does
    demand = vrouter_demand(vrouter_settings(host_spec.vrouter, params), 4096)
    assert dict(Counter(result.orders())) == demand.blocks_by_order() == {10: 44, 9: 2, 8: 1}
    assert "contrail-vrouter-agent        active" in guest.contrail_status()


def test_fragmenter_makes_the_reload_fail_naming_the_chunk(guest: Guest) -> None:
    guest.unload_standin()
    log = guest.fragment(nodes=(0, 1))
    assert "vr_frag: holding" in log
    result = guest.reload()
    assert not result.loaded
    assert result.rc != 0
    assert "Cannot allocate memory" in result.output
    assert result.failed is not None, result.kernel_log[-3000:]
    assert result.failed.order == 10
    assert result.failed.table in {"nexthop", "bridge", "bridge-overflow", "flow", "flow-overflow"}
    assert "contrail-vrouter-agent        failed" in guest.contrail_status()
    assert "Assertion" in guest.check("cat /var/log/contrail/contrail-vrouter-agent.log")
    assert not guest.run("test -d /sys/module/vrouter").ok
    guest.unfragment()


def test_lab_down_leaves_no_qemu_running(lab: Lab, guest: Guest) -> None:
    assert guest.running
    assert lab.down([guest.name]) == [guest.name]
    assert not guest.running
    leftovers = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if f"lab-{guest.name}".encode() in cmdline.split(b"\0"):
                leftovers.append(proc.name)
    assert leftovers == []
    assert not (guest.dir / "overlay.qcow2").exists()
