"""ProxyJump (one hop and a chain) and ProxyCommand against real sshd servers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import ClientKey, SshdServer
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec, JumpHost
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


def _accepted(server: SshdServer) -> int:
    return server.count("Accepted publickey")


def _wait_count(server: SshdServer, expected: int) -> int:
    deadline = time.monotonic() + 3
    while _accepted(server) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return _accepted(server)


@pytest.mark.timeout(60)
def test_proxy_jump_from_inventory(
    make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer, sshd: SshdServer
) -> None:
    before = _accepted(bastion)
    spec = make_spec(jump=(JumpHost("127.0.0.1", "root", bastion.port),))
    transport = open_ssh(spec)
    assert transport.run("echo via bastion").stdout == "via bastion\n"
    assert transport.run("echo again").stdout == "again\n"
    assert isinstance(transport.paramiko_transport.sock, paramiko.Channel)
    assert _wait_count(bastion, before + 1) == before + 1
    hops = transport.open_hops
    assert len(hops) == 2
    assert all(hop.is_active() for hop in hops)
    transport.close()
    transport.close()
    assert not transport.connected
    assert not any(hop.is_active() for hop in hops)
    assert transport.open_hops == ()


@pytest.mark.timeout(60)
def test_targets_behind_one_bastion_share_one_bastion_login(
    make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer, sshd: SshdServer
) -> None:
    before = _accepted(bastion)
    hop = JumpHost("127.0.0.1", "root", bastion.port)
    first, second = (open_ssh(make_spec(name=name, jump=(hop,))) for name in ("c-a", "c-b"))
    assert first.run("echo a").stdout == "a\n"
    assert second.run("echo b").stdout == "b\n"
    assert _wait_count(bastion, before + 1) == before + 1  # one login to the bastion, for both targets
    shared = first.open_hops[0]
    assert second.open_hops[0] is shared
    first.close()
    assert shared.is_active() and second.run("echo still").stdout == "still\n"  # the other target keeps it
    second.close()
    assert not shared.is_active()  # its last target let it go
    third = open_ssh(make_spec(name="c-c", jump=(hop,)))
    assert third.run("echo c").stdout == "c\n"
    assert _wait_count(bastion, before + 2) == before + 2  # a new login once the old one was closed
    third.close()


@pytest.mark.timeout(60)
def test_many_targets_at_once_behind_one_bastion_make_one_login(
    make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer
) -> None:
    before = _accepted(bastion)
    hop = JumpHost("127.0.0.1", "root", bastion.port)
    transports = [open_ssh(make_spec(name=f"c-{i}", jump=(hop,))) for i in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        outputs = list(pool.map(lambda t: t.run("echo ok").stdout, transports))
    assert outputs == ["ok\n"] * 12
    assert _wait_count(bastion, before + 1) == before + 1
    for transport in transports:
        transport.close()


@pytest.mark.timeout(60)
def test_a_shared_bastion_that_died_is_replaced_for_the_next_target(
    make_spec: SpecFactory, open_ssh: OpenSsh, private_sshd: SshdServer
) -> None:
    private_sshd.write_known_hosts(make_spec().known_hosts or "")
    hop = JumpHost("127.0.0.1", "root", private_sshd.port)
    first = open_ssh(make_spec(name="c-a", jump=(hop,)))
    assert first.run("echo a").stdout == "a\n"
    stale = first.open_hops[0]
    assert private_sshd.kill_sessions() >= 1  # the bastion's side of the shared connection dies
    second = open_ssh(make_spec(name="c-b", jump=(hop,)))
    assert second.run("echo b").stdout == "b\n"
    assert second.open_hops[0] is not stale
    assert first.run("echo a again").stdout == "a again\n"  # the first target reconnects on its own
    assert private_sshd.count("Accepted publickey") == 2  # its reconnect shares the new bastion login


@pytest.mark.timeout(60)
def test_two_hop_chain(make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer) -> None:
    before = _accepted(bastion)
    hop = JumpHost("127.0.0.1", "root", bastion.port)
    transport = open_ssh(make_spec(jump=(hop, hop)))
    assert transport.run("echo two hops").stdout == "two hops\n"
    assert _wait_count(bastion, before + 2) == before + 2


def _write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return str(path)


@pytest.mark.timeout(60)
def test_ssh_config_aliases_with_proxy_jump_chain(
    tmp_path: Path,
    known_hosts: str,
    client_key: ClientKey,
    sshd: SshdServer,
    bastion: SshdServer,
    open_ssh: OpenSsh,
) -> None:
    config = _write_config(
        tmp_path,
        f"""
Host compute-alias
    HostName 127.0.0.1
    Port {sshd.port}
    User root
    IdentityFile {client_key.private}
    ProxyJump bastion-alias,root@bastion-alias

Host bastion-alias
    HostName 127.0.0.1
    Port {bastion.port}
    User root
    IdentityFile {client_key.private}
""",
    )
    before = _accepted(bastion)
    spec = HostSpec(name="compute-alias", ssh_config=config, known_hosts=known_hosts, connect_timeout=5.0)
    transport = open_ssh(spec)
    assert transport.run("echo aliases").stdout == "aliases\n"
    assert _wait_count(bastion, before + 2) == before + 2


@pytest.mark.timeout(60)
def test_jump_host_failure_names_the_hop(
    make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer, tmp_path: Path
) -> None:
    only_target = str(tmp_path / "known_hosts")
    # The target is known, the bastion is not: strict must stop at the bastion.
    with open(only_target, "w", encoding="utf-8") as handle:
        handle.write("")
    spec = make_spec(jump=(JumpHost("127.0.0.1", "stack", bastion.port),), known_hosts=only_target)
    with pytest.raises(HostUnreachable) as caught:
        open_ssh(spec).run("true")
    assert caught.value.cause.startswith(
        f"jump host stack@127.0.0.1:{bastion.port}: host key for [127.0.0.1]:{bastion.port} is not in"
    ), caught.value.cause


@pytest.mark.timeout(60)
def test_jump_host_cannot_reach_target(make_spec: SpecFactory, open_ssh: OpenSsh, bastion: SshdServer) -> None:
    spec = make_spec(port=1, jump=(JumpHost("127.0.0.1", "root", bastion.port),))
    with pytest.raises(HostUnreachable) as caught:
        open_ssh(spec).run("true")
    assert caught.value.cause == "the jump host cannot reach 127.0.0.1:1 (connect failed)"


@pytest.mark.timeout(60)
def test_jump_host_refused(make_spec: SpecFactory, open_ssh: OpenSsh, private_sshd: SshdServer) -> None:
    port = private_sshd.port
    private_sshd.stop()
    spec = make_spec(jump=(JumpHost("127.0.0.1", "stack", port),))
    with pytest.raises(HostUnreachable) as caught:
        open_ssh(spec).run("true")
    assert caught.value.cause == f"jump host stack@127.0.0.1:{port}: connection refused"


# Relays stdin/stdout to a TCP port: a stand-in for `nc HOST PORT` (not installed here).
_RELAY = (
    "import os,socket,sys,threading;"
    "s=socket.create_connection((sys.argv[1],int(sys.argv[2])));"
    "threading.Thread(target=lambda:[s.sendall(b) for b in iter(lambda:os.read(0,65536),b'')],daemon=True).start();"
    "[os.write(1,b) for b in iter(lambda:s.recv(65536),b'')]"
)


@pytest.mark.timeout(60)
def test_proxy_command_from_ssh_config(
    tmp_path: Path, known_hosts: str, client_key: ClientKey, sshd: SshdServer, open_ssh: OpenSsh
) -> None:
    relay = tmp_path / "relay.py"
    relay.write_text(_RELAY)
    config = _write_config(
        tmp_path,
        f"""
Host proxied
    HostName 127.0.0.1
    Port {sshd.port}
    User root
    IdentityFile {client_key.private}
    ProxyCommand {sys.executable} {relay} %h %p
""",
    )
    spec = HostSpec(name="proxied", ssh_config=config, known_hosts=known_hosts, connect_timeout=5.0)
    transport = open_ssh(spec)
    assert transport.run("echo proxied").stdout == "proxied\n"
    assert isinstance(transport.paramiko_transport.sock, paramiko.ProxyCommand)
    proxy = transport.paramiko_transport.sock
    transport.close()
    assert proxy.process.wait(timeout=5) is not None  # close() ended the ProxyCommand
