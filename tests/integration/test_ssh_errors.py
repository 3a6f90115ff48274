"""Connection failures become ONE HostUnreachable with an operator-readable cause."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import ClientKey, SshdServer, fido_public_key
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


def _unreachable(transport: SshTransport) -> HostUnreachable:
    with pytest.raises(HostUnreachable) as caught:
        transport.run("true")
    error = caught.value
    assert "Traceback" not in str(error)
    assert error.__cause__ is None
    return error


@pytest.mark.timeout(60)
def test_closed_port_is_connection_refused(
    private_sshd: SshdServer, make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: object
) -> None:
    spec = make_spec(port=private_sshd.port)
    private_sshd.stop()
    started = time.monotonic()
    error = _unreachable(open_ssh(spec))
    assert spec.connect_timeout is not None and time.monotonic() - started < spec.connect_timeout
    assert error.cause == "connection refused"
    assert str(error) == f"compute-test (127.0.0.1:{private_sshd.port}): connection refused"


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A loopback port whose accept queue is full, so further SYNs are dropped (connect hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port: int = server.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    yield port
    filler.close()
    server.close()


@pytest.mark.timeout(30)
def test_connect_timeout(blackhole_port: int, make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    spec = make_spec(port=blackhole_port, connect_timeout=2.0)
    started = time.monotonic()
    error = _unreachable(open_ssh(spec))
    elapsed = time.monotonic() - started
    assert error.cause == "connection timed out after 2s"
    assert 1.8 < elapsed < 3.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP but never sends an SSH banner."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.timeout(30)
def test_no_ssh_banner(silent_port: int, make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    spec = make_spec(port=silent_port, connect_timeout=1.5)
    started = time.monotonic()
    error = _unreachable(open_ssh(spec))
    assert time.monotonic() - started < 3.5
    assert error.cause == "no SSH banner within 1.5s (not an SSH server, or sshd too busy: see its MaxStartups)"


@pytest.mark.timeout(30)
def test_unresolvable_name(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    error = _unreachable(open_ssh(make_spec(address="no-such-host.invalid", port=22)))
    assert error.cause.startswith("cannot resolve host name no-such-host.invalid"), error.cause


@pytest.mark.timeout(30)
def test_unknown_host_key_strict_writes_nothing(
    make_spec: SpecFactory, open_ssh: OpenSsh, sshd: SshdServer, tmp_path: object
) -> None:
    path = os.path.join(str(tmp_path), "empty_known_hosts")
    open(path, "w").close()
    error = _unreachable(open_ssh(make_spec(known_hosts=path)))
    assert error.cause == (
        f"host key for [127.0.0.1]:{sshd.port} is not in {path} (host_key_policy: strict); verify it and add it "
        f"with ssh-keygen, e.g. ssh-keyscan -p PORT HOST >> {path}, or set host_key_policy: accept-new"
    )
    assert os.path.getsize(path) == 0


@pytest.mark.timeout(30)
def test_missing_known_hosts_file_strict(make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "nope", "known_hosts")
    error = _unreachable(open_ssh(make_spec(known_hosts=path)))
    assert "is not in" in error.cause
    assert not os.path.exists(path)


def _other_hosts_lines(kind: str, sshd: SshdServer) -> str:
    if kind == "comments and a bad key":
        return "# comment\n\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ+garbage+ignored\n"
    key = " ".join(sshd.known_hosts_line().split()[1:])
    skipped_by_openssh = (
        f"fido.lab {fido_public_key()}",  # a type paramiko cannot load
        "this is not a known_hosts line",
        f"@cert-authority *.lab {key}",
        f"@someday-marker other.lab {key}",
        "broken.lab ssh-ed25519 AAAA!!!!",
    )
    return "\n".join(skipped_by_openssh) + "\n"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("kind", "hashed"), [("comments and a bad key", True), ("lines OpenSSH skips", False)])
def test_lines_for_other_hosts_never_break_this_one(
    kind: str, hashed: bool, make_spec: SpecFactory, open_ssh: OpenSsh, sshd: SshdServer, tmp_path: object
) -> None:
    path = os.path.join(str(tmp_path), "known_hosts")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_other_hosts_lines(kind, sshd))
    sshd.write_known_hosts(path, hashed=hashed)
    assert open_ssh(make_spec(known_hosts=path)).run("echo ok").stdout == "ok\n"


@pytest.mark.timeout(60)
def test_accept_new_then_changed_key_rejected(
    private_sshd: SshdServer, make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: object
) -> None:
    path = os.path.join(str(tmp_path), "sub", "known_hosts")
    spec = make_spec(port=private_sshd.port, known_hosts=path, host_key_policy="accept-new")
    assert open_ssh(spec).run("echo first").stdout == "first\n"
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == private_sshd.known_hosts_line() + "\n"
    # Known now: a second connection neither rewrites nor duplicates.
    assert open_ssh(spec).run("echo again").stdout == "again\n"
    with open(path, encoding="utf-8") as handle:
        assert handle.read().count("\n") == 1

    private_sshd.restart(new_host_key=True)
    error = _unreachable(open_ssh(spec))
    assert error.cause.startswith(
        f"host key for [127.0.0.1]:{private_sshd.port} has CHANGED (known_hosts {path} line 1) — possible "
        "man-in-the-middle"
    ), error.cause
    with open(path, encoding="utf-8") as handle:
        assert handle.read() != private_sshd.known_hosts_line() + "\n"

    strict = make_spec(port=private_sshd.port, known_hosts=path)
    assert "has CHANGED" in _unreachable(open_ssh(strict)).cause


@pytest.mark.timeout(30)
def test_wrong_user_key_is_authentication_refused(
    make_spec: SpecFactory, open_ssh: OpenSsh, stranger_key: ClientKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    error = _unreachable(open_ssh(make_spec(identity_file=stranger_key.private)))
    assert error.cause == (
        f"authentication refused for user root (tried: key file {stranger_key.private}; "
        "agent (none running or no keys))"
    )


@pytest.mark.timeout(30)
def test_missing_identity_file_is_named(make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: object) -> None:
    missing = os.path.join(str(tmp_path), "id_missing")
    error = _unreachable(open_ssh(make_spec(identity_file=missing)))
    assert f"key file {missing} (missing)" in error.cause


@pytest.mark.timeout(30)
def test_missing_ssh_config_file(make_spec: SpecFactory, open_ssh: OpenSsh, tmp_path: object) -> None:
    missing = os.path.join(str(tmp_path), "ssh_config")
    error = _unreachable(open_ssh(make_spec(ssh_config=missing)))
    assert error.cause == f"ssh_config file {missing} does not exist"


@pytest.mark.timeout(30)
def test_a_revoked_key_for_this_host_is_refused(
    make_spec: SpecFactory, open_ssh: OpenSsh, sshd: SshdServer, tmp_path: object
) -> None:
    path = os.path.join(str(tmp_path), "known_hosts")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"fido.lab {fido_public_key()}\n@revoked {sshd.known_hosts_line()}\n")
    sshd.write_known_hosts(path)
    error = _unreachable(open_ssh(make_spec(known_hosts=path, host_key_policy="accept-new")))
    assert error.cause == (
        f"host key for [127.0.0.1]:{sshd.port} is marked @revoked in {path} line 2; refusing to connect"
    )
