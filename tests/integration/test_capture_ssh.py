"""The capture over a real sshd: compressed or plain, the same facts; a host that answers garbage says so."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from tests.capture_shells import run_capture
from tests.integration.conftest import SpecFactory
from tests.sshd_rig import SshdServer
from vrouter_preflight.capture import (
    FACT_SOURCES,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)
from vrouter_preflight.gather import gather_host
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.pool import TransportPool
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]
STABLE = ("/proc/cmdline", "/proc/mounts", "/etc/os-release", "getconf:PAGESIZE", "hugetlbfs:tables")


@pytest.mark.timeout(60)
def test_compressed_and_plain_answers_over_ssh_give_this_machines_facts(
    make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    transport = open_ssh(make_spec())
    local, _ = run_capture("dash", FACT_SOURCES)
    for compress_above in (0, 1 << 40):
        boundary = new_boundary()
        answer = transport.run(build_capture_script(FACT_SOURCES, boundary, compress_above=compress_above)).stdout
        assert answer.startswith("H4sI" if compress_above == 0 else boundary)
        captures = read_capture_answer(answer, boundary)
        assert list(captures) == list(local)
        assert {path: c.status for path, c in captures.items()} == {path: c.status for path, c in local.items()}
        assert all(captures[path] == local[path] for path in STABLE)
    assert transport.connections_opened == 1


@pytest.fixture
def garbage_sshd(ssh_lab: str, authorized_keys: str, client_key: object) -> Iterator[SshdServer]:
    """An sshd that answers every command with 300 KB of text and no capture in it."""
    server = SshdServer(
        os.path.join(ssh_lab, "sshd-garbage"),
        authorized_keys=authorized_keys,
        extra_config="ForceCommand head -c 307200 /dev/zero | tr '\\000' '#'\n",
    ).start()
    yield server
    server.cleanup()


@pytest.mark.timeout(60)
def test_a_host_answering_garbage_is_one_error_that_says_what_came_back(
    make_spec: SpecFactory, garbage_sshd: SshdServer, tmp_path: object
) -> None:
    known_hosts = os.path.join(str(tmp_path), "known_hosts")
    garbage_sshd.write_known_hosts(known_hosts)
    spec = replace(make_spec(), name="compute-garbage", port=garbage_sshd.port, known_hosts=known_hosts)
    pool = TransportPool()
    try:
        result = gather_host(spec, pool, [FactSource("/proc/cmdline")])
    finally:
        pool.close_all()
    assert not result.reached and result.error is not None
    message = str(result.error)
    assert message.startswith(f"compute-garbage (127.0.0.1:{garbage_sshd.port}): fact gathering answered 300 KiB")
    assert "without the capture's boundary markers" in message and "first bytes: '#####" in message
    assert "printed nothing" not in message and "unexpected" not in message
