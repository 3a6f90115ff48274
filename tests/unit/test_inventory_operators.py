"""Operators' own inventories as ``--inventory``: the real TripleO, Kolla and TF files, a suite file that names them
(``ansible_inventory:``), the precedence of their settings, ``--limit``, and hosts the suite cannot use as written."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from tests.unit.inventory_files import load_error, write
from tests.unit.inventory_sources.samples import (
    KOLLA,
    LIST_JSON,
    SYNTHETIC_DIR,
    SYNTHETIC_INI,
    SYNTHETIC_YAML,
    TF,
    TRIPLEO_STANDALONE,
    TRIPLEO_WALLABY,
)
from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import HostSpec, load_inventory
from vrouter_preflight.inventory.formats import detect
from vrouter_preflight.inventory_sources import PatternError, Secret

REPO = Path(__file__).resolve().parents[2]
TRIPLEO_DPDK = TRIPLEO_WALLABY.parents[1] / "tripleo-wallaby-dpdk" / "tripleo-ansible-inventory.yaml"
TF_DPDK = TF / "synthetic-dpdk.instances.yaml"
TRIPLEO_EXAMPLE = REPO / "inventory" / "tripleo-example.yaml"
#: A password in the TripleO Wallaby file's Undercloud vars: it must never reach a message or a repr.
TRIPLEO_ADMIN_PASSWORD = "REaqggXMFlZdp3KGCE9vb1X4Y"


def names(path: Path | str, **options: object) -> list[str]:
    return [spec.name for spec in load_inventory(path, **options).hosts]  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# What --inventory names is told from its content
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "source_format"),
    [
        (REPO / "inventory" / "local.yaml", "suite", "suite"),
        (REPO / "tests" / "data" / "inventories" / "fleet.yaml", "suite", "suite"),
        (TRIPLEO_WALLABY, "operator", "ansible-yaml"),
        (TRIPLEO_STANDALONE, "operator", "ansible-yaml"),
        (KOLLA, "operator", "ansible-ini"),
        (SYNTHETIC_INI, "operator", "ansible-ini"),
        (SYNTHETIC_YAML, "operator", "ansible-yaml"),
        (SYNTHETIC_DIR, "operator", "ansible-directory"),
        (LIST_JSON, "operator", "ansible-list-json"),
        (TF / "instances.yaml", "operator", "tf-instances"),
        (TRIPLEO_EXAMPLE, "suite", "suite with ansible-yaml"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_the_format_is_told_from_the_content(path: Path, kind: str, source_format: str) -> None:
    assert detect(path, str(path)).kind == kind
    assert load_inventory(path).source_format == source_format


def test_a_yaml_file_that_is_neither_names_the_file_and_line(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "[compute]\ncompute01 ansible_user=kolla\n[oops\n", "hosts.yaml"))
    assert "invalid YAML" in message and "line " in message
    # Without a YAML name the same text is an INI inventory, whose reader says what is wrong with it.
    message = load_error(write(tmp_path, "[compute]\ncompute01 ansible_user=kolla\n[oops\n", "hosts"))
    assert "line 3" in message


def test_an_ansible_yaml_file_may_repeat_a_key_the_suite_file_may_not(tmp_path: Path) -> None:
    text = "compute:\n  hosts:\n    c1:\n    c2:\n  hosts:\n    c3:\n"  # Ansible keeps the last one
    assert names(write(tmp_path, text)) == ["c3"]
    assert "is given twice" in load_error(write(tmp_path, "hosts:\n  c0:\nhosts:\n  c1:\n"))


def test_a_script_needs_ansible_inventory_and_says_so_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = write(tmp_path, '#!/bin/sh\necho \'{"compute": ["c1"], "_meta": {"hostvars": {}}}\'\n', "inventory.sh")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))  # no ansible-inventory here
    message = load_error(script)
    assert "it is an executable inventory script: only Ansible reads this, and ansible-inventory is not on PATH" in (
        message
    )
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert shutil.which("ansible-inventory"), "make .venv/.dev installs ansible-core (requirements-dev.txt)"
    inventory = load_inventory(script)
    assert [spec.name for spec in inventory.hosts] == ["c1"] and inventory.source_format == "ansible-inventory"


# --------------------------------------------------------------------------
# The real files, read as the suite's hosts
# --------------------------------------------------------------------------


def test_tripleo_wallaby_limit_compute_is_the_compute_logging_in_as_its_group_vars_say() -> None:
    inventory = load_inventory(TRIPLEO_WALLABY, limit="Compute")
    (compute,) = inventory.hosts
    assert (compute.name, compute.address, compute.user, compute.transport) == (
        "rk-openstack-0-novacompute-0",
        "192.168.7.217",
        "tripleo-admin",
        "ssh",
    )
    assert {"Compute", "rk-openstack-0_Compute", "rk-openstack-0_allovercloud"} <= set(compute.groups)
    assert compute.unusable is None and compute.login_password is None


def test_tripleo_values_other_than_connection_variables_are_never_shown() -> None:
    inventory = load_inventory(TRIPLEO_WALLABY)
    undercloud = inventory.host("undercloud")
    assert undercloud.identity_file == "/home/centos/.ssh/id_rsa_tripleo" and undercloud.address == "localhost"
    assert TRIPLEO_ADMIN_PASSWORD not in repr(inventory) + " ".join(inventory.notes)


def test_tripleo_standalone_undercloud_runs_local() -> None:
    inventory = load_inventory(TRIPLEO_STANDALONE)
    assert inventory.host("undercloud").transport == "local"
    assert inventory.host("overcloud-compute-0").user == "heat-admin"
    assert names(TRIPLEO_STANDALONE, limit="Compute") == ["overcloud-compute-0"]


def test_kolla_multinode_limit_and_local_host() -> None:
    inventory = load_inventory(KOLLA)
    assert inventory.host("localhost").transport == "local"
    assert names(KOLLA, limit="compute") == ["compute01"]
    assert names(SYNTHETIC_INI, limit="compute:!compute02:!compute-*:!compute3*") == [
        "compute01",
        "compute03",
        "compute05",
        "compute07",
        "compute09",
    ]
    compute02 = load_inventory(SYNTHETIC_INI, limit="compute02").hosts[0]
    assert (compute02.address, compute02.port, compute02.user) == ("10.0.0.12", 2222, "kolla")


def test_an_ini_become_password_is_a_secret_and_the_host_uses_sudo() -> None:
    (compute31,) = load_inventory(SYNTHETIC_INI, limit="compute31").hosts
    assert compute31.become == "sudo"
    assert isinstance(compute31.sudo_password, Secret) and compute31.sudo_password.reveal() == "s3cret word"
    assert "s3cret" not in repr(compute31) and "s3cret" not in json.dumps(str(compute31))


def test_tf_instances_vrouter_hosts_dpdk_passwords_and_an_instance_without_ip() -> None:
    inventory = load_inventory(TF_DPDK)
    assert [spec.name for spec in inventory.hosts] == ["bms2", "bms3", "kvm1", "gce1"]
    assert any("instance 'bms1' has no vrouter role; not checked" in note for note in inventory.notes)
    bms2, bms3, kvm1, gce1 = inventory.hosts
    assert (bms2.vrouter_mode, bms2.kernel_module, bms2.user, bms2.become) == ("dpdk", False, "centos", "sudo")
    assert bms2.identity_file == "/home/centos/.ssh/id_rsa"
    assert (bms3.vrouter_mode, bms3.user) == ("kernel", "operator")
    assert bms3.login_password == Secret("per-instance-secret") and (kvm1.user, kvm1.become) == ("root", "none")
    assert gce1.unusable is not None and "instance has no 'ip'" in gce1.unusable
    shown = repr(inventory) + " ".join(inventory.notes)
    assert "per-instance-secret" not in shown and "kvm-secret" not in shown and "c0ntrail123" not in shown


@pytest.mark.parametrize(
    ("name", "hosts"),
    [
        ("instances.yaml", ["kvm1", "kvm2", "kvm3"]),
        ("instances.yaml.bms_example", ["bms1", "bms2", "bms3"]),
        ("instances.yaml.bms_kubernetes_example", ["bms1"]),
        ("instances.yaml.rocky8.tungstenfabric", None),
    ],
)
def test_every_real_tf_file_is_told_and_read(name: str, hosts: list[str] | None) -> None:
    inventory = load_inventory(TF / name)
    assert inventory.source_format == "tf-instances" and inventory.hosts
    assert hosts is None or [spec.name for spec in inventory.hosts] == hosts
    assert all(spec.kernel_module and spec.unusable is None for spec in inventory.hosts)


def test_the_real_tf_files_that_cannot_be_used_say_why() -> None:
    message = load_error(TF / "instances.yaml.full_example")
    assert "invalid YAML" in message and "line 55" in message
    assert "no instance has a vrouter role" in load_error(TF / "instances.yaml.ml2.bms_example")


def test_a_vrouter_mode_in_the_suite_file(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {vrouter_mode: dpdk}\nhosts:\n  c0:\n  c1: {vrouter_mode: kernel}\n")
    assert [spec.kernel_module for spec in load_inventory(path).hosts] == [False, True]
    message = load_error(write(tmp_path, "hosts:\n  c0: {vrouter_mode: ovs-dpdk}\n"))
    assert message.endswith("host 'c0': key 'vrouter_mode': expected one of kernel, dpdk, got 'ovs-dpdk'")


# --------------------------------------------------------------------------
# A host the suite cannot use as written: that host only
# --------------------------------------------------------------------------

UNUSABLE = [
    ("ansible_connection=winrm", "ansible_connection: 'winrm' is not supported"),
    ("ansible_become=true ansible_become_method=su", "ansible_become_method: 'su' is not supported"),
    ('ansible_host=\'{{ lookup("env", "IP") }}\'', "ansible_host: the Jinja template"),
    ("ansible_port=70000", "ansible_port: expected a port number from 1 to 65535, got 70000"),
    ("ansible_ssh_timeout=100000", "ansible_ssh_timeout: expected a positive number of seconds, at most 600"),
    ("ansible_user='a b'", "ansible_user: expected a user name"),
    ("ansible_ssh_private_key_file=/dev/zero", "/dev/zero is a character device, not a regular file"),
]


@pytest.mark.parametrize(("variables", "reason"), UNUSABLE, ids=[reason[:30] for _, reason in UNUSABLE])
def test_a_host_the_suite_cannot_use_is_unusable_alone(tmp_path: Path, variables: str, reason: str) -> None:
    path = write(tmp_path, f"[compute]\nc1 ansible_host=192.0.2.1\nc2 {variables}\n", "hosts")
    c1, c2 = load_inventory(path).hosts
    assert c1.unusable is None
    assert c2.unusable is not None and c2.unusable.startswith("not contacted: "), c2.unusable
    assert reason in c2.unusable


def test_a_proxy_command_from_the_ssh_args_is_the_hosts_proxy_command(tmp_path: Path) -> None:
    path = write(tmp_path, "[compute]\nc2 ansible_ssh_common_args='-o ProxyCommand=\"nc %h %p\"'\n", "hosts")
    (c2,) = load_inventory(path).hosts
    assert c2.unusable is None and c2.proxy_command == "nc %h %p"
    suite = write(tmp_path, "ansible_inventory: hosts\nhosts:\n  c2: {jump: [stack@undercloud]}\n", "suite.yaml")
    (c2,) = load_inventory(suite).hosts
    assert c2.proxy_command == "nc %h %p" and [hop.address for hop in c2.jump] == ["undercloud"]  # jump wins


def test_a_host_name_that_cannot_name_a_file_is_an_error_only_when_selected(tmp_path: Path) -> None:
    path = write(tmp_path, "[compute]\nc1\nfe80::1\n", "hosts")
    message = load_error(path)
    assert message.endswith("host 'fe80::1': its name cannot name a file and a test id (letters, digits, '.', "
                            "'_', '-'); leave it out with --limit 'all,!fe80::1'")  # fmt: skip
    assert names(path, limit="all,!fe80::1") == ["c1"]


# --------------------------------------------------------------------------
# A suite file naming the Ansible sources: precedence, and its mistakes
# --------------------------------------------------------------------------


def test_precedence_connection_vars_then_defaults_then_groups_by_depth_then_host(tmp_path: Path) -> None:
    text = f"""\
        ansible_inventory: {TRIPLEO_WALLABY}
        defaults:
          user: from-defaults
          port: 2201
          command_timeout: 30
          min_free_1g_per_node: 1
        groups:
          rk-openstack-0_Compute:   # the child (depth 2): wins over its parent Compute, whatever the order here
            port: 2203
            min_free_1g_per_node: 3
          Compute:
            port: 2202
            command_timeout: 40
            min_free_1g_per_node: 2
        hosts:
          rk-openstack-0-novacompute-0:
            min_free_1g_per_node: 4
        """
    inventory = load_inventory(write(tmp_path, text), limit="Compute,Controller")
    compute, controller = inventory.host("rk-openstack-0-novacompute-0"), inventory.host("rk-openstack-0-controller-0")
    # Ansible's ansible_ssh_user is the lowest layer: the suite's defaults replace it.
    assert (compute.user, compute.port, compute.command_timeout, compute.min_free_1g_per_node) == (
        "from-defaults",
        2203,
        40.0,
        4,
    )
    assert (controller.user, controller.port, controller.command_timeout) == ("from-defaults", 2201, 30.0)
    assert compute.address == "192.168.7.217"  # Ansible's, untouched by the suite's layers


def test_the_tripleo_example_marks_the_dpdk_role(tmp_path: Path) -> None:
    inventory = load_inventory(TRIPLEO_EXAMPLE, limit="Compute,ComputeDpdk")
    compute, dpdk = inventory.hosts
    assert (compute.name, compute.kernel_module) == ("rk-openstack-0-novacompute-0", True)
    assert (dpdk.name, dpdk.kernel_module) == ("rk-openstack-0-computedpdk-0", False)
    assert compute.destructive and not dpdk.destructive
    assert {spec.become for spec in inventory.hosts} == {"sudo"}


def test_suite_labels_join_the_ansible_groups_for_limit_and_certify_groups(tmp_path: Path) -> None:
    text = f"""\
        ansible_inventory: {TRIPLEO_WALLABY}
        certify_groups: [rack-7]
        hosts:
          rk-openstack-0-novacompute-0: {{groups: [rack-7]}}
        """
    inventory = load_inventory(write(tmp_path, text), limit="rack-7")
    (compute,) = inventory.hosts
    assert compute.certify and "Compute" in compute.groups and "rack-7" in compute.groups


SUITE_MISTAKES = [
    (
        "groups:\n  Comptue: {port: 22}\n",
        "key 'groups': 'Comptue' is not a group of {ansible}; did you mean 'Compute'?",
    ),
    ("hosts:\n  compute-0: {port: 22}\n", "key 'hosts': 'compute-0' is not a host of {ansible}; did you mean"),
    ("groups:\n  Compute: {address: 192.0.2.1}\n", "group 'Compute': key 'address': names one machine, so it"),
    ("groups:\n  Compute: {prot: 22}\n", "group 'Compute': key 'prot': unknown key; did you mean 'port'?"),
    ("groups:\n  Compute: {port: 0}\n", "group 'Compute': key 'port': expected an integer from 1 to 65535, got 0"),
    ("groups: [Compute]\n", "key 'groups': expected a mapping of Ansible group name to host keys, got a list"),
    ("hosts:\n  undercloud: {port: 22}\n", "host 'undercloud': key 'port': applies only to transport ssh, not local"),
]


@pytest.mark.parametrize(("text", "fragment"), SUITE_MISTAKES, ids=[text.split(":")[0] for text, _ in SUITE_MISTAKES])
def test_mistakes_in_the_suite_file_stop_the_run(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, f"ansible_inventory: {TRIPLEO_STANDALONE}\n{text}")
    assert f"{path}: {fragment.format(ansible=TRIPLEO_STANDALONE)}" in load_error(path)


def test_groups_without_ansible_sources_and_sources_that_are_not_ansible(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "groups:\n  compute: {port: 22}\nhosts:\n  c0:\n"))
    assert message.endswith("key 'groups': settings per Ansible group need 'ansible_inventory'; without it, put them "
                            "in 'defaults' or the host entries")  # fmt: skip
    suite = write(tmp_path, "hosts:\n  c0:\n", "other.yaml")
    message = load_error(write(tmp_path, f"ansible_inventory: {suite.name}\n"))
    assert message.endswith(f"key 'ansible_inventory': {suite} is a suite inventory; name an Ansible or TF one")
    message = load_error(write(tmp_path, "ansible_inventory: [missing.ini]\n"))
    assert message.endswith(f"key 'ansible_inventory': {tmp_path / 'missing.ini'}: inventory not found")


def test_an_ansible_source_relative_to_the_suite_file_and_a_list_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(KOLLA, tmp_path / "multinode")
    shutil.copytree(SYNTHETIC_DIR, tmp_path / "more")
    suite = write(tmp_path, "ansible_inventory: [multinode, more/]\ndefaults: {connect_timeout: 5}\n")
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the sources are found beside the suite file, not where the run starts
    inventory = load_inventory(os.path.relpath(suite, elsewhere), limit="compute")
    assert names(suite, limit="compute") == [spec.name for spec in inventory.hosts]
    assert {"compute01", "compute02"} <= {spec.name for spec in inventory.hosts}
    assert {spec.connect_timeout for spec in inventory.hosts} == {5.0}
    assert inventory.source_format == "suite with ansible-directory"


# --------------------------------------------------------------------------
# --limit and --hosts
# --------------------------------------------------------------------------


def test_limit_over_the_suites_groups_labels_and_with_hosts() -> None:
    fleet = REPO / "tests" / "data" / "inventories" / "fleet.yaml"
    assert names(fleet, limit="dpdk") == ["compute-1"]
    assert names(fleet, limit="all:!dpdk") == ["compute-0", "captured-7"]
    assert names(fleet, limit="compute-*", only_hosts=["compute-1,captured-7"]) == ["compute-1"]
    assert names(fleet, limit="ungrouped[0]") == ["compute-0"]


def test_limit_that_matches_nothing_is_a_usage_error() -> None:
    with pytest.raises(PatternError, match=r"^--limit 'Comptue': no group or host matches 'Comptue'; did you mean "):
        load_inventory(TRIPLEO_WALLABY, limit="Comptue")
    with pytest.raises(InventoryError, match="have no host in common"):
        load_inventory(TRIPLEO_WALLABY, limit="Controller", only_hosts=["rk-openstack-0-novacompute-0"])


def test_secrets_are_hidden_in_every_form_a_host_takes() -> None:
    spec = HostSpec(name="c0", login_password=Secret("hunter2"), sudo_password=Secret("sudo-pw"))
    for text in (repr(spec), str(spec), f"{spec}", json.dumps({"p": spec.login_password, "s": spec.sudo_password})):
        assert "hunter2" not in text and "sudo-pw" not in text
