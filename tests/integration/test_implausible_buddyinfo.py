"""Whole runs with a buddyinfo the kernel cannot print, or that zoneinfo contradicts (issue 13, item 9):
``contiguous_blocks`` is an ERROR naming the cause for that host only; the plain host is judged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import pytest

from tests.snapshot_trees import build_tree, corpus_bytes
from tests.suite_runs import run_suite
from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId

pytestmark = pytest.mark.timeout(300)

X86_CPUINFO = (
    Path(__file__).parents[1] / "data" / "sosreport" / "sosreport-vm-debian12" / "proc" / "cpuinfo"
).read_text()


class CorpusFiles(TypedDict):
    """build_tree keywords -> corpus files."""

    buddyinfo: str
    zoneinfo: str
    meminfo: str
    cmdline: str


#: The Ubuntu 12.04 desktop of the corpus.
UBUNTU_FILES: CorpusFiles = {
    "buddyinfo": "ubuntu1204-3.2-8g.txt",
    "zoneinfo": "ubuntu1204-3.2.txt",
    "meminfo": "ubuntu1204-3.2-8g.txt",
    "cmdline": "ubuntu1204-3.2-generic.txt",
}
UBUNTU = corpus_bytes("buddyinfo", UBUNTU_FILES["buddyinfo"]).decode()


def sixteen_columns(text: str) -> str:
    """The real capture with orders 11 to 15 added, as zero counts."""
    return "".join(line.rstrip() + "      0" * 5 + " \n" for line in text.splitlines())


# host -> (files in place of the ubuntu1204 ones, what contiguous_blocks says)
HOSTS: dict[str, tuple[dict[str, str | None], str]] = {
    "sixteen-orders": (
        {"/proc/buddyinfo": sixteen_columns(UBUNTU)},
        "sixteen-orders: cannot judge: /proc/buddyinfo has 16 order columns (0-15), an x86 kernel prints 11 (0-10)",
    ),
    "beyond-memtotal": (
        # no zoneinfo; the Normal zone's 279 free 4 MiB blocks become 2,790 on an 8 GiB machine
        {"/proc/buddyinfo": UBUNTU.replace("    279 ", "   2790 "), "/proc/zoneinfo": None},
        "beyond-memtotal: cannot judge: /proc/buddyinfo lists 4,006,293 free pages (15.3 GiB), "
        "more than MemTotal (7.8 GiB)",
    ),
    "other-moment": (
        # node_exporter's buddyinfo (2017) and zoneinfo (2020) fixtures: not one host at one moment
        {
            "/proc/buddyinfo": corpus_bytes("buddyinfo", "ne-fixture-x86-1node-3zones.txt").decode(),
            "/proc/zoneinfo": corpus_bytes("zoneinfo", "ne-fixture-5.x.txt").decode(),
        },
        "other-moment: cannot judge: /proc/buddyinfo and /proc/zoneinfo disagree: node 0 DMA: buddyinfo's free "
        "blocks make 3,973 free pages, zoneinfo's pages free says 2,949 (1,024 apart; two reads a moment apart "
        "differ by at most 79 here)",
    ),
}


def snapshot(root: Path, replaced: dict[str, str | None]) -> None:
    """The Ubuntu 12.04 desktop of the corpus, x86 (an AMD EPYC's cpuinfo), with ``replaced`` files (None: removed)."""
    build_tree(root, **UBUNTU_FILES, extra={"/proc/sys/kernel/osrelease": "3.2.0\n", "/proc/cpuinfo": X86_CPUINFO})
    for live, text in replaced.items():
        target = root / live.lstrip("/")
        if text is None:
            target.unlink()
        else:
            target.write_text(text)


def test_an_implausible_buddyinfo_is_an_error_for_that_host_only(tmp_path: Path) -> None:
    for name, (replaced, _) in HOSTS.items():
        snapshot(tmp_path / name, replaced)
    snapshot(tmp_path / "plain", {})
    hosts = {name: {"transport": "snapshot", "path": name} for name in [*HOSTS, "plain"]}
    inventory = tmp_path / "fleet.json"  # JSON is YAML
    inventory.write_text(json.dumps({"defaults": {"page_size": 4096}, "hosts": hosts}))
    summary = tmp_path / "summary.json"

    result = run_suite("--inventory", str(inventory), f"--summary-json={summary}")

    assert "Traceback" not in result.stdout + result.stderr
    contiguity = {
        name: next(c for c in host["checks"] if c["id"] == CheckId.CONTIGUOUS_BLOCKS.id)
        for name, host in load_summary(summary)["hosts"].items()
    }
    assert {name: (contiguity[name]["outcome"], contiguity[name]["message"]) for name in HOSTS} == {
        name: ("error", message) for name, (_, message) in HOSTS.items()
    }
    assert contiguity["plain"]["outcome"] == "passed", contiguity["plain"]
