"""An inventory directory: several sources, group_vars/ and host_vars/, found and merged as Ansible does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import SYNTHETIC_DIR, SYNTHETIC_INI
from vrouter_preflight.inventory_sources import connection_settings, read_operator_inventory
from vrouter_preflight.inventory_sources.errors import SourceError


def test_every_source_in_the_directory_is_read_and_skipped_files_are_not() -> None:
    inv = read_operator_inventory(SYNTHETIC_DIR)
    assert inv.format == "ansible-directory"
    assert inv.host_names == ("compute01", "compute02", "net01", "compute03", "compute04", "storage01")
    assert inv.groups["compute"].hosts == ("compute01", "compute02", "compute03")
    assert inv.groups["compute"].children == ("dpdk",)


def test_group_vars_directory_files_merge_in_name_order_skipping_hidden_backup_and_text() -> None:
    compute03 = read_operator_inventory(SYNTHETIC_DIR).hosts["compute03"].variables
    assert compute03["ansible_user"] == "tripleo-admin"  # 10-ssh.yaml after 00-login.yml
    assert compute03["ansible_ssh_private_key_file"] == "/home/stack/.ssh/id_rsa"


def test_group_vars_all_file_beats_a_group_in_the_inventory_file() -> None:
    """Ansible's precedence: inventory group vars < group_vars/all < group_vars/<group>."""
    inv = read_operator_inventory(SYNTHETIC_DIR)
    assert inv.hosts["compute01"].variables["tier"] == "group_vars-all"
    assert inv.hosts["compute04"].variables["tier"] == "dpdk-file"


def test_host_vars_json_and_yml_before_yaml() -> None:
    inv = read_operator_inventory(SYNTHETIC_DIR)
    settings = connection_settings(inv.hosts["compute01"])
    assert (settings.settings["address"], settings.settings["port"]) == ("192.0.2.101", 2201)
    assert settings.settings["host_key_policy"] == "strict"
    assert inv.hosts["compute02"].variables["ansible_user"] == "host-vars-user"
    assert inv.hosts["net01"].variables["ansible_port"] == 2200  # group_vars/network, no extension


def test_group_vars_next_to_a_single_file_apply_too(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text(SYNTHETIC_INI.read_text())
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "dpdk.yml").write_text("ansible_user: from-file\n")
    inv = read_operator_inventory(tmp_path / "hosts.ini")
    assert inv.hosts["compute04"].variables["ansible_user"] == "from-file"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("all.yml", "- a\n", "expected a mapping of variables, got a list"),
        ("all.yml", "a: [\n", "line 2, column 1: invalid YAML: "),
    ],
)
def test_a_bad_vars_file_is_named(tmp_path: Path, name: str, text: str, expected: str) -> None:
    (tmp_path / "hosts").write_text("[compute]\nc1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / name).write_text(text)
    with pytest.raises(SourceError) as info:
        read_operator_inventory(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'group_vars' / name}: {expected}")


def test_a_host_name_cannot_reach_outside_host_vars(tmp_path: Path) -> None:
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.yml").write_text("all:\n  hosts:\n    '..':\n")
    (tmp_path / "inv" / "host_vars").mkdir()
    (tmp_path / "host_vars.yml").write_text("ansible_user: escaped\n")
    inv = read_operator_inventory(tmp_path / "inv")
    assert dict(inv.hosts[".."].variables) == {}


def test_a_symbolic_link_loop_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("[compute]\nc1\n")
    (tmp_path / "loop").symlink_to(tmp_path)
    assert read_operator_inventory(tmp_path).host_names == ("c1",)
