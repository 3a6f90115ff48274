"""The YAML reader: Ansible's forms, vaulted values, and one message per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import SYNTHETIC_YAML
from vrouter_preflight.inventory_sources import connection_settings, read_operator_inventory
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import VaultedValue

VAULTED = """all:
  hosts:
    c1:
      ansible_host: 192.0.2.10
      ansible_become: true
      ansible_become_password: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          63383933626365363939666532646537626439633266613634613761616339663131643163626264
      site_secret: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          3461333363386135633937323764356261313863343739360a373535336338623439393033646165
"""


def write(tmp_path: Path, text: str, name: str = "inventory.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(path: Path) -> str:
    with pytest.raises(SourceError) as info:
        read_operator_inventory(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


def test_all_hosts_children_merge_keys_and_ranges() -> None:
    inv = read_operator_inventory(SYNTHETIC_YAML)
    assert inv.groups["overcloud_Compute"].hosts == (
        "overcloud-novacompute-0",
        "overcloud-novacompute-1",
        "overcloud-novacompute-2",
    )
    one = inv.hosts["overcloud-novacompute-1"].variables
    assert (one["ansible_ssh_user"], one["ansible_host"], one["ansible_port"]) == (
        "tripleo-admin",
        "192.0.2.21",
        "2222",
    )
    assert inv.hosts["overcloud-novacompute-0"].variables["ansible_user"] == "heat-admin"  # from <<: *login
    assert inv.hosts["bastion.example.com"].groups == ("ungrouped",)
    assert inv.groups["ComputeOvsDpdk"].hosts == ("overcloud-computeovsdpdk-0",)
    assert "empty_group" in inv.groups["all"].children


def test_port_given_as_a_string_maps_to_an_integer() -> None:
    inv = read_operator_inventory(SYNTHETIC_YAML)
    assert connection_settings(inv.hosts["overcloud-novacompute-1"]).settings["port"] == 2222


def test_vaulted_connection_variable_is_a_problem_for_that_host_only(tmp_path: Path) -> None:
    inv = read_operator_inventory(write(tmp_path, VAULTED))
    host = inv.hosts["c1"]
    assert isinstance(host.variables["site_secret"], VaultedValue)
    assert repr(host.variables["ansible_become_password"]) == "'<vaulted>'"
    settings = connection_settings(host)
    assert settings.problems == ("ansible_become_password is vault-encrypted and the suite cannot decrypt it",)
    assert "6338" not in repr(settings) + repr(host)


def test_unsafe_tag_is_a_plain_string(tmp_path: Path) -> None:
    inv = read_operator_inventory(
        write(tmp_path, "all:\n  hosts:\n    c1:\n      note: !unsafe '{{ not templated }}'\n")
    )
    assert inv.hosts["c1"].variables["note"] == "{{ not templated }}"


def test_unknown_keys_and_non_group_values_are_skipped_with_a_note(tmp_path: Path) -> None:
    path = write(tmp_path, "compute:\n  hosts: {c1: }\n  host: typo\nansible_os_family: RedHat\n")
    inv = read_operator_inventory(path)
    assert inv.host_names == ("c1",)
    assert inv.notes == (
        f"{path}: group 'compute': key 'host' is not hosts, children or vars; skipped",
        f"{path}: top-level key 'ansible_os_family' is not a group (a str); skipped",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the YAML inventory is empty"),
        ("- a\n- b\n", "a YAML inventory is a mapping of groups, got a list"),
        ("compute:\n  hosts:\n    - c1\n", "group 'compute': 'hosts' must be a mapping, got a list"),
        ("compute:\n  vars: [1]\n", "group 'compute': 'vars' must be a mapping, got a list"),
        ("compute:\n  hosts:\n    101: {}\n", "group 'compute': host 101 must be a string; quote names"),
        ("compute:\n  hosts:\n    c1: x\n", "group 'compute': host 'c1': expected a mapping of variables, got a str"),
        ("compute:\n  hosts:\n    c[9:01]: {}\n", "group 'compute': range [9:01] in 'c[9:01]' makes no host"),
        ("compute:\n  hosts: {c1: }\n  children: {compute: }\n", "group 'compute' cannot be a child of itself"),
        ("all:\n  hosts: [a\n", "line 3, column 1: invalid YAML: "),
    ],
)
def test_each_mistake_is_one_message(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert error(path).startswith(f"{path}: {expected}")


def test_file_without_extension_that_is_not_yaml_is_read_as_ini(tmp_path: Path) -> None:
    inv = read_operator_inventory(write(tmp_path, "[compute]\ncompute01\n", name="hosts"))
    assert inv.format == "ansible-ini"


def test_file_without_extension_that_is_yaml_is_read_as_yaml(tmp_path: Path) -> None:
    inv = read_operator_inventory(write(tmp_path, "compute:\n  hosts:\n    c1:\n", name="hosts"))
    assert inv.format == "ansible-yaml"
