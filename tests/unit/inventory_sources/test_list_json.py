"""``ansible-inventory --list`` JSON: schema forms, Ansible's value tags, one message per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import EXPORT_JSON
from vrouter_preflight.inventory_sources import read_operator_inventory
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import VaultedValue


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(data))
    return path


def test_export_keeps_group_vars_on_groups_and_merges_them_per_host() -> None:
    inv = read_operator_inventory(EXPORT_JSON)
    assert inv.groups["compute"].variables["tier"] == "inventory-compute"
    assert inv.hosts["compute04"].variables["tier"] == "dpdk-file"  # dpdk is deeper than compute
    assert inv.hosts["compute01"].variables["ansible_port"] == 2201


def test_script_forms_group_as_list_and_group_without_sections(tmp_path: Path) -> None:
    path = write(tmp_path, {"web": ["w1", "w2"], "db1": {"ansible_host": "192.0.2.5"}, "_meta": {"hostvars": {}}})
    inv = read_operator_inventory(path)
    assert inv.format == "ansible-list-json"
    assert inv.groups["web"].hosts == ("w1", "w2")
    assert inv.hosts["db1"].variables["ansible_host"] == "192.0.2.5"


def test_hosts_only_in_hostvars_are_ignored_and_tags_read_back(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "compute": {"hosts": ["c1"]},
            "_meta": {
                "hostvars": {
                    "c1": {
                        "ansible_become_password": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n3863"},
                        "note": {"__ansible_unsafe": "{{ raw }}"},
                    },
                    "ghost": {"ansible_host": "192.0.2.9"},
                }
            },
        },
    )
    inv = read_operator_inventory(path)
    assert inv.host_names == ("c1",)
    assert isinstance(inv.hosts["c1"].variables["ansible_become_password"], VaultedValue)
    assert inv.hosts["c1"].variables["note"] == "{{ raw }}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"_meta": []}, "'_meta' must be an object, got a list"),
        ({"_meta": {"hostvars": []}}, "'_meta.hostvars' must be an object, got a list"),
        ({"web": {"hosts": "w1"}, "_meta": {}}, "group 'web': 'hosts' must be a list, got a str"),
        ({"web": {"vars": [1]}, "_meta": {}}, "group 'web': 'vars' must be a mapping, got a list"),
        ({"web": {"children": "db"}, "_meta": {}}, "group 'web': 'children' must be a list, got a str"),
        ({"web": {"hosts": ["w1"]}, "_meta": {"hostvars": {"w1": [1]}}}, "'_meta.hostvars' of host 'w1' must be"),
        ({"web": {"hosts": [7]}, "_meta": {}}, "a host name must be a non-empty string, got 7"),
    ],
)
def test_each_mistake_is_one_message(tmp_path: Path, data: object, expected: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(SourceError) as info:
        read_operator_inventory(path)
    assert str(info.value) == f"{path}: {expected}" or str(info.value).startswith(f"{path}: {expected}")
