"""Snapshot trees of whole compute nodes for the gate's tests.

The field report's node (../shared/seed/): RHEL 7, two NUMA nodes, 340 boot-time
1G pages (170 per node, 14 free on each), a fragmented Normal zone on each node
(only 3 free order-10 blocks in all) and a few order-10 blocks in DMA32 that
the zone's protection keeps from Normal-capable requests. ``healthy=True``
gives the same node with plenty of order-10 blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.snapshot_trees import write_files

FIELD_CMDLINE = (
    "BOOT_IMAGE=/boot/vmlinuz-3.10.0-862.6.3.el7.x86_64 crashkernel=auto rhgb quiet intel_iommu=on "
    "default_hugepagesz=1GB hugepagesz=1G hugepages=340 isolcpus=2,3,4,5 processor.max_cstate=1 "
    "intel_idle.max_cstate=1 intel_pstate=disable nosoftlockup\n"
)

GIB_KIB = 1048576


def _buddy_row(node: int, zone: str, counts: Sequence[int]) -> str:
    return f"Node {node}, zone {zone:>8} " + "".join(f"{count:6d} " for count in counts) + "\n"


def _pages(counts: Sequence[int]) -> int:
    return sum(count << order for order, count in enumerate(counts))


def _zone_block(node: int, zone: str, free: int, min_pages: int, managed: int, protection: Sequence[int]) -> str:
    return (
        f"Node {node}, zone {zone:>8}\n"
        f"  pages free     {free}\n"
        f"        min      {min_pages}\n"
        f"        low      {min_pages * 5 // 4}\n"
        f"        high     {min_pages * 3 // 2}\n"
        f"        scanned  0\n"
        f"        spanned  {managed + 1024}\n"
        f"        present  {managed + 512}\n"
        f"        managed  {managed}\n"
        f"    nr_free_pages {free}\n"
        f"        protection: ({', '.join(str(p) for p in protection)})\n"
        f"  all_unreclaimable: 0\n"
    )


def field_report_node(
    root: Path,
    *,
    normal_order10: tuple[int, int] = (2, 1),
    free_1g: tuple[int, int] = (14, 14),
    extra: Mapping[str, str] | None = None,
) -> dict[str, bytes]:
    """Write the field report's node under ``root``; returns live path -> bytes.

    ``normal_order10`` sets the free order-10 blocks of node 0's and node 1's
    Normal zones; the rest of the free lists is fragmented as in the report.
    """
    dma = [0, 1, 1, 0, 2, 1, 1, 0, 1, 1, 3]
    dma32 = [1200, 900, 600, 400, 250, 120, 60, 30, 14, 8, 5]
    normals = [[200000, 150000, 80000, 30000, 10000, 3000, 800, 200, 40, 6, n] for n in normal_order10]
    buddyinfo = _buddy_row(0, "DMA", dma) + _buddy_row(0, "DMA32", dma32)
    buddyinfo += _buddy_row(0, "Normal", normals[0]) + _buddy_row(1, "Normal", normals[1])
    normal_managed = 11_800_000
    zoneinfo = (
        _zone_block(0, "DMA", _pages(dma), 1, 3977, (0, 1802, 47900, 47900))
        + _zone_block(0, "DMA32", _pages(dma32), 330, 461000, (0, 0, 46093, 46093))
        + _zone_block(0, "Normal", _pages(normals[0]), 11228, normal_managed, (0, 0, 0, 0))
        + _zone_block(0, "Movable", 0, 0, 0, (0, 0, 0, 0))
        + _zone_block(1, "Normal", _pages(normals[1]), 11720, normal_managed + 400_000, (0, 0, 0, 0))
        + _zone_block(1, "Movable", 0, 0, 0, (0, 0, 0, 0))
    )
    free_total = sum(free_1g)
    files: dict[str, str] = {
        "/proc/cmdline": FIELD_CMDLINE,
        "/proc/buddyinfo": buddyinfo,
        "/proc/zoneinfo": zoneinfo,
        "/proc/sys/kernel/osrelease": "3.10.0-862.6.3.el7.x86_64\n",
        "/proc/meminfo": (
            "MemTotal:       394936788 kB\nMemFree:        12032504 kB\nMemAvailable:   14120384 kB\n"
            f"HugePages_Total:     340\nHugePages_Free:       {free_total}\nHugePages_Rsvd:        0\n"
            "HugePages_Surp:        0\nHugepagesize:    1048576 kB\n"
        ),
        "/proc/mounts": (
            "/dev/mapper/rhel-root / xfs rw,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
            "hugetlbfs /dev/hugepages hugetlbfs rw,seclabel,relatime,pagesize=1G 0 0\n"
        ),
        "/proc/sys/vm/nr_hugepages": "340\n",
        "/proc/cpuinfo": "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae mce pdpe1gb lm\n\n",
        "/etc/os-release": 'NAME="Red Hat Enterprise Linux Server"\nID="rhel"\nVERSION_ID="7.5"\n',
        "/sys/devices/system/node/online": "0-1\n",
    }
    hp = "/sys/kernel/mm/hugepages/hugepages-1048576kB"
    files.update({f"{hp}/nr_hugepages": "340\n", f"{hp}/free_hugepages": f"{free_total}\n"})
    files.update({f"{hp}/resv_hugepages": "0\n", f"{hp}/surplus_hugepages": "0\n"})
    hp2 = "/sys/kernel/mm/hugepages/hugepages-2048kB"
    files.update({f"{hp2}/nr_hugepages": "0\n", f"{hp2}/free_hugepages": "0\n"})
    files.update({f"{hp2}/resv_hugepages": "0\n", f"{hp2}/surplus_hugepages": "0\n"})
    for node in (0, 1):
        base = f"/sys/devices/system/node/node{node}/hugepages"
        files[f"{base}/hugepages-1048576kB/nr_hugepages"] = "170\n"
        files[f"{base}/hugepages-1048576kB/free_hugepages"] = f"{free_1g[node]}\n"
        files[f"{base}/hugepages-1048576kB/surplus_hugepages"] = "0\n"
        files[f"{base}/hugepages-2048kB/nr_hugepages"] = "0\n"
        files[f"{base}/hugepages-2048kB/free_hugepages"] = "0\n"
        files[f"{base}/hugepages-2048kB/surplus_hugepages"] = "0\n"
    files.update(extra or {})
    encoded = {path: text.encode() for path, text in files.items()}
    write_files(root, encoded)
    return encoded
