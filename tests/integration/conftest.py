"""Fixtures for integration tests against real OpenSSH sshd servers on 127.0.0.1.

Session-wide: one lab directory (mode 0755, so the sudo test users can read
the shared authorized_keys), one client key, the main sshd, a second sshd used
as a ProxyJump bastion, and the sudo test users. Tests that stop or re-key a
server get their own ``private_sshd``.

These tests need root (sshd on /run/sshd, useradd, sudoers); they fail with a
clear message otherwise, they never skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.kernel_pools import two_runtime_1g_pages_on_node0
from tests.sshd_rig import (
    ClientKey,
    SshdServer,
    ensure_sudo_users,
    generate_client_key,
    make_shared_dir,
    remove_sudoers_dropin,
)
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

#: The sudo password of vrpf-sudopw; distinctive so a leak is easy to grep for.
SUDO_TEST_PASSWORD = "Vrpf-s3cret-Zq81xPw"
SUDO_PASSWORD_ENV = "VRPF_TEST_SUDO_PASSWORD"


def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("SSH integration tests must run as root (they start sshd and create test users)", pytrace=False)
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.fail("/usr/sbin/sshd is missing: apt-get install openssh-server", pytrace=False)


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[str]:
    """A 0755 temp dir holding keys, authorized_keys and the servers' dirs."""
    _require_root()
    path = make_shared_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def authorized_keys(ssh_lab: str) -> str:
    """The one authorized_keys file every test sshd reads, for every user."""
    path = os.path.join(ssh_lab, "authorized_keys")
    open(path, "a").close()
    os.chmod(path, 0o644)
    return path


@pytest.fixture(scope="session")
def client_key(ssh_lab: str, authorized_keys: str) -> ClientKey:
    """The ed25519 key the tests log in with (authorized on every test sshd)."""
    key = generate_client_key(os.path.join(ssh_lab, "id_ed25519"))
    with open(authorized_keys, "a", encoding="utf-8") as handle:
        handle.write(key.public_line + "\n")
    return key


@pytest.fixture(scope="session")
def stranger_key(ssh_lab: str) -> ClientKey:
    """A key that no sshd authorizes."""
    return generate_client_key(os.path.join(ssh_lab, "id_stranger"))


def _server(ssh_lab: str, authorized_keys: str, name: str) -> SshdServer:
    return SshdServer(os.path.join(ssh_lab, name), authorized_keys=authorized_keys)


@pytest.fixture(scope="session")
def sshd(ssh_lab: str, authorized_keys: str, client_key: ClientKey) -> Iterator[SshdServer]:
    """The main target sshd, shared by the session (do not stop it in a test)."""
    server = _server(ssh_lab, authorized_keys, "sshd-main").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bastion(ssh_lab: str, authorized_keys: str, client_key: ClientKey) -> Iterator[SshdServer]:
    """A second sshd used as the ProxyJump bastion."""
    server = _server(ssh_lab, authorized_keys, "sshd-bastion").start()
    yield server
    server.stop()


@pytest.fixture
def private_sshd(ssh_lab: str, authorized_keys: str, client_key: ClientKey, request: Any) -> Iterator[SshdServer]:
    """An sshd of this test's own, which the test may stop, restart or re-key."""
    server = _server(ssh_lab, authorized_keys, f"sshd-{request.node.name[:40]}").start()
    yield server
    server.cleanup()


@pytest.fixture
def known_hosts(tmp_path: Any, sshd: SshdServer, bastion: SshdServer) -> str:
    """A known_hosts file that knows the main sshd and the bastion."""
    path = str(tmp_path / "known_hosts")
    sshd.write_known_hosts(path)
    bastion.write_known_hosts(path)
    return path


SpecFactory = Callable[..., HostSpec]


@pytest.fixture
def make_spec(sshd: SshdServer, client_key: ClientKey, known_hosts: str) -> SpecFactory:
    """Build a HostSpec for the main sshd as root; keyword arguments override fields."""

    def build(**overrides: Any) -> HostSpec:
        spec = HostSpec(
            name="compute-test",
            address="127.0.0.1",
            port=sshd.port,
            user="root",
            identity_file=client_key.private,
            known_hosts=known_hosts,
            ssh_config=os.devnull,
            connect_timeout=5.0,
            command_timeout=30.0,
        )
        return replace(spec, **overrides)

    return build


@pytest.fixture
def open_ssh() -> Iterator[Callable[[HostSpec], SshTransport]]:
    """Create SshTransports that are closed at the end of the test."""
    made: list[SshTransport] = []

    def factory(spec: HostSpec) -> SshTransport:
        transport = SshTransport(spec)
        made.append(transport)
        return transport

    yield factory
    for transport in made:
        transport.close()


@pytest.fixture(scope="session")
def sudo_users(sshd: SshdServer) -> Iterator[tuple[str, str]]:
    """``(vrpf-sudo, vrpf-sudopw)``: non-root users with NOPASSWD sudo and with password sudo."""
    _require_root()
    users = ensure_sudo_users(SUDO_TEST_PASSWORD)
    yield users
    remove_sudoers_dropin()


@pytest.fixture
def sudo_password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the test sudo password into the environment; returns the variable's name."""
    monkeypatch.setenv(SUDO_PASSWORD_ENV, SUDO_TEST_PASSWORD)
    return SUDO_PASSWORD_ENV


@pytest.fixture
def two_1g_pages() -> Iterator[int]:
    """Two runtime 1G pages on node 0, held with the kernel lock for the test (kernel tests only)."""
    with two_runtime_1g_pages_on_node0() as got:
        yield got
