"""The snapshot transport reads captured trees exactly as a live host would give them."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from tests.snapshot_trees import build_tree, corpus_bytes, write_files
from tests.unit.facts.corpus import CORPUS
from vrouter_preflight.capture import (
    CPUINFO_KEY,
    FACT_SOURCES,
    HUGETLBFS_TABLES_KEY,
    PAGE_SIZE_KEY,
    Capture,
    FactSource,
)
from vrouter_preflight.errors import HostError, HostUnreachable, InventoryError, NotLiveError
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec, load_inventory
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.local import LocalTransport
from vrouter_preflight.transport.snapshot import SnapshotTransport
from vrouter_preflight.transport.snapshot_tree import MAX_FILE_BYTES

REPO = Path(__file__).resolve().parents[2]


def snapshot(root: Path, *, page_size: int | None = None, name: str = "compute-7") -> SnapshotTransport:
    return SnapshotTransport(HostSpec(name=name, transport="snapshot", path=str(root), page_size=page_size))


def two_node_tree(root: Path) -> dict[str, bytes]:
    return build_tree(
        root,
        buddyinfo="lkml-fb-4.0-2node-fragmented.txt",
        pagetypeinfo="lkml-fb-4.0-2node-fragmented.txt",
        zoneinfo="rhcos-4.18-el8.txt",
        meminfo="hwloc-el7-3.10-2node-hp4096.txt",
        cmdline="hwloc-el7-3.10-crashkernel-auto.txt",
        node_meminfo={0: "hwloc-el7-3.10-node0-hp2048.txt", 1: "hwloc-el7-3.10-node1-hp2048.txt"},
        node_hugepages="hwloc-el7-3.10-2node-2m-reserved.txt",
    )


def test_capture_returns_the_corpus_bytes_under_live_paths(tmp_path: Path) -> None:
    written = two_node_tree(tmp_path)
    captures = snapshot(tmp_path).capture(FACT_SOURCES)
    for live, data in written.items():
        if live.endswith("/demote_size"):
            continue  # not a fact source
        assert captures[live] == Capture(live, "ok", text=data.decode()), live
    assert captures["/proc/buddyinfo"].text.encode() == corpus_bytes("buddyinfo", "lkml-fb-4.0-2node-fragmented.txt")
    # Nothing is invented: every ok capture is a file that was written.
    assert {key for key, cap in captures.items() if cap.ok} <= set(written)


def test_globs_expand_over_numa_nodes(tmp_path: Path) -> None:
    two_node_tree(tmp_path)
    captures = snapshot(tmp_path).capture(
        [
            FactSource("/sys/devices/system/node/node*/meminfo"),
            FactSource("/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages"),
        ]
    )
    node = "/sys/devices/system/node"
    assert list(captures) == [
        f"{node}/node0/meminfo",
        f"{node}/node1/meminfo",
        f"{node}/node0/hugepages/hugepages-1048576kB/nr_hugepages",
        f"{node}/node0/hugepages/hugepages-2048kB/nr_hugepages",
        f"{node}/node1/hugepages/hugepages-1048576kB/nr_hugepages",
        f"{node}/node1/hugepages/hugepages-2048kB/nr_hugepages",
    ]
    assert (
        captures[f"{node}/node1/meminfo"].text.encode()
        == (CORPUS / "node-meminfo" / "hwloc-el7-3.10-node1-hp2048.txt").read_bytes()
    )
    assert captures[f"{node}/node1/hugepages/hugepages-2048kB/nr_hugepages"].text == "2048\n"


def test_sparse_gpu_nodes_glob(tmp_path: Path) -> None:
    build_tree(tmp_path, node_hugepages="hwloc-ppc64le-gpu-nodes-250-255.txt")
    captures = snapshot(tmp_path).capture([FactSource("/sys/devices/system/node/node*/hugepages/*/free_hugepages")])
    nodes = sorted({key.split("/")[5] for key in captures})
    assert nodes == sorted(["node0", "node8", *(f"node{n}" for n in range(250, 256))])


def test_glob_without_match_is_one_absent_capture_keyed_by_the_pattern(tmp_path: Path) -> None:
    two_node_tree(tmp_path)
    pattern = "/sys/module/vrouter/parameters/*"
    assert snapshot(tmp_path).capture([FactSource(pattern)]) == {pattern: Capture(pattern, "absent")}


def test_glob_skips_hidden_names_and_non_matching_leaves(tmp_path: Path) -> None:
    build_tree(
        tmp_path,
        extra={
            "/sys/devices/system/node/node0/meminfo": "a\n",
            "/sys/devices/system/node/.node9/meminfo": "hidden\n",
            "/sys/devices/system/node/node1/cpulist": "0-3\n",  # node1 has no meminfo
        },
    )
    captures = snapshot(tmp_path).capture([FactSource("/sys/devices/system/node/*/meminfo")])
    assert list(captures) == ["/sys/devices/system/node/node0/meminfo"]


def test_missing_file_is_absent_not_empty(tmp_path: Path) -> None:
    build_tree(tmp_path, buddyinfo="debian11-5.10-2g.txt")
    captures = snapshot(tmp_path).capture([FactSource("/proc/pagetypeinfo"), FactSource("/proc/buddyinfo/x")])
    assert captures["/proc/pagetypeinfo"] == Capture("/proc/pagetypeinfo", "absent")
    assert captures["/proc/buddyinfo/x"].status == "absent"


def _not_regular_entries(root: Path) -> dict[str, str]:
    """A directory, a FIFO and a symlink loop where files are expected, plain and under a glob."""
    for parent in ("proc", "sys/devices/system/node/node0", "sys/devices/system/node/node1"):
        (root / parent).mkdir(parents=True, exist_ok=True)
    (root / "proc" / "pagetypeinfo").mkdir()  # chmod 000 does not stop root; a directory cannot be read
    os.mkfifo(root / "proc" / "buddyinfo")
    (root / "proc" / "zoneinfo").symlink_to("zoneinfo.d")
    (root / "proc" / "zoneinfo.d").symlink_to("zoneinfo")
    os.mkfifo(root / "sys/devices/system/node/node0/meminfo")
    (root / "sys/devices/system/node/node1/meminfo").symlink_to("meminfo")
    return {
        "/proc/pagetypeinfo": "directory",
        "/proc/buddyinfo": "fifo",
        "/proc/zoneinfo": "symlink loop",
        "/sys/devices/system/node/node0/meminfo": "fifo",
        "/sys/devices/system/node/node1/meminfo": "symlink loop",
    }


@pytest.mark.timeout(10)
def test_a_fifo_directory_or_symlink_loop_is_one_status_wherever_it_is_met(tmp_path: Path) -> None:
    expected = _not_regular_entries(tmp_path)
    sources = [
        FactSource("/proc/pagetypeinfo"),
        FactSource("/proc/buddyinfo"),
        FactSource("/proc/zoneinfo"),
        FactSource("/sys/devices/system/node/node*/meminfo"),  # a glob meets them too
    ]
    captures = snapshot(tmp_path).capture(sources)
    assert {key: (c.status, c.error) for key, c in captures.items()} == {
        key: ("not-regular", reason) for key, reason in expected.items()
    }
    # The facts report and every check word it the same way.
    facts = HostFacts("compute-7", captures)
    assert facts.why_missing("/proc/buddyinfo") == "/proc/buddyinfo: not a regular file (fifo)"
    assert "/proc/zoneinfo: not a regular file (symlink loop)" in [u.describe() for u in facts.unavailable]


@pytest.mark.timeout(10)
def test_a_fifo_in_the_full_capture_never_blocks(tmp_path: Path) -> None:
    two_node_tree(tmp_path)
    (tmp_path / "proc" / "buddyinfo").unlink()
    os.mkfifo(tmp_path / "proc" / "buddyinfo")
    os.mkfifo(tmp_path / "proc" / "cpuinfo")  # read by the cpuinfo command source
    captures = snapshot(tmp_path).capture(FACT_SOURCES)
    assert captures["/proc/buddyinfo"] == Capture("/proc/buddyinfo", "not-regular", error="fifo")
    assert captures[CPUINFO_KEY] == Capture(CPUINFO_KEY, "not-regular", error="fifo")


def test_a_100_mb_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    with open(tmp_path / "proc" / "zoneinfo", "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB to read, nothing on disk
    _ = (tmp_path / "proc" / "buddyinfo").write_bytes(corpus_bytes("buddyinfo", "debian11-5.10-2g.txt"))
    tracemalloc.start()
    try:
        captures = snapshot(tmp_path).capture([FactSource("/proc/zoneinfo"), FactSource("/proc/buddyinfo")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert captures["/proc/zoneinfo"] == Capture(
        "/proc/zoneinfo", "too-large", error=f"more than {MAX_FILE_BYTES} bytes: 104857600 bytes"
    )
    assert captures["/proc/buddyinfo"].ok  # the limit costs that file only
    assert peak < 1024 * 1024, f"peak {peak} bytes: the file was read"


def test_a_file_at_the_limit_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "zoneinfo").write_bytes(b"x" * MAX_FILE_BYTES)
    capture = snapshot(tmp_path).capture([FactSource("/proc/zoneinfo")])["/proc/zoneinfo"]
    assert capture.ok and len(capture.text) == MAX_FILE_BYTES


@pytest.mark.parametrize("spelling", ["/", "{tmp}/../../../../../../../..", "{tmp}/root-link"])
def test_the_machines_own_root_is_refused(tmp_path: Path, spelling: str) -> None:
    (tmp_path / "root-link").symlink_to("/")
    path = spelling.format(tmp=tmp_path)
    with pytest.raises(HostUnreachable) as info:
        snapshot(Path(path)).capture(FACT_SOURCES)
    assert info.value.cause == (
        "snapshot path is this machine's own root directory: "
        "it would judge the live machine as a capture (use transport: local)"
    )


def test_the_root_named_relative_to_an_inventory_is_refused_at_load(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    up = "/".join([".."] * (len(tmp_path.parts) + 2))  # more '..' than the path is deep: stops at /
    inventory.write_text(f"hosts:\n  c7: {{transport: snapshot, path: '{up}'}}\n")
    with pytest.raises(InventoryError, match=r"key 'path': / is this machine's own root, not a captured tree"):
        load_inventory(inventory)  # refused at load: nothing is contacted (exit 4)


def test_a_snapshot_path_that_is_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "capture")
    with pytest.raises(HostUnreachable, match="snapshot path is a fifo, not a directory or a sosreport tarball"):
        snapshot(tmp_path / "capture").capture(FACT_SOURCES)


def test_absolute_symlinks_stay_inside_the_tree(tmp_path: Path) -> None:
    # /proc/mounts is a link to self/mounts on a live host; a copied tree may
    # hold an absolute link. It must never read this machine's own file.
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "mounts").symlink_to("/proc/self/mounts")
    (tmp_path / "proc" / "escape").symlink_to("../../../../../../etc/os-release")
    transport = snapshot(tmp_path)
    sources = [FactSource("/proc/mounts"), FactSource("/proc/escape")]
    assert [c.status for c in transport.capture(sources).values()] == ["absent", "absent"]
    write_files(tmp_path, {"/proc/self/mounts": b"tree mounts\n", "/etc/os-release": b"ID=tree\n"})
    captures = transport.capture(sources)
    assert captures["/proc/mounts"].text == "tree mounts\n"
    assert captures["/proc/escape"].text == "ID=tree\n"


def test_relative_symlinks_like_sysfs_are_followed(tmp_path: Path) -> None:
    write_files(tmp_path, {"/sys/devices/system/node/node0/meminfo": b"Node 0 MemTotal: 1 kB\n"})
    (tmp_path / "sys" / "bus" / "node" / "devices").mkdir(parents=True)
    (tmp_path / "sys" / "bus" / "node" / "devices" / "node0").symlink_to("../../../devices/system/node/node0")
    captures = snapshot(tmp_path).capture([FactSource("/sys/bus/node/devices/node*/meminfo")])
    assert captures == {
        "/sys/bus/node/devices/node0/meminfo": Capture(
            "/sys/bus/node/devices/node0/meminfo", "ok", text="Node 0 MemTotal: 1 kB\n"
        )
    }


def test_page_size_comes_from_the_inventory(tmp_path: Path) -> None:
    two_node_tree(tmp_path)
    source = [FactSource(PAGE_SIZE_KEY, command="getconf PAGESIZE")]
    assert snapshot(tmp_path, page_size=65536).capture(source)[PAGE_SIZE_KEY] == Capture(
        PAGE_SIZE_KEY, "ok", text="65536\n"
    )
    assert snapshot(tmp_path).capture(source)[PAGE_SIZE_KEY] == Capture(PAGE_SIZE_KEY, "absent")


def test_page_size_from_an_inventory_file(tmp_path: Path) -> None:
    two_node_tree(tmp_path / "captures" / "c7")
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  c7: {transport: snapshot, path: captures/c7, page_size: 4096}\n")
    transport = open_transport(load_inventory(inventory).host("c7"))
    assert isinstance(transport, SnapshotTransport)
    assert transport.capture(FACT_SOURCES)[PAGE_SIZE_KEY].text == "4096\n"


def test_cpuinfo_is_the_first_processor_block(tmp_path: Path) -> None:
    cpuinfo = "processor\t: 0\nflags\t\t: fpu pdpe1gb\n\nprocessor\t: 1\nflags\t\t: fpu pdpe1gb\n\n"
    write_files(tmp_path, {"/proc/cpuinfo": cpuinfo.encode()})
    source = [FactSource(CPUINFO_KEY, command="sed '/^$/q' /proc/cpuinfo")]
    assert snapshot(tmp_path).capture(source)[CPUINFO_KEY].text == "processor\t: 0\nflags\t\t: fpu pdpe1gb\n\n"
    (tmp_path / "proc" / "cpuinfo").unlink()
    assert snapshot(tmp_path).capture(source)[CPUINFO_KEY].status == "absent"


def test_other_commands_need_a_live_host(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    capture = snapshot(tmp_path).capture([FactSource("numa:hardware", command="numactl --hardware")])
    assert capture["numa:hardware"] == Capture(
        "numa:hardware", "unreadable", error="`numactl --hardware` needs a live host"
    )


def test_run_raises_not_live(tmp_path: Path) -> None:
    transport = snapshot(tmp_path)
    with pytest.raises(NotLiveError) as info:
        transport.run("echo 1 > /proc/sys/vm/compact_memory", privileged=True)
    assert str(info.value) == (
        f"compute-7 ({tmp_path}): is a snapshot: `echo 1 > /proc/sys/vm/compact_memory` needs a live host"
    )
    assert info.value.host == "compute-7"
    with pytest.raises(NotLiveError, match=r"`set -e\.\.\.` needs a live host"):
        transport.run_checked("set -e\nsysctl -w vm.nr_hugepages=4")


def test_missing_tree_is_a_host_error(tmp_path: Path) -> None:
    with pytest.raises(HostUnreachable, match="snapshot directory does not exist"):
        snapshot(tmp_path / "gone").capture(FACT_SOURCES)


def test_tree_without_proc_or_sys_is_a_host_error(tmp_path: Path) -> None:
    # e.g. 'path' names the directory holding the unpacked sosreport
    (tmp_path / "sosreport-compute-7-2024" / "proc").mkdir(parents=True)
    with pytest.raises(HostError, match=r"neither proc/ nor sys/ .* laid out like /"):
        snapshot(tmp_path).capture(FACT_SOURCES)


def test_sosreport_layout(tmp_path: Path) -> None:
    build_tree(
        tmp_path,
        buddyinfo="rhcos-4.18-el8-1node.txt",
        pagetypeinfo="rhcos-4.18-el8-1node.txt",
        meminfo="rhcos-4.18-el8-8g.txt",
        cmdline="rhcos-4.18-el8-ostree.txt",
        extra={
            "/etc/os-release": 'NAME="Red Hat Enterprise Linux CoreOS"\n',
            "/sos_commands/memory/free": "total used\n",
            "/sos_logs/sos.log": "",
            "/version.txt": "sosreport: 3.6\n",
        },
    )
    captures = snapshot(tmp_path).capture(FACT_SOURCES)
    assert captures["/etc/os-release"].ok
    assert captures["/proc/pagetypeinfo"].text.encode() == corpus_bytes("pagetypeinfo", "rhcos-4.18-el8-1node.txt")
    assert captures["/proc/zoneinfo"].status == "absent"


def test_checked_in_fleet_snapshot_host() -> None:
    spec = load_inventory(REPO / "tests" / "data" / "inventories" / "fleet.yaml").host("captured-7")
    transport = open_transport(spec)
    captures = transport.capture(FACT_SOURCES)
    tree = REPO / "tests" / "data" / "inventories" / "snapshots" / "compute-7"
    assert captures["/proc/cmdline"].text.encode() == (tree / "proc" / "cmdline").read_bytes()
    assert captures[PAGE_SIZE_KEY].text == "4096\n"
    assert transport.address == str(tree)


STABLE = (
    "/proc/cmdline",
    "/proc/sys/kernel/osrelease",
    "/sys/devices/system/node/online",
    "/etc/os-release",
    PAGE_SIZE_KEY,
)


def test_snapshot_of_this_machine_matches_the_local_transport(tmp_path: Path) -> None:
    local = LocalTransport(HostSpec(name="me", transport="local")).capture(FACT_SOURCES)
    readable = [key for key, cap in local.items() if cap.ok and key.startswith("/")]
    assert "/proc/buddyinfo" in readable
    # Copy the live files (full cpuinfo: the transport keeps the first block).
    write_files(tmp_path, {key: Path(key).read_bytes() for key in readable})
    page_size = int(local[PAGE_SIZE_KEY].text) if local[PAGE_SIZE_KEY].ok else None
    snap = snapshot(tmp_path, page_size=page_size).capture(FACT_SOURCES)
    # Files and the page size compare; other commands need a live host.
    live_only = {key for key in local if not key.startswith("/") and key != PAGE_SIZE_KEY}
    comparable = {key for key, cap in local.items() if cap.status != "unreadable" and key not in live_only}
    assert {key: snap[key].status for key in comparable} == {key: local[key].status for key in comparable}
    assert set(snap) == set(local)
    assert snap[HUGETLBFS_TABLES_KEY].status == "unreadable"
    for key in STABLE:
        if local.get(key, Capture(key, "absent")).ok:
            assert snap[key].text == local[key].text, key
    if local[CPUINFO_KEY].ok:
        assert snap[CPUINFO_KEY].text.splitlines()[0] == local[CPUINFO_KEY].text.splitlines()[0]
        assert snap[CPUINFO_KEY].text.endswith("\n\n") == local[CPUINFO_KEY].text.endswith("\n\n")
