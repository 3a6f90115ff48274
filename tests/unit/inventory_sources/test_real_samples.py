"""The real files operators have, read without Ansible: what a preflight needs from each."""

from __future__ import annotations

import pytest

from tests.unit.inventory_sources.samples import (
    KOLLA,
    KOLLA_LEGACY,
    TF,
    TRIPLEO_STANDALONE,
    TRIPLEO_WALLABY,
)
from vrouter_preflight.inventory_sources import (
    connection_settings,
    read_operator_inventory,
    select_hosts,
    universe_of,
)
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import Secret


def test_tripleo_wallaby_plan_prefixed_compute_group() -> None:
    """Since Wallaby ``Compute`` only lists ``rk-openstack-0_Compute``: --limit Compute still finds the host."""
    inv = read_operator_inventory(TRIPLEO_WALLABY)
    assert inv.format == "ansible-yaml"
    assert inv.groups["Compute"].hosts == ()
    assert inv.groups["Compute"].children == ("rk-openstack-0_Compute",)
    assert select_hosts("Compute", universe_of(inv)) == ("rk-openstack-0-novacompute-0",)
    compute = connection_settings(inv.hosts["rk-openstack-0-novacompute-0"])
    assert dict(compute.settings) == {"address": "192.168.7.217", "user": "tripleo-admin"}
    assert compute.origins == {"address": "ansible_host", "user": "ansible_ssh_user"}
    assert compute.problems == ()


def test_tripleo_undercloud_over_ssh_with_key_file() -> None:
    inv = read_operator_inventory(TRIPLEO_WALLABY)
    undercloud = connection_settings(inv.hosts["undercloud"])
    assert dict(undercloud.settings) == {
        "transport": "ssh",
        "address": "localhost",
        "user": "tripleo-admin",
        "identity_file": "/home/centos/.ssh/id_rsa_tripleo",
    }


def test_tripleo_standalone_undercloud_is_local_and_its_password_var_never_shown() -> None:
    inv = read_operator_inventory(TRIPLEO_STANDALONE)
    undercloud = inv.hosts["undercloud"]
    settings = connection_settings(undercloud)
    assert dict(settings.settings) == {"transport": "local"}
    assert settings.notes == ("local connection: ssh settings not used (address)",)
    password = str(undercloud.variables["overcloud_admin_password"])
    assert password not in repr(undercloud) and password not in repr(inv)
    assert "overcloud_admin_password" in repr(undercloud.variables)


def test_tripleo_standalone_anchors_resolve_and_groups_merge() -> None:
    inv = read_operator_inventory(TRIPLEO_STANDALONE)
    compute = inv.hosts["overcloud-compute-0"]
    assert compute.variables["networks_lower"] == inv.hosts["overcloud-controller-0"].variables["networks_lower"]
    assert compute.variables["container_cli"] == "podman"  # from allovercloud, a parent group
    assert compute.variables["ansible_ssh_user"] == "heat-admin"
    assert "nova_compute" in compute.groups and "overcloud" in compute.groups
    assert select_hosts("Compute", universe_of(inv)) == ("overcloud-compute-0",)


@pytest.mark.parametrize("sample", [KOLLA, KOLLA_LEGACY], ids=["current", "legacy"])
def test_kolla_multinode(sample: object) -> None:
    inv = read_operator_inventory(sample)  # type: ignore[arg-type]
    assert inv.format == "ansible-ini"
    assert inv.groups["compute"].hosts == ("compute01",)
    assert dict(connection_settings(inv.hosts["localhost"]).settings) == {"transport": "local"}
    assert select_hosts("compute", universe_of(inv)) == ("compute01",)
    assert connection_settings(inv.hosts["compute01"]).settings == {}


def test_kolla_forward_references_between_sections() -> None:
    """``[openvswitch:children]`` names ``manila-share`` before its own section declares it."""
    inv = read_operator_inventory(KOLLA)
    assert "manila-share" in inv.groups["openvswitch"].children
    assert "ovn-controller-compute" in inv.groups["ovn-controller"].children
    assert select_hosts("ovn-controller", universe_of(inv)) == ("network01", "network02", "compute01")


def test_tf_instances_real_file() -> None:
    inv = read_operator_inventory(TF / "instances.yaml")
    assert inv.format == "tf-instances"
    assert inv.host_names == ("kvm1", "kvm2", "kvm3")
    assert inv.notes == (f"{TF / 'instances.yaml'}: instance 'mgmt' has no vrouter role; not checked",)
    kvm1 = connection_settings(inv.hosts["kvm1"])
    assert dict(kvm1.settings) == {"address": "10.0.35.177", "user": "root", "password": Secret("password")}
    assert f"{dict(kvm1.settings)}" == "{'address': '10.0.35.177', 'user': 'root', 'password': '<hidden>'}"
    assert all(host.vrouter_mode == "kernel" for host in inv.hosts.values())


def test_tf_instances_without_roles_get_every_role() -> None:
    inv = read_operator_inventory(TF / "instances.yaml.bms_example")
    assert inv.host_names == ("bms1", "bms2", "bms3")
    settings = connection_settings(inv.hosts["bms1"])
    assert dict(settings.settings) == {"address": "192.168.1.100", "become": "sudo"}


def test_tf_kubernetes_example_numeric_password_stays_hidden() -> None:
    inv = read_operator_inventory(TF / "instances.yaml.bms_kubernetes_example")
    password = connection_settings(inv.hosts["bms1"]).settings["password"]
    assert repr(password) == "'<hidden>'" and password.reveal() == "1234"  # type: ignore[attr-defined]
    assert "k8s_master" in inv.hosts["bms1"].groups


def test_tf_instances_without_a_vrouter_is_one_clear_error() -> None:
    path = TF / "instances.yaml.ml2.bms_example"
    with pytest.raises(SourceError) as info:
        read_operator_inventory(path)
    assert str(info.value) == (
        f"{path}: no instance has a vrouter role (instances: contrail-bms-server, "
        "openstack-control-bms-server, openstack-compute-bms-server); nothing to check"
    )


def test_broken_real_instances_yaml_names_file_and_line() -> None:
    """Juniper's own instances.yaml.full_example indents 'roles:' under a scalar: not YAML."""
    path = TF / "instances.yaml.full_example"
    with pytest.raises(SourceError) as info:
        read_operator_inventory(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line 55, column 7: invalid YAML: ")
    assert "\n" not in message


def test_rocky8_sample_gateway_and_computes() -> None:
    inv = read_operator_inventory(TF / "instances.yaml.rocky8.tungstenfabric")
    assert inv.host_names == ("gateway", "kvm1", "kvm2")
    assert select_hosts("vrouter:!gateway", universe_of(inv)) == ("kvm1", "kvm2")
