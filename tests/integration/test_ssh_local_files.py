"""Bad values and bad local files at their point of use: one clear error each, at once, nothing run.

Host and user names reach a local shell through an ssh_config ProxyCommand
(``%h``, ``%r``); key files, known_hosts and ssh_config may be a directory, a
FIFO (opening it would block), ``/dev/zero`` (endless) or huge.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import ClientKey, SshdServer
from vrouter_preflight.errors import HostError, HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]

# Relays stdin/stdout to a TCP port: a stand-in for `nc HOST PORT` (not installed here).
_RELAY = (
    "import os,socket,sys,threading;"
    "s=socket.create_connection((sys.argv[1],int(sys.argv[2])));"
    "threading.Thread(target=lambda:[s.sendall(b) for b in iter(lambda:os.read(0,65536),b'')],daemon=True).start();"
    "[os.write(1,b) for b in iter(lambda:s.recv(65536),b'')]"
)


def _shell_proxy_config(tmp_path: Path, sshd: SshdServer, key: ClientKey) -> str:
    """An ssh_config whose ProxyCommand runs through a shell, as OpenSSH runs every ProxyCommand."""
    relay = tmp_path / "relay.py"
    relay.write_text(_RELAY)
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host *\n    IdentityFile {key.private}\n"
        f"    ProxyCommand sh -c 'echo %r@%h >> {tmp_path}/proxied; exec {sys.executable} {relay} 127.0.0.1 %p'\n"
    )
    return str(config)


@pytest.mark.timeout(60)
def test_a_safe_name_goes_through_the_shell_proxy_command(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, open_ssh: OpenSsh
) -> None:
    config = _shell_proxy_config(tmp_path, sshd, client_key)
    with open(known_hosts, "a", encoding="utf-8") as handle:  # the key under the name the proxy hides
        handle.write(f"[compute-0.lab]:{sshd.port} {' '.join(sshd.known_hosts_line().split()[1:])}\n")
    spec = HostSpec(
        name="c0", address="compute-0.lab", port=sshd.port, user="root", ssh_config=config, known_hosts=known_hosts
    )
    assert open_ssh(spec).run("echo via-shell-proxy").stdout == "via-shell-proxy\n"
    assert (tmp_path / "proxied").read_text() == "root@compute-0.lab\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        (
            "address",
            "$(touch${IFS}pwned)",
            "address '$(touch${IFS}pwned)' is refused: it contains the shell metacharacter '$'",
        ),
        ("address", "c0`touch pwned`", "address 'c0`touch pwned`' is refused: it contains the shell metacharacter '`'"),
        ("user", "root;touch pwned", "user 'root;touch pwned' is refused: it contains the shell metacharacter ';'"),
        ("user", "x|touch pwned", "user 'x|touch pwned' is refused: it contains the shell metacharacter '|'"),
    ],
)
def test_shell_metacharacters_never_reach_the_proxy_command(
    field: str,
    value: str,
    why: str,
    tmp_path: Path,
    sshd: SshdServer,
    client_key: ClientKey,
    known_hosts: str,
    open_ssh: OpenSsh,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # where `touch pwned` would land
    config = _shell_proxy_config(tmp_path, sshd, client_key)
    address = value if field == "address" else "127.0.0.1"
    user = value if field == "user" else "root"
    spec = HostSpec(name="c0", address=address, user=user, port=sshd.port, ssh_config=config, known_hosts=known_hosts)
    transport = open_ssh(spec)
    with pytest.raises(HostError) as caught:
        transport.run("true")
    assert not isinstance(caught.value, HostUnreachable)
    assert caught.value.host == "c0" and caught.value.cause == why
    assert list(tmp_path.glob("pwned*")) == []
    assert not (tmp_path / "proxied").exists(), "the ProxyCommand must not even start"


@pytest.mark.timeout(30)
def test_a_huge_address_is_refused_with_a_short_message(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    with pytest.raises(HostError) as caught:
        open_ssh(make_spec(address="a" * 200_000)).run("true")
    assert caught.value.cause.endswith("is refused: it is 200000 characters long (at most 255)")
    assert len(caught.value.cause) < 200


def _fifo(tmp_path: Path) -> str:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


def _sparse(tmp_path: Path, size: int) -> str:
    path = tmp_path / "huge"
    with open(path, "wb") as handle:
        handle.truncate(size)
    return str(path)


_BAD_FILES: dict[str, Callable[[Path], tuple[str, str]]] = {
    "directory": lambda tmp: (str(tmp), "is a directory, not a regular file"),
    "/dev/zero": lambda tmp: ("/dev/zero", "is a character device, not a regular file"),
    "FIFO": lambda tmp: (_fifo(tmp), "is a FIFO (named pipe), not a regular file"),
    "huge": lambda tmp: (_sparse(tmp, 100 << 20), "is 104857600 bytes, more than the"),
}


#: The inventory key each file is named by, and how a message names it.
_ROLES = {"identity_file": "key file", "known_hosts": "known_hosts", "ssh_config": "ssh_config file"}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("role", sorted(_ROLES))
@pytest.mark.parametrize("kind", sorted(_BAD_FILES))
def test_an_unusable_local_file_is_one_error_at_once(
    role: str, kind: str, tmp_path: Path, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    path, why = _BAD_FILES[kind](tmp_path)
    spec = make_spec(connect_timeout=3.0, host_key_policy="accept-new", **{role: path})
    started = time.monotonic()
    with pytest.raises(HostUnreachable) as caught:
        open_ssh(spec).run("true")
    assert time.monotonic() - started < 3.0  # the FIFO is never waited on
    assert caught.value.cause.startswith(f"{_ROLES[role]} {path} {why}"), caught.value.cause
