"""SshTransport against a real sshd: commands, one connection, one exec for capture, big output, timeouts."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import SshdServer
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.errors import CommandTimeout
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


@pytest.mark.timeout(60)
def test_run_returns_rc_stdout_stderr(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    result = transport.run("echo out; echo err >&2; exit 3")
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.command == "echo out; echo err >&2; exit 3"
    assert not result.succeeded


@pytest.mark.timeout(60)
def test_connection_is_lazy_and_reused(make_spec: SpecFactory, open_ssh: OpenSsh, sshd: SshdServer) -> None:
    accepted = sshd.count("Accepted publickey")
    transport = open_ssh(make_spec())
    assert not transport.connected
    assert sshd.count("Accepted publickey") == accepted
    for i in range(5):
        assert transport.run(f"echo {i}").stdout == f"{i}\n"
    assert transport.connections_opened == 1
    assert _eventually(lambda: sshd.count("Accepted publickey") == accepted + 1)
    transport.close()
    transport.close()
    assert not transport.connected


@pytest.mark.timeout(60)
def test_socket_has_tcp_nodelay(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    transport.run("true")
    sock = transport.paramiko_transport.sock
    assert isinstance(sock, socket.socket)
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.timeout(60)
def test_capture_reads_every_fact_in_one_exec(make_spec: SpecFactory, open_ssh: OpenSsh, sshd: SshdServer) -> None:
    transport = open_ssh(make_spec())
    transport.run("true")
    assert _eventually(lambda: _sessions(sshd) > 0)
    before = _sessions(sshd)
    captures = transport.capture(FACT_SOURCES)
    assert _eventually(lambda: _sessions(sshd) == before + 1)
    with open("/proc/buddyinfo", encoding="utf-8") as handle:
        local = handle.read()
    assert captures["/proc/buddyinfo"].ok
    # Free-page counts move between reads; the zone layout does not.
    assert _zones(captures["/proc/buddyinfo"].text) == _zones(local)
    assert captures["/proc/pagetypeinfo"].ok  # root: readable
    assert captures["getconf:PAGESIZE"].text.strip().isdigit()
    assert transport.connections_opened == 1


@pytest.mark.timeout(120)
def test_large_stdout_and_stderr_do_not_deadlock(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    size = 5 * 1024 * 1024
    # stdout first, then stderr, then stdout again: a reader draining one stream at a time would stall.
    script = (
        f"head -c {size} /dev/zero | tr '\\0' o; head -c 60000 /dev/zero | tr '\\0' e >&2; "
        f"head -c {size} /dev/zero | tr '\\0' o; echo done >&2"
    )
    result = transport.run(script, timeout=90)
    assert result.rc == 0
    assert len(result.stdout) == 2 * size
    assert set(result.stdout) == {"o"}
    assert len(result.stderr) == 60000 + 5
    assert result.stderr.endswith("done\n")


@pytest.mark.timeout(60)
def test_interleaved_large_output(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    script = "i=0; while [ $i -lt 200 ]; do head -c 300 /dev/zero >&2; head -c 40000 /dev/zero; i=$((i+1)); done"
    result = transport.run(script, timeout=50)
    assert (len(result.stdout), len(result.stderr)) == (8_000_000, 60_000)


@pytest.mark.timeout(30)
def test_hanging_command_times_out(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    transport.run("true")
    started = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"timed out after 1s: sleep 30.5") as caught:
        transport.run("sleep 30.5", timeout=1)
    assert 0.9 < time.monotonic() - started < 3
    assert "Traceback" not in str(caught.value)
    # The connection is still usable afterwards.
    assert transport.run("echo still here").stdout == "still here\n"
    # The host ends the abandoned command itself (its `timeout`, 2 s after the client gave up).
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", "sleep 30.5"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "the timed-out command is still running on the host"
        time.sleep(0.2)


@pytest.mark.timeout(30)
def test_default_timeout_is_command_timeout(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec(command_timeout=1.0))
    with pytest.raises(CommandTimeout):
        transport.run("sleep 20")


@pytest.mark.timeout(60)
def test_concurrent_runs_share_one_connection(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    from concurrent.futures import ThreadPoolExecutor

    transport = open_ssh(make_spec())
    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(lambda i: transport.run(f"echo {i}").stdout, range(32)))
    assert outs == [f"{i}\n" for i in range(32)]
    assert transport.connections_opened == 1


def _sessions(server: SshdServer) -> int:
    return server.count("Starting session: command")


def _zones(buddyinfo: str) -> list[str]:
    return [" ".join(line.split()[:4]) for line in buddyinfo.splitlines()]


def _eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
