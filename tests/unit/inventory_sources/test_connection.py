"""Ansible's connection variables onto the suite's keys: precedence, ssh options, problems per host."""

from __future__ import annotations

import pytest

from vrouter_preflight.inventory_sources import connection_settings
from vrouter_preflight.inventory_sources.connection import ConnectionSettings
from vrouter_preflight.inventory_sources.hidden import HostVars, Secret, VaultedValue
from vrouter_preflight.inventory_sources.model import InventoryHost


def mapped(**variables: object) -> ConnectionSettings:
    return connection_settings(InventoryHost("compute-0", HostVars(variables)))


def test_later_alias_wins_and_null_counts_as_unset() -> None:
    s = mapped(ansible_user="kolla", ansible_ssh_user="heat-admin", ansible_host=None, ansible_ssh_host="192.0.2.3")
    assert dict(s.settings) == {"address": "192.0.2.3", "user": "heat-admin"}
    assert dict(s.origins) == {"address": "ansible_ssh_host", "user": "ansible_ssh_user"}


def test_variables_win_over_the_same_option_in_ssh_args() -> None:
    s = mapped(
        ansible_port=2222,
        ansible_user="kolla",
        ansible_ssh_private_key_file="/k/first",
        ansible_ssh_common_args="-p 22 -l root -i /k/second -o ConnectTimeout=7",
        ansible_ssh_timeout=30,
    )
    assert dict(s.settings) == {"user": "kolla", "identity_file": "/k/first", "port": 2222, "connect_timeout": 30.0}
    assert s.notes == ("several identity files given; the suite uses /k/first only",)


def test_ssh_args_fill_what_variables_leave_unset() -> None:
    s = mapped(
        ansible_ssh_common_args="-o Port=2200 -o User=stack -o ConnectTimeout=7 -F /etc/ssh/fleet.conf",
        ansible_ssh_extra_args="-o UserKnownHostsFile='/etc/kolla/known_hosts /dev/null' -o ControlPersist=60s",
    )
    assert dict(s.settings) == {
        "port": 2200,
        "connect_timeout": 7.0,
        "user": "stack",
        "known_hosts": "/etc/kolla/known_hosts",
        "ssh_config": "/etc/ssh/fleet.conf",
    }
    assert s.origins["port"] == "ansible_ssh_common_args/ansible_ssh_extra_args (-o Port)"
    assert s.notes == (
        "UserKnownHostsFile lists several files; the suite reads /etc/kolla/known_hosts only",
        "ssh options not used by the suite: controlpersist",
    )


def test_proxy_command_is_the_new_key_and_the_first_proxy_option_wins() -> None:
    s = mapped(ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p -q stack@undercloud" -J bastion')
    assert dict(s.settings) == {"proxy_command": "ssh -W %h:%p -q stack@undercloud"}
    s = mapped(ansible_ssh_common_args="-J stack@bastion:2222,admin@inner -o ProxyCommand=none")
    assert dict(s.settings) == {"jump": "stack@bastion:2222,admin@inner"}
    assert mapped(ansible_ssh_common_args="-o ProxyJump=none").settings == {}


@pytest.mark.parametrize(
    ("variables", "policy"),
    [
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=yes"}, "strict"),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=accept-new"}, "accept-new"),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=no"}, "accept-new"),
        ({"ansible_host_key_checking": False, "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes"}, "accept-new"),
        ({"ansible_host_key_checking": "true", "ansible_ssh_common_args": "-o StrictHostKeyChecking=no"}, "accept-new"),
    ],
)
def test_host_key_policy(variables: dict[str, object], policy: str) -> None:
    assert mapped(**variables).settings["host_key_policy"] == policy


@pytest.mark.parametrize(
    ("connection", "transport"),
    [("ssh", "ssh"), ("paramiko", "ssh"), ("smart", "ssh"), ("ansible.builtin.ssh", "ssh"), ("local", "local")],
)
def test_supported_connections(connection: str, transport: str) -> None:
    s = mapped(ansible_connection=connection)
    assert s.settings["transport"] == transport and s.problems == ()


def test_local_host_drops_ssh_settings_but_keeps_become() -> None:
    s = mapped(
        ansible_connection="local",
        ansible_host="localhost",
        ansible_port=22,
        ansible_password="pw",
        ansible_become=True,
    )
    assert dict(s.settings) == {"transport": "local", "become": "sudo"}
    assert s.notes == ("local connection: ssh settings not used (address, port, password)",)


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"ansible_connection": "docker"}, "ansible_connection: 'docker' is not supported; the suite connects with"),
        ({"ansible_port": "ssh"}, "ansible_port: expected a port number from 1 to 65535, got 'ssh'"),
        ({"ansible_port": 70000}, "ansible_port: expected a port number from 1 to 65535, got 70000"),
        ({"ansible_ssh_timeout": -1}, "ansible_ssh_timeout: expected a positive number of seconds, got -1"),
        ({"ansible_user": ["a"]}, "ansible_user: expected a non-empty string, got ['a']"),
        ({"ansible_become": "maybe"}, "ansible_become: expected true or false, got 'maybe'"),
        ({"ansible_become": True, "ansible_become_method": "su"}, "ansible_become_method: 'su' is not supported"),
        ({"ansible_become": "yes", "ansible_become_user": "nova"}, "ansible_become_user: 'nova' is not supported"),
        ({"ansible_ssh_common_args": "-o 'User"}, "ansible_ssh_common_args: cannot read the ssh options: No closing"),
        ({"ansible_ssh_common_args": "-i"}, "ansible_ssh_common_args: cannot read the ssh options: option -i needs"),
        ({"ansible_ssh_private_key": "-----BEGIN"}, "ansible_ssh_private_key (a key given inline) is not supported"),
        ({"ansible_host": "{{ lookup('env', 'X') }}"}, "ansible_host: the Jinja template \"{{ lookup('env', 'X')"),
        ({"ansible_ssh_common_args": "-o StrictHostKeyChecking=maybe"}, "ansible_ssh_common_args (-o StrictHost"),
    ],
)
def test_problems_name_the_variable(variables: dict[str, object], problem: str) -> None:
    problems = mapped(**variables).problems
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_become_method_and_user_matter_only_when_become_is_on() -> None:
    s = mapped(ansible_become=False, ansible_become_method="su", ansible_become_user="nova")
    assert dict(s.settings) == {"become": "none"} and s.problems == ()


def test_trivial_templates_are_resolved_from_the_host_variables() -> None:
    s = mapped(ansible_host="{{ ctlplane_ip }}", ctlplane_ip="{{ ip }}", ip="192.0.2.77", ansible_port="{{ p }}", p=22)
    assert (s.settings["address"], s.settings["port"]) == ("192.0.2.77", 22)


def test_secrets_never_reach_messages_or_reprs() -> None:
    s = mapped(
        ansible_password="{{ vault_pw }}",
        ansible_become_password=VaultedValue("$ANSIBLE_VAULT;1.1"),
        ansible_ssh_pass="hunter2-{{ x }}",
    )
    assert s.problems == (
        "ansible_ssh_pass: the Jinja template cannot be evaluated here; give the value",
        "ansible_become_password is vault-encrypted and the suite cannot decrypt it",
    )
    ok = mapped(ansible_password="hunter2", ansible_sudo_pass=1234)
    assert (ok.settings["password"], ok.settings["sudo_password"]) == (Secret("hunter2"), Secret("1234"))
    assert "hunter2" not in repr(ok) + str(dict(ok.settings)) and "1234" not in repr(ok)


def test_reader_problems_come_first() -> None:
    host = InventoryHost("gce1", HostVars({"ansible_connection": "winrm"}), problems=("instance has no 'ip'",))
    assert connection_settings(host).problems[0] == "instance has no 'ip'"
