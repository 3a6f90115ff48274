"""categories.json against the checks' real messages, as Allure 2 itself files them.

A snapshot fleet with one host per failure the board cares about is run
through the whole suite; the report is built and Allure's own
``data/categories.json`` (Java's full-match regexes, every category that
matches) is read back: each failing, broken or skipped result is in exactly
its board class, and each host's overview only in "Hosts held back".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import labels, load_results, parameters
from tests.gate_snapshots import field_report_node
from tests.snapshot_trees import build_tree
from tests.suite_runs import INSTALLED_ALLURE, run_suite
from vrouter_preflight.reporting.build_report import build_report

pytestmark = pytest.mark.timeout(300)

#: (host, check id) of every result that does not pass (per-node checks: every node) -> its board class
EXPECTED = {
    ("field-node", "contiguous_blocks"): "Insufficient contiguous memory",
    ("field-node", "hugepage_backing"): "Not applicable",
    ("wrong-cmdline", "cmdline_hugepages"): "Hugepage misconfiguration",
    ("wrong-cmdline", "contiguous_blocks"): "Insufficient contiguous memory",
    ("wrong-cmdline", "hugepage_backing"): "Not applicable",
    ("keeps-20-free", "hugepages_per_node"): "Hugepage misconfiguration",
    ("keeps-20-free", "hugepage_backing"): "Not applicable",
    ("no-free-1g", "hugepage_backing"): "Hugepage misconfiguration",
    ("no-mount", "hugepage_backing"): "Hugepage misconfiguration",
    ("no-buddyinfo", "contiguous_blocks"): "Unsupported / cannot judge",
    ("no-buddyinfo", "facts_parse"): "Unsupported / cannot judge",
    ("no-buddyinfo", "hugepages_per_node"): "Unsupported / cannot judge",
    ("no-buddyinfo", "cmdline_hugepages"): "Not applicable",
    ("no-buddyinfo", "hugepage_backing"): "Not applicable",
    ("gone-node", "reachable"): "Unreachable",
}


def fleet(tmp_path: Path) -> Path:
    field_report_node(tmp_path / "field")
    field_report_node(tmp_path / "no-free-1g", free_1g=(0, 1), normal_order10=(300, 280))
    field_report_node(
        tmp_path / "no-mount", normal_order10=(300, 280), extra={"/proc/mounts": "proc /proc proc rw 0 0\n"}
    )
    build_tree(
        tmp_path / "no-buddyinfo",
        meminfo="ubuntu1204-3.2-8g.txt",
        cmdline="ubuntu1204-3.2-generic.txt",
        extra={"/proc/sys/kernel/osrelease": "3.2.0\n"},
    )
    snapshot = {"transport": "snapshot"}
    hosts: dict[str, dict[str, Any]] = {
        "field-node": {**snapshot, "path": "field"},
        "wrong-cmdline": {**snapshot, "path": "field", "expect": {"hugepages": {"1G": 360}}},
        "keeps-20-free": {**snapshot, "path": "no-mount", "min_free_1g_per_node": 20},
        "no-free-1g": {**snapshot, "path": "no-free-1g", "vrouter": {"hugepage_size": "1G"}},
        "no-mount": {**snapshot, "path": "no-mount", "vrouter": {"hugepage_size": "1G"}},
        "no-buddyinfo": {**snapshot, "path": "no-buddyinfo", "page_size": 4096},
        "gone-node": {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3},
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps({"defaults": {}, "hosts": hosts}))
    return path


def test_every_real_failure_is_in_its_board_class_and_overviews_only_in_hosts_held_back(tmp_path: Path) -> None:
    alluredir, summary_path = tmp_path / "allure-results", tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet(tmp_path)), f"--alluredir={alluredir}", f"--summary-json={summary_path}")
    assert run.returncode == 1, run.stdout + run.stderr
    results = load_results(alluredir)
    titles = {}
    for result in results:
        if result["status"] != "passed":
            titles[result["name"]] = (parameters(result)["host"], labels(result, "check_id")[0])
    assert set(titles.values()) == set(EXPECTED), "the fleet fails exactly as planned"

    built = build_report(alluredir, summary_path, tmp_path / "report", tmp_path / "history", allure=INSTALLED_ALLURE)
    allure_categories = json.loads((built.site / "data" / "categories.json").read_text())
    filed: dict[str, list[str]] = {}
    for category in allure_categories["children"]:  # category -> message -> results
        for message in category["children"]:
            for child in message["children"]:
                filed.setdefault(child["name"], []).append(category["name"])

    for title, key in titles.items():
        assert filed.get(title) == [EXPECTED[key]], f"{key}: {title[:120]} filed under {filed.get(title)}"
    summary = json.loads(summary_path.read_text())
    held_back = [name for name, host in summary["hosts"].items() if host["verdict"] != "pass"]
    overviews = {title: cats for title, cats in filed.items() if cats == ["Hosts held back"]}
    assert sorted(title.split(":")[0] for title in overviews) == sorted(held_back)
    assert len(filed) == len(titles) + len(held_back), "nothing else is filed anywhere"
