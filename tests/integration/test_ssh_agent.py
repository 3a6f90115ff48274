"""Keys from a real ssh-agent, and encrypted key files (a passphrase from the environment, or the agent's copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from tests.integration.conftest import SpecFactory
from tests.secret_leaks import assert_secret_absent, capture_all_logs
from tests.sshd_rig import ClientKey, SshdServer
from vrouter_preflight.errors import HostError, HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.identities import KEY_FILES
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


@pytest.fixture
def agent_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ssh-agent of this test's own, reachable through SSH_AUTH_SOCK."""
    socket_path = str(tmp_path / "agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", socket_path], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(socket_path):
                break
            subprocess.run(["sleep", "0.05"], check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", socket_path)
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/id_* keys to fall back on
        yield socket_path
    finally:
        agent.kill()
        agent.wait()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key_file", ["none", "encrypted, its clear copy in the agent"])
def test_key_from_the_agent_logs_in(
    key_file: str,
    agent_socket: str,
    client_key: ClientKey,
    make_spec: SpecFactory,
    open_ssh: OpenSsh,
    request: pytest.FixtureRequest,
) -> None:
    identity = None if key_file == "none" else request.getfixturevalue("encrypted_key")
    subprocess.run(["ssh-add", "-q", client_key.private], check=True, env=dict(os.environ))
    transport = open_ssh(make_spec(identity_file=identity))
    assert transport.run("echo via-agent").stdout == "via-agent\n"


@pytest.mark.timeout(60)
def test_empty_agent_and_no_key_file_is_a_clear_auth_error(
    agent_socket: str, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    transport = open_ssh(make_spec(identity_file=None))
    with pytest.raises(HostUnreachable, match="authentication refused for user root") as caught:
        transport.run("true")
    assert "agent" in str(caught.value)


# ---------------------------------------------------------------------- encrypted key files

KEY_PASSPHRASE = "Vrpf-pass-Qx72Lm"
PASSPHRASE_ENV = "VRPF_TEST_KEY_PASSPHRASE"


@dataclass(frozen=True)
class PassphraseSpec(HostSpec):
    """A HostSpec with the ``identity_passphrase_env`` key another change adds to the inventory."""

    identity_passphrase_env: str | None = None


def _with_passphrase_env(spec: HostSpec, env_name: str) -> PassphraseSpec:
    values = {f.name: getattr(spec, f.name) for f in fields(spec)}
    values["identity_passphrase_env"] = env_name
    return PassphraseSpec(**values)


@pytest.fixture
def encrypted_key(client_key: ClientKey, tmp_path: Path) -> str:
    """The client key, encrypted with KEY_PASSPHRASE (OpenSSH format, bcrypt KDF) in a file of its own."""
    path = tmp_path / "id_encrypted"
    shutil.copy(client_key.private, path)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", KEY_PASSPHRASE, "-f", str(path)], check=True)
    return str(path)


@pytest.fixture
def passphrase_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything, paramiko's debug output included."""
    return capture_all_logs(caplog)


@pytest.mark.timeout(60)
def test_the_agent_copy_is_used_even_with_identities_only(
    agent_socket: str,
    client_key: ClientKey,
    encrypted_key: str,
    sshd: SshdServer,
    known_hosts: str,
    tmp_path: Path,
    open_ssh: OpenSsh,
) -> None:
    subprocess.run(["ssh-add", "-q", client_key.private], check=True, env=dict(os.environ))
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host c0\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n"
        f"  IdentityFile {encrypted_key}\n  IdentitiesOnly yes\n"
    )
    transport = open_ssh(HostSpec(name="c0", ssh_config=str(config), known_hosts=known_hosts, connect_timeout=5.0))
    assert transport.run("echo only-that-identity").stdout == "only-that-identity\n"


@pytest.mark.timeout(60)
def test_an_encrypted_key_without_passphrase_or_agent_says_what_to_do(
    agent_socket: str, encrypted_key: str, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    transport = open_ssh(make_spec(identity_file=encrypted_key))
    with pytest.raises(HostUnreachable) as caught:
        transport.run("true")
    assert caught.value.cause == (
        f"authentication refused for user root (tried: key file {encrypted_key} (encrypted: set "
        "identity_passphrase_env or load it into ssh-agent; no agent holds it); agent (none running or no keys))"
    )


@pytest.mark.timeout(60)
def test_the_passphrase_from_the_environment_opens_the_key_once_per_run_and_never_shows(
    agent_socket: str,
    encrypted_key: str,
    make_spec: SpecFactory,
    open_ssh: OpenSsh,
    monkeypatch: pytest.MonkeyPatch,
    passphrase_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, KEY_PASSPHRASE)
    spec = _with_passphrase_env(make_spec(identity_file=encrypted_key), PASSPHRASE_ENV)
    decoded_before = KEY_FILES.decoded
    outputs = [open_ssh(spec).run("echo with-passphrase").stdout for _ in range(3)]
    assert outputs == ["with-passphrase\n"] * 3
    assert KEY_FILES.decoded - decoded_before == 1  # one key derivation for three connections
    assert_secret_absent(passphrase_logs, KEY_PASSPHRASE)


@pytest.mark.timeout(60)
def test_a_wrong_passphrase_falls_through_to_the_agent_or_says_so(
    agent_socket: str,
    client_key: ClientKey,
    encrypted_key: str,
    make_spec: SpecFactory,
    open_ssh: OpenSsh,
    monkeypatch: pytest.MonkeyPatch,
    passphrase_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "not-" + KEY_PASSPHRASE)
    spec = _with_passphrase_env(make_spec(identity_file=encrypted_key), PASSPHRASE_ENV)
    with pytest.raises(HostUnreachable) as caught:
        open_ssh(spec).run("true")
    assert f"key file {encrypted_key} (encrypted: the passphrase from identity_passphrase_env does not open it" in (
        caught.value.cause
    )
    subprocess.run(["ssh-add", "-q", client_key.private], check=True, env=dict(os.environ))
    assert open_ssh(spec).run("echo agent-after-all").stdout == "agent-after-all\n"
    assert_secret_absent(passphrase_logs, KEY_PASSPHRASE, str(caught.value))


@pytest.mark.timeout(30)
def test_an_unset_passphrase_variable_is_named_before_connecting(
    encrypted_key: str, make_spec: SpecFactory, open_ssh: OpenSsh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    transport = open_ssh(_with_passphrase_env(make_spec(identity_file=encrypted_key), PASSPHRASE_ENV))
    with pytest.raises(HostError) as caught:
        transport.run("true")
    assert caught.value.cause == f"identity_passphrase_env names {PASSPHRASE_ENV}, which is not set in the environment"
    assert transport.connections_opened == 0
