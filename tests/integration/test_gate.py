"""The gate end to end: whole runs against snapshot fleets, and the reports agreeing.

The acceptance case is the field report's node (tests/gate_snapshots.py): two
NUMA nodes, 170 × 1G pages each with 14 free, 3 free order-10 blocks in the
Normal zones, vRouter without hugepages.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import labels, load_results, parameters, validate_results
from tests.gate_snapshots import field_report_node
from tests.snapshot_trees import build_tree
from tests.suite_runs import run_suite
from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.wiring.not_run import SNAPSHOT_NOT_LIVE

pytestmark = pytest.mark.timeout(300)

Key = tuple[str, str, "int | None"]


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]], defaults: dict[str, Any] | None = None) -> Path:
    """An inventory of snapshot hosts (JSON is YAML)."""
    entries = {name: {"transport": "snapshot", **entry} for name, entry in hosts.items()}
    path.write_text(json.dumps({"defaults": defaults or {}, "hosts": entries}))
    return path


def run_gate(tmp_path: Path, inventory: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary}", *extra)
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, load_summary(summary), result.stdout


def checks_of(summary: dict[str, Any], host: str) -> dict[tuple[str, int | None], dict[str, Any]]:
    return {(c["id"], c["node"]): c for c in summary["hosts"][host]["checks"]}


def test_field_report_node_fails_and_says_which_1g_page_to_free(tmp_path: Path) -> None:
    field_report_node(tmp_path / "field")
    field_report_node(tmp_path / "healthy", normal_order10=(300, 280))
    expect = {"default_hugepagesz": "1G", "hugepages": {"1G": 340}}
    inventory = write_inventory(
        tmp_path / "fleet.yaml",
        {
            "field-node": {"path": "field"},
            "field-node-1g": {"path": "field", "vrouter": {"hugepage_size": "1G", "contiguity_spare_blocks": 0}},
            "field-node-1g-spare": {"path": "field", "vrouter": {"hugepage_size": "1G"}},
            "healthy-node": {"path": "healthy", "vrouter": {"hugepage_size": "1G"}},
        },
        defaults={"expect": expect},
    )
    junit = tmp_path / "junit.xml"
    alluredir = tmp_path / "allure"
    rc, summary, stdout = run_gate(tmp_path, inventory, f"--junitxml={junit}", f"--alluredir={alluredir}")
    assert rc == 1, stdout

    field = checks_of(summary, "field-node")
    contiguous = field[(CheckId.CONTIGUOUS_BLOCKS.id, None)]
    assert contiguous["outcome"] == "failed"
    assert "free 1 × 1G page on node 0 or on node 1" in contiguous["message"]
    # 44 + 2 spare order-10 blocks, of which the order-8 and one order-9 part split 2 of the 3 usable
    assert (
        "46 × order 10 (4 MiB), 2 × order 9 (2 MiB), 1 × order 8 (1 MiB) requested, 45 find no block"
        in contiguous["message"]
    )
    assert "node 0 DMA32: order 10: 5 free, 0 usable" in contiguous["message"]
    for node in (0, 1):
        per_node = field[(CheckId.HUGEPAGES_PER_NODE.id, node)]
        assert per_node["outcome"] == "passed"
        assert "1G: total 170, free 14, surplus 0" in per_node["message"]
    assert field[(CheckId.CMDLINE_HUGEPAGES.id, None)]["outcome"] == "passed"
    assert field[(CheckId.HUGEPAGE_BACKING.id, None)]["outcome"] == "skipped"
    assert summary["hosts"]["field-node"]["verdict"] == "fail"
    # what the gate asks: the tables (44 × order 10 …) plus contiguity_spare_blocks (2 by default)
    assert summary["hosts"]["field-node"]["demand"]["buddy_blocks"] == {"10": 46, "9": 2, "8": 1}
    assert summary["hosts"]["field-node"]["supply"]["free_blocks"]["1"]["Normal"][10] == 1
    # a snapshot runs no commands: the trial is not run, and the summary says why
    assert {"id": CheckId.TRIAL_ALLOCATION.id, "reason": SNAPSHOT_NOT_LIVE} in summary["hosts"]["field-node"]["not_run"]

    hugepage_mode = checks_of(summary, "field-node-1g")
    assert hugepage_mode[(CheckId.HUGEPAGE_BACKING.id, None)]["outcome"] == "passed"
    assert hugepage_mode[(CheckId.CONTIGUOUS_BLOCKS.id, None)]["outcome"] == "passed"
    assert "hugepage mode" in hugepage_mode[(CheckId.CONTIGUOUS_BLOCKS.id, None)]["message"]
    assert summary["hosts"]["field-node-1g"]["demand"]["hugepages"] == {"1G": 2}
    assert summary["hosts"]["field-node-1g"]["verdict"] == "pass"
    # The residual ask (one 4 MiB nexthop part and small parts) plus the default 2 spare 4 MiB blocks is
    # more than the 3 usable blocks give once a small part has split one of them.
    spare = checks_of(summary, "field-node-1g-spare")[(CheckId.CONTIGUOUS_BLOCKS.id, None)]
    assert spare["outcome"] == "failed"
    assert "(hugepage mode, residual requests; 2 spare order-10 included)" in spare["message"]
    assert "3 × order 10 (4 MiB)" in spare["message"]

    healthy = checks_of(summary, "healthy-node")
    assert {c["outcome"] for c in healthy.values()} == {"passed"}
    assert summary["hosts"]["healthy-node"]["verdict"] == "pass"

    # JUnit and Allure tell the same story as the JSON summary.
    from_summary = {
        (host, check_id, node): check["outcome"]
        for host in summary["hosts"]
        for (check_id, node), check in checks_of(summary, host).items()
    }
    assert junit_outcomes(junit) == from_summary
    results = load_results(alluredir)
    validate_results(results, alluredir)
    assert allure_outcomes(results) == from_summary
    title = next(
        r["name"]
        for r in results
        if labels(r, "check_id") == [CheckId.CONTIGUOUS_BLOCKS.id] and parameters(r)["host"] == "field-node"
    )
    assert title.startswith("field-node: not enough contiguous memory")
    assert (alluredir / "environment.properties").read_text().count("inventory=") == 1
    assert {c["name"] for c in json.loads((alluredir / "categories.json").read_text())} >= {
        "Insufficient contiguous memory",
        "Hugepage misconfiguration",
        "Unreachable",
    }


def junit_outcomes(path: Path) -> dict[Key, str]:
    outcomes: dict[Key, str] = {}
    for case in ET.parse(path).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome = "passed"
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            if case.find(tag) is not None:
                outcome = name
        node = props.get("node")
        outcomes[(str(props["host"]), str(props["check"]), int(node) if node is not None else None)] = outcome
    return outcomes


def allure_outcomes(results: list[dict[str, Any]]) -> dict[Key, str]:
    status = {"passed": "passed", "failed": "failed", "broken": "error", "skipped": "skipped"}
    outcomes: dict[Key, str] = {}
    for result in results:
        params = parameters(result)
        node = params.get("node")
        key = (params["host"], labels(result, "check_id")[0], int(node) if node not in (None, "None") else None)
        outcomes[key] = status[result["status"]]
    return outcomes


def test_each_check_fails_with_what_and_how_much(tmp_path: Path) -> None:
    field_report_node(tmp_path / "field")
    node1_short = "/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"
    field_report_node(
        tmp_path / "short",
        extra={node1_short: "168\n", "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages": "338\n"},
    )
    field_report_node(tmp_path / "no-free-1g", free_1g=(0, 1), normal_order10=(300, 280))
    field_report_node(
        tmp_path / "no-mount", normal_order10=(300, 280), extra={"/proc/mounts": "proc /proc proc rw 0 0\n"}
    )
    inventory = write_inventory(
        tmp_path / "fleet.yaml",
        {
            "wrong-cmdline": {"path": "field", "expect": {"hugepages": {"1G": 360}}},
            "short-node": {"path": "short"},
            "keeps-20-free": {"path": "field", "min_free_1g_per_node": 20},
            "no-free-1g": {"path": "no-free-1g", "vrouter": {"hugepage_size": "1G"}},
            "no-mount": {"path": "no-mount", "vrouter": {"hugepage_size": "1G"}},
        },
    )
    rc, summary, stdout = run_gate(tmp_path, inventory)
    assert rc == 1, stdout
    wrong = checks_of(summary, "wrong-cmdline")[(CheckId.CMDLINE_HUGEPAGES.id, None)]
    assert wrong["outcome"] == "failed"
    assert "the command line asks for 340 × 1G, the inventory expects 360 × 1G" in wrong["message"]
    assert "1G: 340 of 360 reserved" in wrong["message"]
    short = checks_of(summary, "short-node")[(CheckId.CMDLINE_HUGEPAGES.id, None)]
    assert short["outcome"] == "failed"
    assert "2 missing on node 1 (168 of 170)" in short["message"]
    keeps = checks_of(summary, "keeps-20-free")
    assert keeps[(CheckId.HUGEPAGES_PER_NODE.id, 0)]["outcome"] == "failed"
    assert "node 0 has 14 free 1G hugepages, needs 20" in keeps[(CheckId.HUGEPAGES_PER_NODE.id, 0)]["message"]
    backing = checks_of(summary, "no-free-1g")[(CheckId.HUGEPAGE_BACKING.id, None)]
    assert backing["outcome"] == "failed"
    assert "1 1G hugepage available (free 1 − reserved 0), the tables need 2" in backing["message"]
    assert checks_of(summary, "no-free-1g")[(CheckId.CONTIGUOUS_BLOCKS.id, None)]["outcome"] == "passed"
    unmounted = checks_of(summary, "no-mount")[(CheckId.HUGEPAGE_BACKING.id, None)]
    assert unmounted["outcome"] == "failed"
    assert "no hugetlbfs mount with pagesize=1G" in unmounted["message"]


def test_2m_hugepage_mode(tmp_path: Path) -> None:
    def with_2m(root: str, free_per_node: int) -> None:
        files = {"/proc/mounts": "hugetlbfs /dev/hugepages2M hugetlbfs rw,relatime,pagesize=2M 0 0\n"}
        hp = "/sys/kernel/mm/hugepages/hugepages-2048kB"
        files.update({f"{hp}/nr_hugepages": "1024\n", f"{hp}/free_hugepages": f"{2 * free_per_node}\n"})
        for node in (0, 1):
            base = f"/sys/devices/system/node/node{node}/hugepages/hugepages-2048kB"
            files.update({f"{base}/nr_hugepages": "512\n", f"{base}/free_hugepages": f"{free_per_node}\n"})
        field_report_node(tmp_path / root, normal_order10=(300, 280), extra=files)

    with_2m("enough", 64)
    with_2m("too-few", 40)
    inventory = write_inventory(
        tmp_path / "fleet.yaml",
        {
            "enough": {"path": "enough", "vrouter": {"hugepage_size": "2M"}},
            "too-few": {"path": "too-few", "vrouter": {"hugepage_size": "2M"}},
        },
    )
    rc, summary, stdout = run_gate(tmp_path, inventory)
    assert rc == 1, stdout
    assert checks_of(summary, "enough")[(CheckId.HUGEPAGE_BACKING.id, None)]["outcome"] == "passed"
    assert summary["hosts"]["enough"]["demand"]["hugepages"] == {"2M": 87}
    too_few = checks_of(summary, "too-few")[(CheckId.HUGEPAGE_BACKING.id, None)]
    assert too_few["outcome"] == "failed"
    assert "80 2M hugepages available (free 80 − reserved 0), the tables need 87" in too_few["message"]


def test_cannot_judge_is_an_error_and_one_node_machines_work(tmp_path: Path) -> None:
    build_tree(
        tmp_path / "desktop",
        buddyinfo="ubuntu1204-3.2-8g.txt",
        zoneinfo="ubuntu1204-3.2.txt",
        meminfo="ubuntu1204-3.2-8g.txt",
        cmdline="ubuntu1204-3.2-generic.txt",
        extra={"/proc/sys/kernel/osrelease": "3.2.0-58-generic\n"},
    )
    build_tree(
        tmp_path / "no-zoneinfo",
        buddyinfo="lkml-fb-3.10-2node.txt",
        meminfo="ubuntu1204-3.2-8g.txt",
        cmdline="ubuntu1204-3.2-generic.txt",
        extra={"/proc/sys/kernel/osrelease": "3.10.0\n"},
    )
    build_tree(
        tmp_path / "no-buddyinfo",
        meminfo="ubuntu1204-3.2-8g.txt",
        cmdline="ubuntu1204-3.2-generic.txt",
        extra={"/proc/sys/kernel/osrelease": "3.2.0\n"},
    )
    inventory = write_inventory(
        tmp_path / "fleet.yaml",
        {
            "desktop": {"path": "desktop"},
            "no-zoneinfo": {"path": "no-zoneinfo"},
            "no-buddyinfo": {"path": "no-buddyinfo", "page_size": 4096},
        },
    )
    rc, summary, stdout = run_gate(tmp_path, inventory)
    assert rc == 1, stdout
    desktop = checks_of(summary, "desktop")
    assert desktop[(CheckId.CONTIGUOUS_BLOCKS.id, None)]["outcome"] == "passed"
    assert desktop[(CheckId.CMDLINE_HUGEPAGES.id, None)]["outcome"] == "skipped"
    no_zoneinfo = checks_of(summary, "no-zoneinfo")[(CheckId.CONTIGUOUS_BLOCKS.id, None)]
    assert no_zoneinfo["outcome"] == "failed"
    assert "only Normal zones counted" in no_zoneinfo["message"]
    blind = checks_of(summary, "no-buddyinfo")[(CheckId.CONTIGUOUS_BLOCKS.id, None)]
    assert blind["outcome"] == "error"
    assert "cannot judge: /proc/buddyinfo: absent" in blind["message"]
    assert summary["hosts"]["no-buddyinfo"]["verdict"] == "error"
