"""The INI reader: Kolla-style forms, Ansible's typing of values, and one message per mistake."""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.inventory_sources.samples import SYNTHETIC_INI
from vrouter_preflight.inventory_sources import connection_settings, read_operator_inventory
from vrouter_preflight.inventory_sources.ansible_ini import read_ini_inventory
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.graph import InventoryBuilder, build_inventory
from vrouter_preflight.inventory_sources.hidden import Secret
from vrouter_preflight.inventory_sources.model import OperatorInventory


def read(text: str) -> OperatorInventory:
    builder = InventoryBuilder("hosts.ini")
    read_ini_inventory(textwrap.dedent(text), builder)
    return build_inventory(builder, sources=["hosts.ini"], source_format="ansible-ini")


def error(text: str) -> str:
    with pytest.raises(SourceError) as info:
        read(text)
    message = str(info.value)
    assert message.startswith("hosts.ini: ") and "\n" not in message
    return message


def test_ranges_steps_letters_and_ports() -> None:
    inv = read_operator_inventory(SYNTHETIC_INI)
    assert inv.groups["control"].hosts == ("control01", "control02", "control03")
    assert inv.groups["compute"].hosts[:6] == (
        "compute01",
        "compute03",
        "compute05",
        "compute07",
        "compute09",
        "compute02",
    )
    assert inv.groups["dpdk"].hosts == ("compute03", "compute04", "compute05")
    lettered = inv.hosts["compute-b.example.com"]
    assert lettered.variables["ansible_port"] == 2200


def test_inline_variables_are_typed_as_ansible_does() -> None:
    host = read_operator_inventory(SYNTHETIC_INI).hosts["compute02"]
    assert host.variables["ansible_port"] == 2222
    assert host.variables["ansible_host"] == "10.0.0.12"
    assert host.variables["numbers"] == [1, 2, 3]
    assert host.variables["note"] == "value # not a comment in a vars section"


def test_same_depth_groups_merge_by_priority_then_name() -> None:
    """compute (priority 10) beats dpdk (priority 1) although 'dpdk' sorts after 'compute'."""
    inv = read_operator_inventory(SYNTHETIC_INI)
    assert inv.hosts["compute03"].variables["tier"] == "compute"
    assert inv.hosts["compute04"].variables["tier"] == "dpdk"  # only in dpdk
    assert inv.hosts["control01"].variables["tier"] == "all"
    assert inv.groups["compute"].priority == 10
    assert "ansible_group_priority" not in inv.hosts["compute03"].variables


def test_quoted_password_with_a_space_becomes_a_hidden_sudo_password() -> None:
    inv = read_operator_inventory(SYNTHETIC_INI)
    settings = connection_settings(inv.hosts["compute31"])
    assert settings.settings["sudo_password"] == Secret("s3cret word")
    assert settings.settings["become"] == "sudo"
    assert "s3cret" not in repr(settings) + repr(inv.hosts["compute31"])


def test_ssh_arguments_from_a_host_line_win_over_all_vars() -> None:
    inv = read_operator_inventory(SYNTHETIC_INI)
    settings = connection_settings(inv.hosts["compute30"])
    assert settings.settings["jump"] == "stack@undercloud:22"
    assert settings.settings["known_hosts"] == "/etc/kolla/known_hosts"
    assert "host_key_policy" not in settings.settings  # [all:vars]'s args are replaced, not added
    assert settings.settings["identity_file"] == "/etc/kolla/id_rsa"
    assert settings.settings["user"] == "rackuser"  # from rack1, the parent of compute


def test_lines_before_any_section_are_ungrouped() -> None:
    inv = read("localhost ansible_connection=local\n[compute]\nc1\n")
    assert inv.groups["ungrouped"].hosts == ("localhost",)
    assert inv.groups["all"].children == ("ungrouped", "compute")


def test_a_host_in_a_group_leaves_ungrouped() -> None:
    inv = read("c1\n[compute]\nc1\n")
    assert inv.groups["ungrouped"].hosts == ()
    assert inv.hosts["c1"].groups == ("compute",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[compute:hostz]\nc1\n", "hosts.ini: line 1: section [compute:hostz] has an unknown type 'hostz'"),
        ("[com pute]\n", "hosts.ini: line 1: invalid section '[com pute]': no spaces or other characters"),
        ("[compute]\nc1 ansible_user\n", "hosts.ini: line 2: expected key=value after the host name, got "),
        ("[compute]\nc1 a='unclosed\n", "hosts.ini: line 2: cannot split host line: No closing quotation"),
        ("[compute:vars]\nansible_user\n", "hosts.ini: line 2: expected key=value in [compute:vars], got "),
        ("[rack:vars]\nx=1\n", "hosts.ini: line 1: [rack:vars] is for group 'rack', which is never declared"),
        ("[rack:children]\ncompute\n", "hosts.ini: line 2: [rack:children] names group 'compute', which is never"),
        ("[compute]\nc1:\n", "hosts.ini: line 2: host entry 'c1:' ends with ':'"),
        ("[compute]\nc[01:9]\n", "hosts.ini: line 2: range [01:9] in 'c[01:9]': a zero-padded begin needs an end"),
        ("[compute]\nc[1:9:0]\n", "hosts.ini: line 2: range [1:9:0] in 'c[1:9:0]': the step must be a positive"),
        ("[compute]\nc[1:3\n", "hosts.ini: line 2: unclosed '[' in 'c[1:3'"),
        ("[a:children]\nb\n[b:children]\na\n", "hosts.ini: groups are children of each other in a loop: a, b"),
        ("[a:vars]\nansible_group_priority=high\n[a]\n", "hosts.ini: group 'a': ansible_group_priority must be an"),
    ],
)
def test_each_mistake_is_one_message_with_the_line(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


def test_a_huge_range_is_refused_before_it_is_built() -> None:
    assert "makes 10000000 hosts, more than 100000" in error("[compute]\nc[1:10000000]\n")
