"""Keys from a real ssh-agent, when the inventory names no key file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import ClientKey
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec
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
def test_key_from_the_agent_logs_in(
    agent_socket: str, client_key: ClientKey, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    subprocess.run(["ssh-add", "-q", client_key.private], check=True, env=dict(os.environ))
    transport = open_ssh(make_spec(identity_file=None))
    assert transport.run("echo via-agent").stdout == "via-agent\n"


@pytest.mark.timeout(60)
def test_empty_agent_and_no_key_file_is_a_clear_auth_error(
    agent_socket: str, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    transport = open_ssh(make_spec(identity_file=None))
    with pytest.raises(HostUnreachable, match="authentication refused for user root") as caught:
        transport.run("true")
    assert "agent" in str(caught.value)
