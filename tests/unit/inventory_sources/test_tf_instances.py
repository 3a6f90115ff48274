"""Tungsten Fabric's instances.yaml: vRouter hosts, logins, hidden passwords, DPDK marked not applicable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import TF
from vrouter_preflight.inventory_sources import connection_settings, read_operator_inventory, select_hosts, universe_of
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import Secret
from vrouter_preflight.inventory_sources.tf_instances import read_tf_instances

DPDK = TF / "synthetic-dpdk.instances.yaml"


def test_dpdk_vrouter_is_marked() -> None:
    inv = read_operator_inventory(DPDK)
    assert inv.host_names == ("bms2", "bms3", "kvm1", "gce1")
    assert inv.hosts["bms2"].vrouter_mode == "dpdk"
    assert inv.hosts["bms3"].vrouter_mode == inv.hosts["kvm1"].vrouter_mode == "kernel"
    assert inv.hosts["bms2"].variables["tf_vrouter"]["HUGE_PAGES"] == 32000  # type: ignore[index]


def test_provider_login_and_per_instance_overrides() -> None:
    inv = read_operator_inventory(DPDK)
    bms2 = connection_settings(inv.hosts["bms2"])
    assert dict(bms2.settings) == {
        "address": "192.0.2.12",
        "user": "centos",
        "identity_file": "/home/centos/.ssh/id_rsa",
        "become": "sudo",
        "password": Secret("c0ntrail123"),
    }
    bms3 = connection_settings(inv.hosts["bms3"])
    assert (bms3.settings["user"], bms3.settings["password"]) == ("operator", Secret("per-instance-secret"))
    kvm1 = connection_settings(inv.hosts["kvm1"])
    assert (kvm1.settings["user"], kvm1.settings["password"], "become" in kvm1.settings) == (
        "root",
        Secret("kvm-secret"),
        False,
    )


def test_passwords_never_show() -> None:
    inv = read_operator_inventory(DPDK)
    shown = repr(inv) + "".join(repr(connection_settings(host)) for host in inv.hosts.values())
    for secret in ("c0ntrail123", "per-instance-secret", "kvm-secret"):
        assert secret not in shown


def test_instance_without_address_is_a_problem_for_that_host() -> None:
    inv = read_operator_inventory(DPDK)
    gce1 = connection_settings(inv.hosts["gce1"])
    assert gce1.problems == ("instance has no 'ip' (provider gce); the suite needs a fixed address",)
    assert "address" not in gce1.settings
    assert inv.notes == (f"{DPDK}: instance 'bms1' has no vrouter role; not checked",)


def test_roles_are_groups() -> None:
    inv = read_operator_inventory(DPDK)
    assert select_hosts("openstack_compute", universe_of(inv)) == ("bms2", "bms3")
    assert select_hosts("vrouter:!openstack_compute", universe_of(inv)) == ("kvm1", "gce1")


def test_agent_mode_from_contrail_configuration_unless_the_role_says_otherwise() -> None:
    inv = read_tf_instances(
        {
            "contrail_configuration": {"AGENT_MODE": "dpdk"},
            "instances": {
                "a": {"ip": "192.0.2.1", "roles": {"vrouter": None}},
                "b": {"ip": "192.0.2.2", "roles": {"vrouter": {"AGENT_MODE": "kernel"}}},
            },
        },
        "instances.yaml",
    )
    assert (inv.hosts["a"].vrouter_mode, inv.hosts["b"].vrouter_mode) == ("dpdk", "kernel")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"instances": []}, "'instances' must be a mapping, got a list"),
        ({"instances": {}}, "'instances' is missing or empty"),
        ({"provider_config": [], "instances": {"a": {"ip": "x"}}}, "'provider_config' must be a mapping"),
        ({"instances": {"a": "192.0.2.1"}}, "instance 'a' must be a mapping, got a str"),
        ({"instances": {"a": {"roles": None}}}, "no instance has a vrouter role (instances: a); nothing to check"),
    ],
)
def test_each_mistake_is_one_message(data: object, expected: str) -> None:
    with pytest.raises(SourceError) as info:
        read_tf_instances(data, "instances.yaml")
    assert str(info.value) == f"instances.yaml: {expected}" or str(info.value).startswith(f"instances.yaml: {expected}")


def test_an_ansible_group_called_instances_is_not_mistaken_for_tf(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text("instances:\n  hosts:\n    c1:\n")
    assert read_operator_inventory(path).format == "ansible-yaml"
