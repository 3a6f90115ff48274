"""A dropped connection is reopened once, transparently; a second drop is HostUnreachable."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import SshdServer
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]

# Kills the sshd process serving this very connection (the nearest sshd ancestor).
KILL_MY_SSHD = (
    "p=$PPID; while [ \"$(cat /proc/$p/comm)\" != sshd ]; do p=$(cut -d' ' -f4 /proc/$p/stat); done; "
    "kill -9 $p; sleep 5"
)


@pytest.mark.timeout(60)
def test_killed_server_session_is_reopened(
    private_sshd: SshdServer, make_spec: SpecFactory, open_ssh: OpenSsh, caplog: pytest.LogCaptureFixture
) -> None:
    private_sshd.write_known_hosts(make_spec().known_hosts or "")
    transport = open_ssh(make_spec(port=private_sshd.port))
    assert transport.run("echo one").stdout == "one\n"
    assert private_sshd.kill_sessions() > 0
    with caplog.at_level(logging.WARNING, logger="vrouter_preflight.transport.ssh"):
        assert transport.run("echo two").stdout == "two\n"
    assert transport.connections_opened == 2
    assert "reconnecting once" in caplog.text
    assert transport.run("echo three").stdout == "three\n"
    assert transport.connections_opened == 2


@pytest.mark.timeout(60)
def test_client_socket_closed_under_the_transport(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    assert transport.run("echo one").stdout == "one\n"
    transport.paramiko_transport.sock.close()
    assert transport.run("echo two").stdout == "two\n"
    assert transport.connections_opened == 2


@pytest.mark.timeout(60)
def test_drop_during_a_command_retries_it_once(make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: Path) -> None:
    marker = tmp_path / "dropped-once"
    transport = open_ssh(make_spec())
    script = f"if [ -e {marker} ]; then echo retried; else touch {marker}; {KILL_MY_SSHD}; fi"
    result = transport.run(script, timeout=20)
    assert result.stdout == "retried\n"
    assert transport.connections_opened == 2


@pytest.mark.timeout(60)
def test_second_drop_is_host_unreachable(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    with pytest.raises(HostUnreachable) as caught:
        transport.run(KILL_MY_SSHD, timeout=20)
    assert caught.value.cause.startswith("connection lost again after reconnecting once while running: p=$PPID")
    assert transport.connections_opened == 2
    # The transport is usable again afterwards.
    assert transport.run("echo back").stdout == "back\n"


@pytest.mark.timeout(60)
def test_server_gone_after_drop(private_sshd: SshdServer, make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    private_sshd.write_known_hosts(make_spec().known_hosts or "")
    transport = open_ssh(make_spec(port=private_sshd.port))
    assert transport.run("true").rc == 0
    private_sshd.stop()  # kills the sessions too: the port is closed
    with pytest.raises(HostUnreachable) as caught:
        transport.run("true")
    assert caught.value.cause == "connection refused"
    assert os.path.exists(private_sshd.log_path)


@pytest.mark.timeout(60)
def test_command_killed_by_signal_is_a_result_not_a_drop(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    result = transport.run("echo before; kill -9 $$")
    assert result.stdout == "before\n"
    assert result.rc != 0
    assert transport.connections_opened == 1
