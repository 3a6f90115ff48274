"""A real sosreport of this machine, made by the distribution's ``sos``, is judged exactly like the live machine.

The module makes one sosreport (``sos report --batch`` with the plugins that
hold the suite's facts), unpacks it with the system's ``tar``, and runs the
suite three times as an operator would: ``transport: local``, the unpacked
tree, and the ``.tar.xz`` itself. Every check's outcome per node must be the
live run's (the trial allocation aside: it needs a live host). ``sos`` and
``numactl`` come from ``tools/system-packages.sh test``; without them these
tests fail, they never skip.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.suite_runs import ROOT, run_suite
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.local import LocalTransport
from vrouter_preflight.transport.snapshot import SnapshotTransport

#: The sos plugins that copy what the suite reads (README "Sosreports"); `hardware` (DMI) is left out: it
#: takes ~9 s here and this VM has no DMI.
SOS_PLUGINS = "kernel,memory,numa,filesys,processor,release"
#: Checks that need a live host: deselected for a snapshot.
LIVE_ONLY = {"trial_allocation"}


@dataclass(frozen=True)
class RealSosreport:
    """One sosreport of this machine: the tarball sos wrote and the tree ``tar`` unpacked from it."""

    tarball: Path
    tree: Path


def _require(command: str, package: str) -> str:
    found = shutil.which(command)
    if found is None:
        pytest.fail(f"`{command}` is missing: tools/system-packages.sh test installs {package}", pytrace=False)
    return found


@pytest.fixture(scope="module")
def real_sosreport(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealSosreport]:
    if os.geteuid() != 0:
        pytest.fail("the real-sosreport tests must run as root (sos report needs it)", pytrace=False)
    sos = _require("sos", "Debian's sosreport (sos on RHEL)")
    _require("numactl", "numactl (without it sos copies no NUMA node files)")
    work = tmp_path_factory.mktemp("sosreport")
    made = subprocess.run(
        [sos, "report", "--batch", "-o", SOS_PLUGINS, "--tmp-dir", str(work)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    tarballs = sorted(work.glob("sosreport-*.tar.xz"))
    assert made.returncode == 0 and len(tarballs) == 1, (
        f"sos report failed:\n{made.stdout[-2000:]}{made.stderr[-2000:]}"
    )
    unpacked = work / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xJf", str(tarballs[0]), "-C", str(unpacked)], check=True, timeout=120)
    (tree,) = unpacked.iterdir()
    yield RealSosreport(tarballs[0], tree)
    shutil.rmtree(work, ignore_errors=True)


def _inventory(directory: Path, name: str, entry: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(f"hosts:\n  this-machine: {entry}\n")
    return path


def _outcomes(tmp_path: Path, inventory: Path) -> dict[tuple[str, int | None], str]:
    """Run the suite on ``inventory``; every check's outcome keyed by (check id, NUMA node)."""
    summary = tmp_path / f"{inventory.stem}.json"
    result = run_suite("--inventory", str(inventory), "--summary-json", str(summary), "-q")
    assert summary.exists(), f"no summary (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
    host = json.loads(summary.read_text())["hosts"]["this-machine"]
    assert host["error"] is None, host["error"]
    return {(check["id"], check["node"]): check["outcome"] for check in host["checks"]}


def test_the_sosreport_has_what_sos_promises(real_sosreport: RealSosreport) -> None:
    tree = real_sosreport.tree
    assert (tree / "sos_commands" / "kernel" / "sysctl_-a").is_file()
    assert (tree / "sos_commands" / "kernel" / "uname_-a").is_file()
    assert not (tree / "proc" / "sys" / "kernel" / "osrelease").exists()  # why the fallback exists
    assert sorted(p.name for p in (tree / "sys/devices/system/node").glob("node*")) == sorted(
        p.name for p in Path("/sys/devices/system/node").glob("node[0-9]*")
    ), "numactl is installed: sos copies every node's files"


@pytest.mark.parametrize("form", ["tree", "tarball"])
def test_the_facts_of_the_sosreport_are_the_live_facts(real_sosreport: RealSosreport, form: str) -> None:
    path = real_sosreport.tree if form == "tree" else real_sosreport.tarball
    snapshot = SnapshotTransport(HostSpec(name="this-machine", transport="snapshot", path=str(path)))
    snap = HostFacts("this-machine", snapshot.capture(FACT_SOURCES))
    live_transport = LocalTransport(HostSpec(name="this-machine", transport="local"))
    live = HostFacts("this-machine", live_transport.capture(FACT_SOURCES))
    assert snap.parse_errors() == []
    assert snap.kernel_release == live.kernel_release == platform.release()
    assert snap.numa_nodes == live.numa_nodes
    assert snap.page_size == live.page_size and snap.page_size_inferred
    assert snap.os_release == live.os_release
    assert snap.cpu_flags == live.cpu_flags
    assert snap.lowmem_reserve_ratio == live.lowmem_reserve_ratio
    assert snap.vm_sysctls["min_free_kbytes"] == live.vm_sysctls["min_free_kbytes"]
    assert sorted(snap.hugepages.sizes_kib) == sorted(live.hugepages.sizes_kib)
    assert sorted(snap.node_meminfo) == sorted(live.node_meminfo)
    assert snap.vrouter_version == live.vrouter_version
    assert (snap.mounts is None) == (live.mounts is None)


def test_every_check_judges_the_sosreport_as_the_live_machine(real_sosreport: RealSosreport, tmp_path: Path) -> None:
    live = _outcomes(tmp_path, _inventory(tmp_path, "live", "{transport: local, become: sudo}"))
    tree = _outcomes(tmp_path, _inventory(tmp_path, "tree", f"{{transport: snapshot, path: '{real_sosreport.tree}'}}"))
    tarball = _outcomes(
        tmp_path, _inventory(tmp_path, "tarball", f"{{transport: snapshot, path: '{real_sosreport.tarball}'}}")
    )
    judged = {key: outcome for key, outcome in live.items() if key[0] not in LIVE_ONLY}
    assert {check for check, _ in live} >= {"reachable", "facts_parse", "contiguous_blocks", "hugepages_per_node"}
    assert any(node is not None for _, node in judged), "no per-node check ran"
    assert tree == judged
    assert tarball == judged


def test_the_suite_leaves_no_unpacked_sosreport_behind(real_sosreport: RealSosreport, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    inventory = _inventory(tmp_path, "tarball", f"{{transport: snapshot, path: '{real_sosreport.tarball}'}}")
    argv = [sys.executable, "-m", "pytest", "checks", "-p", "no:cacheprovider", "-q", "--inventory", str(inventory)]
    argv += ["--summary-json", str(tmp_path / "s.json")]
    env = {**os.environ, "TMPDIR": str(scratch)}  # where the run unpacks the tarball
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert (tmp_path / "s.json").exists(), result.stdout[-2000:] + result.stderr[-2000:]
    assert [p.name for p in scratch.iterdir() if p.name.startswith("vrpf-sosreport-")] == []


def test_a_tree_with_a_live_proc_mounted_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("mounting a procfs needs root", pytrace=False)
    (tmp_path / "proc").mkdir()
    subprocess.run(["mount", "-t", "proc", "proc", str(tmp_path / "proc")], check=True, timeout=30)
    try:
        snapshot = SnapshotTransport(HostSpec(name="c7", transport="snapshot", path=str(tmp_path)))
        with pytest.raises(HostUnreachable) as info:
            snapshot.capture(FACT_SOURCES)
    finally:
        subprocess.run(["umount", str(tmp_path / "proc")], check=True, timeout=30)
    assert info.value.cause == "snapshot has a mounted filesystem at proc/ (a live proc), not a capture"
