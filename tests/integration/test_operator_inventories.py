"""Operators' own inventories run the whole suite against real sshd's on 127.0.0.1.

Ansible INI and YAML inventories, the real TripleO Wallaby file (addresses rewritten to the loopback range,
``--limit Compute``, logging in as ``tripleo-admin`` its group vars name), the same through a suite file that
names it (``ansible_inventory:``), a Kolla-style INI with ``--limit 'compute:!compute02'``, a TF
``instances.yaml`` with a DPDK vRouter, password login and sudo from an Ansible inventory, and the hosts the
suite cannot use as written. No test contacts an address outside 127.0.0.0/8.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import SUDO_TEST_PASSWORD
from tests.secret_leaks import assert_secret_absent, capture_all_logs
from tests.sshd_rig import (
    SUDO_PASSWORD_USER,
    ClientKey,
    SshdServer,
    ensure_user,
    install_sudoers,
    make_shared_dir,
    remove_sudoers_dropin,
)
from tests.suite_runs import run_suite
from tests.summaries import load_summary
from tests.unit.inventory_sources.samples import KOLLA, TRIPLEO_WALLABY
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.inventory_sources import Secret
from vrouter_preflight.transport.ssh import SshTransport
from vrouter_preflight.wiring.check_inputs import DPDK_NOT_APPLICABLE

TRIPLEO_USER = "tripleo-admin"
TRIPLEO_SUDOERS = "/etc/sudoers.d/vrpf-test-tripleo"
TRIPLEO_COMPUTE = "rk-openstack-0-novacompute-0"
TRIPLEO_ADDRESS = "192.168.7.217"  # the compute's ansible_host in the real file
#: A password in the TripleO file's Undercloud vars (not a connection variable): never printed.
TRIPLEO_ADMIN_PASSWORD = "REaqggXMFlZdp3KGCE9vb1X4Y"
KERNEL_TABLE_CHECKS = (CheckId.CONTIGUOUS_BLOCKS.id, CheckId.HUGEPAGE_BACKING.id, CheckId.TRIAL_ALLOCATION.id)
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


@pytest.fixture(scope="module")
def tripleo_admin(sshd: SshdServer) -> Iterator[str]:
    """The login TripleO's group vars name (``ansible_ssh_user: tripleo-admin``), with NOPASSWD sudo, as TripleO's."""
    ensure_user(TRIPLEO_USER)
    install_sudoers(f"{TRIPLEO_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n", TRIPLEO_SUDOERS)
    yield TRIPLEO_USER
    remove_sudoers_dropin(TRIPLEO_SUDOERS)


@pytest.fixture(scope="module")
def password_sshd(sudo_users: tuple[str, str]) -> Iterator[SshdServer]:
    """An sshd where ``vrpf-sudopw`` logs in with its password only (public keys refused for it)."""
    directory = make_shared_dir("vrpf-sshd-password-")
    extra = f"Match User {SUDO_PASSWORD_USER}\n  PasswordAuthentication yes\n  PubkeyAuthentication no\n"
    server = SshdServer(directory, extra_config=extra).start()
    yield server
    server.cleanup()


def ssh_args(known_hosts: str) -> str:
    """``ansible_ssh_common_args`` for the test sshd's: strict known_hosts of our own, no ~/.ssh/config."""
    return f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -F /dev/null"


def run(inventory: Path, tmp_path: Path, *extra: str) -> tuple[Any, dict[str, Any]]:
    """Run the checks on ``inventory``; the result and the JSON summary's hosts."""
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary}", *extra)
    hosts = load_summary(summary)["hosts"] if summary.exists() else {}
    return result, hosts


def outcomes(hosts: dict[str, Any], name: str) -> dict[str, str]:
    return {check["id"]: check["outcome"] for check in hosts[name]["checks"]}


def message(hosts: dict[str, Any], name: str, check_id: str) -> str:
    return next(str(check["message"]) for check in hosts[name]["checks"] if check["id"] == check_id)


def loopback_copy(source: Path, target: Path, on_sshd: str) -> Path:
    """``source`` copied to ``target`` with every IPv4 address rewritten into 127.0.0.0/8: ``on_sshd`` to the test
    sshd's 127.0.0.1, the others to 127.0.0.2 and up, so nothing outside this machine can be contacted."""
    mapping = {on_sshd: "127.0.0.1"}

    def loopback(match: re.Match[str]) -> str:
        return mapping.setdefault(match.group(0), f"127.0.0.{len(mapping) + 1}")

    target.parent.mkdir(parents=True, exist_ok=True)
    text = _IPV4.sub(loopback, source.read_text(encoding="utf-8"))
    assert len(mapping) < 250 and all(address.startswith("127.") for address in _IPV4.findall(text))
    target.write_text(text, encoding="utf-8")
    return target


def test_an_ansible_ini_inventory_reaches_the_host(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str
) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[compute]\n"
        f"c-ini ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user=root "
        f"ansible_ssh_private_key_file={client_key.private}\n"
        "[compute:vars]\n"
        f"ansible_ssh_common_args='{ssh_args(known_hosts)}'\n"
    )
    accepted = sshd.count("Accepted publickey for root")
    result, hosts = run(inventory, tmp_path)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert list(hosts) == ["c-ini"]
    assert outcomes(hosts, "c-ini")[CheckId.REACHABLE.id] == "passed", result.stdout
    assert outcomes(hosts, "c-ini")[CheckId.FACTS_PARSE.id] == "passed", result.stdout
    assert sshd.count("Accepted publickey for root") > accepted


def test_an_ansible_yaml_inventory_and_a_host_it_describes_unusably(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str
) -> None:
    """A bad ``ansible_connection`` is ONE error, for that host only: it is never contacted, the other host is."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "all:\n"
        "  vars:\n"
        f"    ansible_ssh_common_args: '{ssh_args(known_hosts)}'\n"
        "  children:\n"
        "    compute:\n"
        "      hosts:\n"
        "        c-yaml:\n"
        "          ansible_host: 127.0.0.1\n"
        f"          ansible_port: {sshd.port}\n"
        "          ansible_user: root\n"
        f"          ansible_ssh_private_key_file: {client_key.private}\n"
        "        c-winrm:\n"
        "          ansible_host: 127.0.0.2\n"
        "          ansible_connection: winrm\n"
    )
    result, hosts = run(inventory, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(hosts, "c-yaml")[CheckId.REACHABLE.id] == "passed", result.stdout
    assert outcomes(hosts, "c-winrm") == {CheckId.REACHABLE.id: "error"}
    assert message(hosts, "c-winrm", CheckId.REACHABLE.id) == (
        "c-winrm: not contacted: ansible_connection: 'winrm' is not supported; the suite connects with ssh "
        "(ssh, paramiko, smart) or runs local"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count("ERROR at setup") == 1


def _tripleo_tree(tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str) -> Path:
    """The real TripleO Wallaby file, its addresses on 127.0.0.0/8 (the compute's on the test sshd's 127.0.0.1),
    and the compute's port, key and known_hosts in ``host_vars/`` beside it, as Ansible reads them."""
    inventory = loopback_copy(TRIPLEO_WALLABY, tmp_path / "tripleo" / "tripleo-ansible-inventory.yaml", TRIPLEO_ADDRESS)
    host_vars = tmp_path / "tripleo" / "host_vars"
    host_vars.mkdir()
    (host_vars / f"{TRIPLEO_COMPUTE}.yml").write_text(
        f"ansible_port: {sshd.port}\n"
        f"ansible_ssh_private_key_file: {client_key.private}\n"
        f"ansible_ssh_common_args: '{ssh_args(known_hosts)}'\n"
        "ansible_become: true\n"
    )
    assert f"{TRIPLEO_COMPUTE}:\n      ansible_host: 127.0.0.1\n" in inventory.read_text()
    return inventory


def test_tripleo_limit_compute_checks_exactly_the_compute_as_tripleo_admin(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, tripleo_admin: str
) -> None:
    inventory = _tripleo_tree(tmp_path, sshd, client_key, known_hosts)
    accepted = sshd.count(f"Accepted publickey for {tripleo_admin}")
    result, hosts = run(inventory, tmp_path, "--limit", "Compute")
    output = result.stdout + result.stderr
    assert list(hosts) == [TRIPLEO_COMPUTE], output
    assert outcomes(hosts, TRIPLEO_COMPUTE)[CheckId.REACHABLE.id] == "passed", output
    assert sshd.count(f"Accepted publickey for {tripleo_admin}") > accepted
    assert TRIPLEO_ADMIN_PASSWORD not in output + (tmp_path / "summary.json").read_text()


def test_tripleo_through_a_suite_inventory_with_settings_per_group(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, tripleo_admin: str
) -> None:
    """The same file, named by a suite inventory whose ``groups: {Compute: …}`` give the port, key and known_hosts."""
    inventory = loopback_copy(TRIPLEO_WALLABY, tmp_path / "tripleo" / "tripleo-ansible-inventory.yaml", TRIPLEO_ADDRESS)
    suite = tmp_path / "preflight.yaml"
    suite.write_text(
        "ansible_inventory: tripleo/tripleo-ansible-inventory.yaml\n"
        "defaults:\n"
        "  become: sudo\n"
        "  ssh_config: /dev/null\n"
        "groups:\n"
        "  Compute:\n"
        f"    port: {sshd.port}\n"
        f"    identity_file: {client_key.private}\n"
        f"    known_hosts: {known_hosts}\n"
        "    host_key_policy: strict\n"
        "hosts:\n"
        f"  {TRIPLEO_COMPUTE}:\n"
        "    min_free_1g_per_node: 0\n"
    )
    assert inventory.exists()
    accepted = sshd.count(f"Accepted publickey for {tripleo_admin}")
    result, hosts = run(suite, tmp_path, "--limit", "Compute")
    output = result.stdout + result.stderr
    assert list(hosts) == [TRIPLEO_COMPUTE], output
    assert outcomes(hosts, TRIPLEO_COMPUTE)[CheckId.REACHABLE.id] == "passed", output
    assert outcomes(hosts, TRIPLEO_COMPUTE)[CheckId.FACTS_PARSE.id] == "passed", output
    assert sshd.count(f"Accepted publickey for {tripleo_admin}") > accepted


def test_kolla_limit_leaves_out_compute02(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str
) -> None:
    """The real Kolla ``multinode`` with compute01 on the test sshd and a compute02 beside it."""
    text = KOLLA.read_text(encoding="utf-8")
    login = (
        f"ansible_port={sshd.port} ansible_user=root ansible_ssh_private_key_file={client_key.private} "
        f"ansible_ssh_common_args='{ssh_args(known_hosts)}'"
    )
    compute = f"[compute]\ncompute01 ansible_host=127.0.0.1 {login}\ncompute02 ansible_host=127.0.0.2 {login}\n"
    assert "[compute]\ncompute01\n" in text
    inventory = tmp_path / "multinode"
    inventory.write_text(text.replace("[compute]\ncompute01\n", compute))
    result, hosts = run(inventory, tmp_path, "--limit", "compute:!compute02")
    assert list(hosts) == ["compute01"], result.stdout + result.stderr
    assert outcomes(hosts, "compute01")[CheckId.REACHABLE.id] == "passed"


def test_a_limit_that_matches_nothing_is_exit_4_and_contacts_nobody(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str
) -> None:
    inventory = _tripleo_tree(tmp_path, sshd, client_key, known_hosts)
    connections = sshd.count("Connection from")
    result, hosts = run(inventory, tmp_path, "--limit", "Comptue")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "--limit 'Comptue': no group or host matches 'Comptue'; did you mean 'Compute'?" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sshd.count("Connection from") == connections and not hosts


def test_tf_instances_a_dpdk_vrouter_skips_the_kernel_table_checks(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str
) -> None:
    """kvm1 (kernel vRouter) and kvm2 (``AGENT_MODE: dpdk``) on the test sshd; a suite file gives port and
    known_hosts. kvm2 is also marked destructive: under ``--destructive`` its remediation says not applicable."""
    (tmp_path / "instances.yaml").write_text(
        "provider_config:\n"
        "  bms:\n"
        "    ssh_user: root\n"
        f"    ssh_private_key: {client_key.private}\n"
        "instances:\n"
        "  controller1:\n"
        "    provider: bms\n"
        "    ip: 127.0.0.3\n"
        "    roles:\n"
        "      config:\n"
        "      control:\n"
        "  kvm1:\n"
        "    provider: bms\n"
        "    ip: 127.0.0.1\n"
        "    roles:\n"
        "      vrouter:\n"
        "      openstack_compute:\n"
        "  kvm2:\n"
        "    provider: bms\n"
        "    ip: 127.0.0.1\n"
        "    roles:\n"
        "      vrouter:\n"
        "        AGENT_MODE: dpdk\n"
        "      openstack_compute:\n"
    )
    suite = tmp_path / "preflight.yaml"
    suite.write_text(
        "ansible_inventory: instances.yaml\n"
        "defaults:\n"
        f"  port: {sshd.port}\n"
        f"  known_hosts: {known_hosts}\n"
        "  ssh_config: /dev/null\n"
        "hosts:\n"
        "  kvm2:\n"
        "    destructive: true\n"
    )
    result, hosts = run(suite, tmp_path, "--destructive", f"--journal-dir={tmp_path / 'journal'}")
    output = result.stdout + result.stderr
    assert list(hosts) == ["kvm1", "kvm2"], output
    kvm1, kvm2 = outcomes(hosts, "kvm1"), outcomes(hosts, "kvm2")
    assert kvm1[CheckId.REACHABLE.id] == kvm2[CheckId.REACHABLE.id] == "passed", output
    for check_id in (*KERNEL_TABLE_CHECKS, CheckId.REMEDIATION.id):
        assert kvm2[check_id] == "skipped", (check_id, output)
        assert message(hosts, "kvm2", check_id) == f"kvm2: {DPDK_NOT_APPLICABLE}"
    assert kvm1[CheckId.CONTIGUOUS_BLOCKS.id] in ("passed", "failed")  # judged: a kernel vRouter
    assert CheckId.REMEDIATION.id not in kvm1  # not destructive: deselected, not run
    assert not (tmp_path / "journal").exists() or not any((tmp_path / "journal").iterdir())  # nothing changed


def test_password_login_and_sudo_password_from_an_ansible_inventory_never_shown(
    tmp_path: Path, password_sshd: SshdServer, sudo_users: tuple[str, str]
) -> None:
    known = tmp_path / "known_hosts"
    password_sshd.write_known_hosts(str(known))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[compute]\n"
        f"pw ansible_host=127.0.0.1 ansible_port={password_sshd.port} ansible_user={SUDO_PASSWORD_USER} "
        f"ansible_password={SUDO_TEST_PASSWORD} ansible_become=true ansible_become_password={SUDO_TEST_PASSWORD} "
        f"ansible_ssh_common_args='{ssh_args(str(known))}'\n"
        f"wrong ansible_host=127.0.0.1 ansible_port={password_sshd.port} ansible_user={SUDO_PASSWORD_USER} "
        f"ansible_password=not-the-password ansible_ssh_common_args='{ssh_args(str(known))}'\n"
    )
    allure = tmp_path / "allure"
    junit = tmp_path / "junit.xml"
    result, hosts = run(inventory, tmp_path, f"--alluredir={allure}", f"--junitxml={junit}", "-rA")
    output = result.stdout + result.stderr
    assert outcomes(hosts, "pw")[CheckId.REACHABLE.id] == "passed", output
    # The capture ran under sudo with the inventory's become password: root-only files were read.
    assert "/proc/pagetypeinfo" not in message(hosts, "pw", CheckId.FACTS_PARSE.id), output
    assert password_sshd.count(f"Accepted password for {SUDO_PASSWORD_USER}") >= 1
    assert outcomes(hosts, "wrong") == {CheckId.REACHABLE.id: "error"}
    refused = message(hosts, "wrong", CheckId.REACHABLE.id)
    assert f"authentication refused for user {SUDO_PASSWORD_USER} (tried: " in refused and refused.endswith("password)")
    texts = [output, (tmp_path / "summary.json").read_text(), junit.read_text()]
    texts += [path.read_text(errors="replace") for path in allure.rglob("*") if path.is_file()]
    for text in texts:
        assert SUDO_TEST_PASSWORD not in text and "not-the-password" not in text


@pytest.mark.timeout(60)
def test_the_ssh_transport_logs_in_with_the_password_and_sudoes_with_its_own(
    tmp_path: Path, password_sshd: SshdServer, sudo_users: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """In-process, paramiko's debug log included: the password logs in and feeds sudo, and shows nowhere."""
    logs = capture_all_logs(caplog)
    known = password_sshd.write_known_hosts(str(tmp_path / "known_hosts"))
    secret_file = tmp_path / "echoed"
    secret_file.write_text(SUDO_TEST_PASSWORD + "\n")
    secret_file.chmod(0o600)
    spec = HostSpec(
        name="pw",
        address="127.0.0.1",
        port=password_sshd.port,
        user=SUDO_PASSWORD_USER,
        known_hosts=known,
        ssh_config="/dev/null",
        connect_timeout=5.0,
        become="sudo",
        login_password=Secret(SUDO_TEST_PASSWORD),
        sudo_password=Secret(SUDO_TEST_PASSWORD),
    )
    transport = SshTransport(spec)
    try:
        assert transport.run("id -un").stdout == f"{SUDO_PASSWORD_USER}\n"
        echoed = transport.run(f"cat {secret_file}; id -u", privileged=True)  # root reads the 0600 file
        assert echoed.stdout == "********\n0\n"  # sudo ran with the inventory's password; an echo is masked
        captures = transport.capture(FACT_SOURCES)
        assert captures["/proc/pagetypeinfo"].ok
    finally:
        transport.close()
    wrong = SshTransport(dataclasses.replace(spec, name="wrong", login_password=Secret("not-the-password")))
    with pytest.raises(HostUnreachable) as refused:
        wrong.run("true")
    wrong.close()
    assert f"authentication refused for user {SUDO_PASSWORD_USER}" in str(refused.value)
    assert_secret_absent(logs, SUDO_TEST_PASSWORD, repr(spec), repr(echoed), repr(captures), str(refused.value))
    assert_secret_absent(logs, "not-the-password", str(refused.value))
    assert password_sshd.count(f"Accepted password for {SUDO_PASSWORD_USER}") >= 1
