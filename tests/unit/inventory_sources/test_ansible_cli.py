"""What only Ansible reads goes through ``ansible-inventory``, bounded; without it, one clear message."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import ansible_inventory_command
from vrouter_preflight.inventory_sources import NeedsAnsibleError, connection_settings, read_operator_inventory
from vrouter_preflight.inventory_sources.ansible_cli import run_ansible_inventory
from vrouter_preflight.inventory_sources.hidden import Secret

LISTING = {
    "compute": {"hosts": ["c1", "c2"], "vars": {"ansible_user": "heat-admin"}},
    "_meta": {"hostvars": {"c1": {"ansible_host": "192.0.2.11", "ansible_password": "from-script"}}},
}


def script(tmp_path: Path, body: str, name: str = "inventory.sh") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_inventory_script_is_read_through_ansible_inventory(tmp_path: Path) -> None:
    path = script(tmp_path, f"cat <<'EOF'\n{json.dumps(LISTING)}\nEOF\n")
    inv = read_operator_inventory(path, ansible_inventory=ansible_inventory_command())
    assert inv.format == "ansible-inventory"
    assert inv.host_names == ("c1", "c2")
    settings = connection_settings(inv.hosts["c1"])
    assert dict(settings.settings) == {"address": "192.0.2.11", "user": "heat-admin", "password": Secret("from-script")}


def test_plugin_configuration_in_a_directory_is_read_through_ansible_inventory(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[compute]\nc1 tier=compute\nc2\n")
    (tmp_path / "zz-constructed.yml").write_text(
        "plugin: ansible.builtin.constructed\ngroups:\n  tiered: tier is defined\n"
    )
    inv = read_operator_inventory(tmp_path, ansible_inventory=ansible_inventory_command())
    assert inv.format == "ansible-inventory"
    assert inv.groups["tiered"].hosts == ("c1",)


def test_vault_encrypted_group_vars_file_is_decrypted_by_ansible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts").write_text("[compute]\nc1\n")
    secret_file = inventory / "group_vars" / "compute.yml"
    secret_file.write_text("ansible_become_password: vaulted-sudo\n")
    password_file = tmp_path / "vault-password"
    password_file.write_text("correct horse\n")
    ansible_vault = Path(ansible_inventory_command()).with_name("ansible-vault")
    assert (
        os.system(f"'{ansible_vault}' encrypt --vault-password-file '{password_file}' '{secret_file}' >/dev/null 2>&1")
        == 0
    )
    assert secret_file.read_text().startswith("$ANSIBLE_VAULT;")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password_file))
    inv = read_operator_inventory(inventory, ansible_inventory=ansible_inventory_command())
    assert connection_settings(inv.hosts["c1"]).settings["sudo_password"] == Secret("vaulted-sudo")


def test_without_ansible_inventory_on_path_one_message_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = script(tmp_path, "echo '{}'\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NeedsAnsibleError) as info:
        read_operator_inventory(path)
    assert str(info.value) == (
        f"{path}: it is an executable inventory script: only Ansible reads this, and ansible-inventory is not on "
        f"PATH; install ansible-core, or give the output of 'ansible-inventory -i {path} --list' saved as a JSON file"
    )


def test_plugin_configuration_without_ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "fleet.aws_ec2.yml"
    path.write_text("plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NeedsAnsibleError) as info:
        read_operator_inventory(path)
    assert str(info.value).startswith(
        f"{path}: it is an inventory plugin configuration (plugin: amazon.aws.aws_ec2): only Ansible reads this"
    )


def test_a_failing_script_is_reported_without_its_output(tmp_path: Path) -> None:
    path = script(tmp_path, "echo 'password: hunter2' >&2\nexit 3\n")
    with pytest.raises(NeedsAnsibleError) as info:
        read_operator_inventory(path, ansible_inventory=ansible_inventory_command())
    message = str(info.value)
    assert message.startswith(f"{path}: it is an executable inventory script: only Ansible reads this; ")
    assert "failed (exit" in message and "hunter2" not in message and "\n" not in message


def test_a_hanging_script_is_stopped_at_the_timeout_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    duration = f"300.{os.getpid()}{time.monotonic_ns() % 100000}"  # only this test's sleep has this argument
    path = script(tmp_path, f"sleep {duration} && touch '{marker}'\n")
    started = time.monotonic()
    with pytest.raises(NeedsAnsibleError) as info:
        run_ansible_inventory([str(path)], f"{path}: a script", executable=ansible_inventory_command(), timeout=5)
    assert "did not finish within 5 s" in str(info.value)
    assert time.monotonic() - started < 30
    hung = [p for p in Path("/proc").glob("[0-9]*") if _cmdline(p).startswith(f"sleep {duration}")]
    assert hung == []


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_output_beyond_the_cap_is_refused(tmp_path: Path) -> None:
    big = {"compute": {"hosts": [f"c{i:06d}" for i in range(20000)]}, "_meta": {"hostvars": {}}}
    data = tmp_path / "big.json"
    data.write_text(json.dumps(big))
    path = script(tmp_path, f"cat '{data}'\n")
    with pytest.raises(NeedsAnsibleError) as info:
        run_ansible_inventory(
            [str(path)], f"{path}: a script", executable=ansible_inventory_command(), max_bytes=100_000
        )
    assert "printed more than 100000 bytes" in str(info.value)
