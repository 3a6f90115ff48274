"""What a target sends back is bounded: a flood on stdout or stderr is one error, read no further."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from tests.integration.conftest import SpecFactory
from tests.sshd_rig import ClientKey, SshdServer
from vrouter_preflight.capture import FILE_BYTE_LIMIT, Capture, FactSource
from vrouter_preflight.errors import CommandFailed, HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.local_files import human_size
from vrouter_preflight.transport.output_limits import MESSAGE_LIMIT, STDERR_LIMIT, STDOUT_LIMIT, OutputTooLarge
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


def _writer_gone(marker: str, within: float = 10.0) -> bool:
    """True once no process on this machine (the sshd's sessions included) has ``marker`` in its command line."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode == 1:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("stream", "limit"), [("stderr", STDERR_LIMIT), ("stdout", STDOUT_LIMIT)])
def test_an_endless_stream_is_cut_at_its_limit(
    stream: str, limit: int, make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    transport = open_ssh(make_spec())
    marker = f"vrpf-flood-{stream}-ssh"
    redirect = " >&2" if stream == "stderr" else ""
    started = time.monotonic()
    with pytest.raises(OutputTooLarge) as caught:
        transport.run(f"yes {marker}{redirect}", timeout=50)  # never ends by itself
    assert time.monotonic() - started < 20
    assert caught.value.cause == (
        f"output too large: more than {human_size(limit)} on {stream} ({limit + 1} bytes read when reading stopped) "
        f"while running: yes {marker}{redirect}"
    )
    assert _writer_gone(marker), "the flooding command must stop once its channel is closed"
    assert transport.run("echo still-usable").stdout == "still-usable\n"
    assert transport.connections_opened == 1


@pytest.mark.timeout(60)
def test_output_just_under_the_limits_is_kept_whole(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    result = transport.run(f"head -c {STDOUT_LIMIT} /dev/zero; head -c {STDERR_LIMIT} /dev/zero >&2", timeout=50)
    assert (len(result.stdout), len(result.stderr)) == (STDOUT_LIMIT, STDERR_LIMIT)


@pytest.mark.timeout(60)
def test_a_flooding_fact_source_is_cut_at_the_per_file_limit(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    captures = transport.capture([FactSource("/proc/version"), FactSource("flood", command="yes vrpf-capture-flood")])
    assert captures["flood"] == Capture("flood", "too-large", error=f"more than {FILE_BYTE_LIMIT} bytes")
    assert captures["/proc/version"].ok
    assert _writer_gone("vrpf-capture-flood")


@pytest.mark.timeout(60)
def test_a_failure_message_quotes_a_short_part_of_stderr(make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    transport = open_ssh(make_spec())
    with pytest.raises(CommandFailed) as caught:
        transport.run_checked("head -c 60000 /dev/zero | tr '\\0' x >&2; exit 2")
    cause = caught.value.cause
    assert len(cause) < MESSAGE_LIMIT + 200
    assert cause.endswith(f"… [{60000 - MESSAGE_LIMIT} more characters cut]"), cause[-80:]


@pytest.fixture
def garbage_sshd(ssh_lab: str, authorized_keys: str, client_key: ClientKey) -> Iterator[SshdServer]:
    """An sshd whose every session prints 300 KB of base64 garbage instead of running the command."""
    server = SshdServer(
        os.path.join(ssh_lab, "sshd-garbage"),
        authorized_keys=authorized_keys,
        extra_config="ForceCommand head -c 225000 /dev/urandom | base64 -w 0",
    ).start()
    yield server
    server.cleanup()


@pytest.mark.timeout(60)
def test_garbage_instead_of_facts_is_reported_with_its_size(
    garbage_sshd: SshdServer, make_spec: SpecFactory, open_ssh: OpenSsh, known_hosts: str
) -> None:
    garbage_sshd.write_known_hosts(known_hosts)
    transport = open_ssh(make_spec(port=garbage_sshd.port))
    with pytest.raises(HostError) as caught:
        transport.capture([FactSource("/proc/version")])
    assert caught.value.cause.startswith(
        "fact gathering answered 293 KiB without the capture's boundary markers (rc 0); first bytes: '"
    ), caught.value.cause
    assert len(caught.value.cause) < 300
