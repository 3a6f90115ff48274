"""The local transport against this machine's real kernel."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import pytest

from vrouter_preflight.capture import FACT_SOURCES, FILE_BYTE_LIMIT, Capture, FactSource
from vrouter_preflight.errors import CommandTimeout
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.local import LocalTransport
from vrouter_preflight.transport.local_files import human_size
from vrouter_preflight.transport.output_limits import STDERR_LIMIT, STDOUT_LIMIT, OutputTooLarge


@pytest.fixture
def local() -> LocalTransport:
    return LocalTransport(HostSpec(name="this-machine", transport="local", command_timeout=20))


def test_facts_of_this_machine_parse_and_agree_with_other_sources(local: LocalTransport) -> None:
    facts = HostFacts("this-machine", local.capture(FACT_SOURCES))
    assert facts.parse_errors() == []
    assert facts.kernel_release == platform.release()
    assert facts.page_size == os.sysconf("SC_PAGE_SIZE")
    assert not facts.page_size_inferred
    node_dirs = sorted(int(p.name[4:]) for p in Path("/sys/devices/system/node").glob("node[0-9]*"))
    assert list(facts.numa_nodes) == node_dirs
    assert facts.meminfo is not None
    assert facts.meminfo.kib("MemTotal") == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024
    assert facts.buddyinfo is not None
    assert set(facts.buddyinfo.nodes) <= set(node_dirs)
    sizes = sorted(int(p.name.split("-")[1][:-2]) for p in Path("/sys/kernel/mm/hugepages").glob("hugepages-*"))
    assert sorted(facts.hugepages.sizes_kib) == sizes
    assert facts.cpu_flags is not None and len(facts.cpu_flags) > 0
    assert facts.os_release is not None and facts.os_release.id
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        first_flags = next(line for line in handle if line.startswith(("flags", "Features")))
    assert facts.cpu_flags == frozenset(first_flags.split(":", 1)[1].split())


def test_absent_files_are_absent_not_zero(local: LocalTransport) -> None:
    facts = HostFacts("this-machine", local.capture(FACT_SOURCES))
    if not Path("/sys/module/vrouter").exists():
        assert facts.vrouter_version is None
        assert facts.vrouter_parameters == {}
        assert "/sys/module/vrouter/version" in {u.path for u in facts.unavailable}


def test_a_hanging_command_is_killed_at_its_timeout(local: LocalTransport) -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"this-machine.*timed out after 0.5s"):
        local.run("sleep 47.25; echo never", timeout=0.5)
    assert time.monotonic() - started < 5
    leftover = subprocess.run(["pgrep", "-f", "sleep 47.25"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "the timed-out command's process group must be killed"


def test_large_stdout_and_stderr_do_not_deadlock(local: LocalTransport) -> None:
    size = 5_000_000
    script = f"head -c 60000 /dev/zero | tr '\\0' b >&2; head -c {size} /dev/zero | tr '\\0' a; echo b >&2; exit 3"
    result = local.run(script, timeout=30)
    assert (result.rc, len(result.stdout), len(result.stderr)) == (3, size, 60002)
    assert set(result.stdout) == {"a"} and set(result.stderr) == {"b", "\n"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("stream", "limit"), [("stderr", STDERR_LIMIT), ("stdout", STDOUT_LIMIT)])
def test_an_endless_stream_is_cut_at_its_limit_and_killed(local: LocalTransport, stream: str, limit: int) -> None:
    marker = f"vrpf-flood-{stream}-local"
    redirect = " >&2" if stream == "stderr" else ""
    with pytest.raises(OutputTooLarge) as caught:
        local.run(f"yes {marker}{redirect}", timeout=50)  # never ends by itself
    assert caught.value.cause == (
        f"output too large: more than {human_size(limit)} on {stream} ({limit + 1} bytes read when reading stopped) "
        f"while running: yes {marker}{redirect}"
    )
    leftover = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "the flooding command's process group must be killed"


def test_a_flooding_fact_source_is_cut_at_the_per_file_limit(local: LocalTransport) -> None:
    captures = local.capture([FactSource("/proc/version"), FactSource("flood", command="yes vrpf-local-capture-flood")])
    assert captures["flood"] == Capture("flood", "too-large", error=f"more than {FILE_BYTE_LIMIT} bytes")
    assert captures["/proc/version"].ok
    leftover = subprocess.run(["pgrep", "-f", "vrpf-local-capture-flood"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "the flooding command ends when the capture stops reading it"
