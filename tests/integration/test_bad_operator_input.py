"""Bad operators' input stops the run before any host is contacted (issue 14, "Bad input"): exit 4 and one
message naming the file, and the host, key or line.

Run as an operator runs the suite (a pytest process): a malformed Ansible file (YAML, INI, ``--list`` JSON,
group vars, TF ``instances.yaml``), an unknown group in ``groups:`` of a suite inventory naming Ansible sources,
a vault-encrypted file (an inventory, group vars) without ``ansible-inventory`` on PATH, and a snapshot ``path``
naming a file that is no sosreport tarball. Every host of these inventories points at a listening socket of
this test on 127.0.0.1: it must accept no connection.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.snapshot_trees import SOSREPORT_TREE, tar_tree
from tests.suite_runs import run_suite

#: The start of a whole-file vault (``ansible-vault encrypt``): only Ansible reads what follows.
VAULT = "$ANSIBLE_VAULT;1.1;AES256\n62313365396662343061393464336163383764373764613633653634306231386433626436623361\n"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 that every host of the inventories names: nothing may connect."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def connections(server: socket.socket) -> int:
    """How many connections wait to be accepted (accepting them)."""
    count = 0
    while True:
        try:
            peer, _ = server.accept()
        except BlockingIOError:
            return count
        peer.close()
        count += 1


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def one_message(tmp_path: Path, inventory: Path, server: socket.socket) -> str:
    """Run the checks on ``inventory``: exit 4, nothing contacted, no summary; the one message, on one line."""
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary}")
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "Traceback" not in output and not summary.exists(), output
    assert connections(server) == 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr
    return errors[0].removeprefix("ERROR: ")


def port(server: socket.socket) -> int:
    return int(server.getsockname()[1])


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        (
            "tripleo-ansible-inventory.yaml",
            "Compute:\n  hosts:\n    overcloud-novacompute-0: {{ansible_host: 127.0.0.1, ansible_port: {port}\n"
            "  vars: {{ansible_ssh_user: tripleo-admin}}\n",
            "line 4, column 7: invalid YAML: ",
        ),
        (
            "multinode",
            "[compute]\ncompute01 ansible_host=127.0.0.1 ansible_port={port}\n[compute:vars\nansible_user=kolla\n",
            "line 3: unclosed '['",
        ),
        (
            "inventory.json",
            '{{"_meta": {{"hostvars": {{"c1": {{"ansible_host": "127.0.0.1", "ansible_port": {port}}}}}}}, '
            '"compute": [',
            "line 2, column 1: invalid YAML: ",
        ),
        (
            "instances.yaml",
            "provider_config:\n  bms:\n    ssh_user: root\n    ssh_port: {port}\n"
            "instances:\n  c1:\n    provider: bms\n    ip: [127.0.0.1\n",
            "line 9, column 1: invalid YAML: ",
        ),
    ],
    ids=["tripleo-yaml", "kolla-ini", "list-json", "tf-instances"],
)
def test_a_malformed_ansible_file_names_the_file_and_line(
    tmp_path: Path, listener: socket.socket, name: str, text: str, said: str
) -> None:
    inventory = write(tmp_path / name, text.format(port=port(listener)))
    message = one_message(tmp_path, inventory, listener)
    assert message.startswith(f"{inventory}: {said}"), message


def test_a_malformed_group_vars_file_is_named(tmp_path: Path, listener: socket.socket) -> None:
    write(
        tmp_path / "kolla" / "multinode", f"[compute]\ncompute01 ansible_host=127.0.0.1 ansible_port={port(listener)}\n"
    )
    group_vars = write(tmp_path / "kolla" / "group_vars" / "compute.yml", "ansible_user: [kolla\n")
    message = one_message(tmp_path, tmp_path / "kolla", listener)
    assert message.startswith(f"{group_vars}: line 2, column 1: invalid YAML: "), message


def test_an_unknown_group_in_groups_names_the_suite_file_and_the_group(tmp_path: Path, listener: socket.socket) -> None:
    write(tmp_path / "multinode", f"[compute]\ncompute01 ansible_host=127.0.0.1 ansible_port={port(listener)}\n")
    suite = write(tmp_path / "preflight.yaml", "ansible_inventory: multinode\ngroups:\n  Compute: {become: sudo}\n")
    message = one_message(tmp_path, suite, listener)
    assert message == (
        f"{suite}: key 'groups': 'Compute' is not a group of {tmp_path / 'multinode'}; did you mean 'compute'?"
    )


@pytest.mark.parametrize("where", ["group_vars", "inventory"])
def test_a_vaulted_file_without_ansible_inventory_on_path(
    tmp_path: Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    tree = tmp_path / "tripleo"
    if where == "group_vars":
        write(
            tree / "hosts.yml",
            f"Compute:\n  hosts:\n    c1: {{ansible_host: 127.0.0.1, ansible_port: {port(listener)}}}\n",
        )
        vaulted = write(tree / "group_vars" / "all" / "vault.yml", VAULT)
    else:
        vaulted = write(tree / "hosts.yml", VAULT)
    no_ansible = tmp_path / "bin"
    no_ansible.mkdir()
    path = os.pathsep.join([str(no_ansible), "/usr/bin", "/bin"])  # the venv's ansible-inventory is not on it
    assert not any((Path(d) / "ansible-inventory").exists() for d in path.split(os.pathsep))
    monkeypatch.setenv("PATH", path)  # the run's environment (tests.suite_runs runs this interpreter by its path)
    message = one_message(tmp_path, tree, listener)
    assert message.startswith(str(vaulted)), message
    assert "vault-encrypted: only Ansible reads this, and ansible-inventory is not on PATH" in message
    assert f"'ansible-inventory -i {tree} --list'" in message
    assert "6231336539" not in message  # nothing of the ciphertext


def test_a_snapshot_path_that_is_no_sosreport_tarball(tmp_path: Path, listener: socket.socket) -> None:
    real = tar_tree(SOSREPORT_TREE, tmp_path / "sosreport-c6.tar.xz")
    bogus = write(tmp_path / "sosreport-c7.tar.xz", "this is the sos log, not the tarball\n")
    inventory = write(
        tmp_path / "fleet.yaml",
        "hosts:\n"
        f"  compute-6: {{transport: snapshot, path: {real.name}}}\n"
        f"  compute-7: {{transport: snapshot, path: {bogus.name}}}\n"
        f"  compute-8: {{address: 127.0.0.1, port: {port(listener)}}}\n",
    )
    message = one_message(tmp_path, inventory, listener)
    assert message == (
        f"{inventory}: host 'compute-7': key 'path': {bogus} is not a readable tar archive: "
        "neither plain tar nor gzip, bzip2 or xz compressed"
    )
