"""A real sosreport (tests/data/sosreport) judged as a snapshot: the facts sos keeps elsewhere, and those it lacks."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.snapshot_trees import SOSREPORT_TREE, copy_sosreport, tar_tree
from vrouter_preflight.capture import CPUINFO_KEY, FACT_SOURCES, PAGE_SIZE_KEY, Capture
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.snapshot import SnapshotTransport, live_prefixes
from vrouter_preflight.transport.sos_archive import unpacked_archive
from vrouter_preflight.transport.sosreport import NOT_IN_SOSREPORT, parse_sysctl_all

SYSCTL = (SOSREPORT_TREE / "sos_commands" / "kernel" / "sysctl_-a").read_text()
UNAME = (SOSREPORT_TREE / "sos_commands" / "kernel" / "uname_-a").read_text()
RELEASE = "6.18.44-fc-v1147"
NODE = "/sys/devices/system/node"


def capture(path: Path, page_size: int | None = None) -> dict[str, Capture]:
    spec = HostSpec(name="compute-7", transport="snapshot", path=str(path), page_size=page_size)
    return SnapshotTransport(spec).capture(FACT_SOURCES)


def sysctl_line(name: str) -> str:
    return next(line.split(" = ", 1)[1] for line in SYSCTL.splitlines() if line.startswith(name + " = "))


def test_a_real_sosreport_gives_every_fact_the_live_host_gives() -> None:
    captures = capture(SOSREPORT_TREE)
    facts = HostFacts("compute-7", captures)
    assert facts.parse_errors() == []
    # Not copied by sos: taken from sysctl -a (and it agrees with uname -a).
    assert facts.kernel_release == RELEASE == UNAME.split()[2]
    assert captures["/proc/sys/kernel/osrelease"] == Capture("/proc/sys/kernel/osrelease", "ok", text=RELEASE + "\n")
    assert facts.vm_sysctls["min_free_kbytes"] == int(sysctl_line("vm.min_free_kbytes")) == 67584
    assert facts.vm_sysctls["compaction_proactiveness"] == 20
    assert captures["/proc/sys/vm/lowmem_reserve_ratio"].text == "256\t256\t32\t0\t0\n"  # the live file's bytes
    assert facts.lowmem_reserve_ratio == (256, 256, 32, 0, 0)
    # Copied by sos, read through its symlinks (proc/mounts -> self/mounts, self -> 23476).
    assert facts.mounts is not None and any(m.mountpoint == "/proc" for m in facts.mounts)
    assert facts.os_release is not None and facts.os_release.pretty_name == "Debian GNU/Linux 12 (bookworm)"
    assert facts.cpu_flags is not None and "pdpe1gb" in facts.cpu_flags
    assert facts.numa_nodes == (0,)
    assert sorted(facts.hugepages.sizes_kib) == [2048, 1048576]
    assert facts.buddyinfo is not None and facts.buddyinfo.nodes == (0,)
    assert facts.pagetypeinfo is not None
    # getconf is not in a sosreport: inferred from buddyinfo's 11 orders, as for any snapshot.
    assert facts.page_size == 4096 and facts.page_size_inferred


def test_what_a_sosreport_lacks_is_said_so_not_taken_for_absent() -> None:
    unavailable = {u.path: u.describe() for u in HostFacts("c7", capture(SOSREPORT_TREE)).unavailable}
    assert unavailable[f"{NODE}/online"] == f"{NODE}/online: absent (not in this sosreport)"
    assert unavailable[PAGE_SIZE_KEY] == f"{PAGE_SIZE_KEY}: absent (not in this sosreport)"
    conf = "/etc/contrail/contrail-vrouter-agent.conf"
    assert unavailable[conf] == f"{conf}: absent (not in this sosreport: sos plugin opencontrail did not run)"
    # The kernel plugin ran and copies /sys/module/*/version: no vrouter module on that host.
    assert unavailable["/sys/module/vrouter/version"] == "/sys/module/vrouter/version: absent"
    # The hardware plugin ran (version.txt) and that VM has no DMI.
    assert unavailable["/sys/class/dmi/id/sys_vendor"] == "/sys/class/dmi/id/sys_vendor: absent"


def test_the_inventory_page_size_is_used_when_given() -> None:
    assert capture(SOSREPORT_TREE, page_size=4096)[PAGE_SIZE_KEY] == Capture(PAGE_SIZE_KEY, "ok", text="4096\n")


def test_without_sysctl_the_release_comes_from_uname(tmp_path: Path) -> None:
    tree = copy_sosreport(tmp_path)
    (tree / "sos_commands" / "kernel" / "sysctl_-a").unlink()
    captures = capture(tree)
    assert HostFacts("c7", captures).kernel_release == RELEASE
    assert captures["/proc/sys/vm/min_free_kbytes"] == Capture(
        "/proc/sys/vm/min_free_kbytes", "absent", error=f"{NOT_IN_SOSREPORT}: no sos_commands/kernel/sysctl_-a"
    )
    (tree / "sos_commands" / "kernel" / "uname_-a").unlink()
    assert HostFacts("c7", capture(tree)).kernel_release is None


def test_a_sysctl_the_kernel_lacks_stays_absent(tmp_path: Path) -> None:
    tree = copy_sosreport(tmp_path)
    sysctl = tree / "sos_commands" / "kernel" / "sysctl_-a"
    sysctl.write_text(
        "".join(line for line in sysctl.read_text().splitlines(True) if "compaction_proactiveness" not in line)
    )
    key = "/proc/sys/vm/compaction_proactiveness"
    assert capture(tree)[key] == Capture(key, "absent")  # sysctl -a lists every value the kernel has


def test_without_numactl_the_node_files_are_not_in_the_sosreport(tmp_path: Path) -> None:
    # What sos writes on a host without numactl or numad: no numa plugin, no node files.
    tree = copy_sosreport(tmp_path)
    shutil.rmtree(tree / "sys" / "devices" / "system" / "node")
    shutil.rmtree(tree / "sos_commands" / "numa")
    version = tree / "version.txt"
    version.write_text("".join(line for line in version.read_text().splitlines(True) if not line.startswith("numa:")))
    captures = capture(tree)
    reason = f"{NOT_IN_SOSREPORT}: sos plugin numa did not run, it runs only where numactl or numad is installed"
    assert captures[f"{NODE}/node*/meminfo"] == Capture(f"{NODE}/node*/meminfo", "absent", error=reason)
    facts = HostFacts("c7", captures)
    assert facts.numa_nodes == (0,)  # from buddyinfo, as for any capture without node files
    assert facts.node_meminfo == {}


def test_a_plain_capture_tree_is_not_taken_for_a_sosreport(tmp_path: Path) -> None:
    tree = copy_sosreport(tmp_path)
    shutil.rmtree(tree / "sos_commands")
    (tree / "version.txt").unlink()
    captures = capture(tree)
    assert captures["/proc/sys/kernel/osrelease"] == Capture("/proc/sys/kernel/osrelease", "absent")
    assert captures[f"{NODE}/online"] == Capture(f"{NODE}/online", "absent")


def test_parse_sysctl_all_keeps_every_line_of_the_real_file() -> None:
    values = parse_sysctl_all(SYSCTL)
    named = [line for line in SYSCTL.splitlines() if " = " in line]
    assert len(values) == len({line.split(" = ", 1)[0] for line in named}) > 1000
    assert values["/proc/sys/kernel/osrelease"] == RELEASE + "\n"


def test_parse_sysctl_all_only_the_wanted_keys_as_the_whole_parse_has_them() -> None:
    wanted = {source.pattern for source in FACT_SOURCES if source.pattern.startswith("/proc/sys/")}
    wanted.add("/proc/sys/vm/no_such_key")
    whole = parse_sysctl_all(SYSCTL)
    some = parse_sysctl_all(SYSCTL, only=wanted)
    assert some == {path: text for path, text in whole.items() if path in wanted}
    assert "/proc/sys/vm/min_free_kbytes" in some and "/proc/sys/vm/no_such_key" not in some
    assert parse_sysctl_all(SYSCTL, only=set()) == {}


def test_the_tarball_gives_the_same_captures_as_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = tar_tree(SOSREPORT_TREE, tmp_path / "sosreport-vm-debian12.tar.xz")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the unpacked tree goes
    assert capture(tarball) == capture(SOSREPORT_TREE)
    assert list(scratch.iterdir()) == []  # removed once the capture is done


def test_the_unpacked_tree_is_removed_when_the_capture_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = copy_sosreport(tmp_path / "src")
    shutil.rmtree(tree / "proc")
    shutil.rmtree(tree / "sys")
    os.chmod(tree / "etc", 0o555)  # sos keeps read-only directories; removal must cope
    tarball = tar_tree(tree, tmp_path / "sosreport.tar.xz")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(HostUnreachable, match="neither proc/ nor sys/ at its top"):
        capture(tarball)
    assert list(scratch.iterdir()) == []


def test_a_file_that_is_no_tarball_is_one_message(tmp_path: Path) -> None:
    bogus = tmp_path / "sosreport-c7.tar.xz"
    bogus.write_bytes(b"this is not xz\n" * 10)
    with pytest.raises(HostUnreachable) as info:
        capture(bogus)
    assert str(info.value).startswith(f"compute-7 ({bogus}): sosreport tarball refused: not a readable tar archive")
    assert "\n" not in str(info.value)


def test_a_truncated_tarball_is_one_message(tmp_path: Path) -> None:
    whole = tar_tree(SOSREPORT_TREE, tmp_path / "whole.tar.xz").read_bytes()
    cut = tmp_path / "sosreport-c7.tar.xz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(HostUnreachable, match=r"sosreport tarball refused: not a readable tar archive: "):
        capture(cut)


def test_an_encrypted_sosreport_says_to_decrypt_it(tmp_path: Path) -> None:
    encrypted = tmp_path / "sosreport-c7.tar.xz.gpg"
    encrypted.write_bytes(b"\x85\x01\x0c\x03" + os.urandom(200))  # what gpg --encrypt writes: a binary packet
    with pytest.raises(HostUnreachable, match=r"an encrypted sosreport: decrypt it with gpg first"):
        capture(encrypted)


def test_only_what_a_capture_can_reach_is_unpacked(tmp_path: Path) -> None:
    tarball = tar_tree(SOSREPORT_TREE, tmp_path / "sosreport-vm-debian12.tar.xz")
    with unpacked_archive(tarball, live_prefixes=live_prefixes(FACT_SOURCES)) as unpacked:
        written = {str(p.relative_to(unpacked.root)) for p in unpacked.root.rglob("*")}
    assert (
        {
            "version.txt",
            "sos_commands/kernel/sysctl_-a",
            "proc/mounts",  # a symlink: self/mounts
            "proc/self",  # a symlink: 23476
            "proc/23476/mounts",  # where they lead
            "etc/os-release",
            "usr/lib/os-release",
            "sos_commands/numa",  # plugin directories say which plugins ran
            f"{NODE[1:]}/node0/hugepages/hugepages-2048kB/nr_hugepages",
        }
        <= written
    )
    assert "sos_commands/memory/free" not in written  # nothing the suite reads
    assert "sos_commands/numa/numactl_--hardware" not in written


def test_the_plugins_that_ran_come_from_version_txt_or_sos_commands(tmp_path: Path) -> None:
    tree = copy_sosreport(tmp_path)
    (tree / "proc" / "cpuinfo").unlink()
    # version.txt lists processor: the plugin ran, so that host had no /proc/cpuinfo to copy.
    assert capture(tree)[CPUINFO_KEY] == Capture(CPUINFO_KEY, "absent")
    # Without version.txt, sos_commands/ (kernel, memory, numa) says which plugins ran.
    (tree / "version.txt").unlink()
    assert capture(tree)[CPUINFO_KEY] == Capture(
        CPUINFO_KEY, "absent", error=f"{NOT_IN_SOSREPORT}: sos plugin processor did not run"
    )
    assert capture(tree)[f"{NODE}/node0/meminfo"].ok
