"""categories.json against the checks' real results, as Allure 2 itself files them.

A snapshot fleet with one host per failure the board cares about is run
through the whole suite; the report is built and Allure's own
``data/categories.json`` (Java's full-match regexes, every category that
matches) is read back: each failing, broken or skipped result is in exactly
the category of its typed cause, and each host's overview only in "Hosts held
back". The hosts are named with other categories' words (a contiguous-memory
failure on ``unreachable-hugepage-lab``, an unreachable ``hugepage-contiguous-gone``),
so every message carries words of a category it does not belong to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import labels, load_results, parameters
from tests.gate_snapshots import field_report_node
from tests.snapshot_trees import build_tree
from tests.suite_runs import INSTALLED_ALLURE, run_suite
from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.reporting.allure_report import CATEGORIES
from vrouter_preflight.reporting.build_report import build_report

pytestmark = pytest.mark.timeout(300)

CONTIGUOUS = "Insufficient contiguous memory"
HUGEPAGES = "Hugepage misconfiguration"
CANNOT_JUDGE = "Unsupported / cannot judge"
NOT_APPLICABLE = "Not applicable"
#: (host, check) of every result that does not pass (per-node checks: every node) -> its board class
EXPECTED = {
    ("unreachable-hugepage-lab", CheckId.CONTIGUOUS_BLOCKS): CONTIGUOUS,
    ("unreachable-hugepage-lab", CheckId.HUGEPAGE_BACKING): NOT_APPLICABLE,
    ("contiguous-absent", CheckId.CMDLINE_HUGEPAGES): HUGEPAGES,
    ("contiguous-absent", CheckId.CONTIGUOUS_BLOCKS): CONTIGUOUS,
    ("contiguous-absent", CheckId.HUGEPAGE_BACKING): NOT_APPLICABLE,
    ("contiguous-7", CheckId.HUGEPAGES_PER_NODE): HUGEPAGES,
    ("contiguous-7", CheckId.HUGEPAGE_BACKING): NOT_APPLICABLE,
    ("unreachable-1g", CheckId.HUGEPAGE_BACKING): HUGEPAGES,
    ("unsupported-contiguous", CheckId.HUGEPAGE_BACKING): HUGEPAGES,
    ("hugepage-contiguous-node", CheckId.CONTIGUOUS_BLOCKS): CANNOT_JUDGE,
    ("hugepage-contiguous-node", CheckId.FACTS_PARSE): CANNOT_JUDGE,
    ("hugepage-contiguous-node", CheckId.HUGEPAGES_PER_NODE): CANNOT_JUDGE,
    ("hugepage-contiguous-node", CheckId.CMDLINE_HUGEPAGES): NOT_APPLICABLE,
    ("hugepage-contiguous-node", CheckId.HUGEPAGE_BACKING): NOT_APPLICABLE,
    ("hugepage-contiguous-gone", CheckId.REACHABLE): "Unreachable",
}
#: What the old word-matching categories looked for; every failure here carries words of another class.
WORDS = {
    CONTIGUOUS: re.compile(r"[Cc]ontiguous"),
    HUGEPAGES: re.compile(r"[Hh]ugepage"),
    "Unreachable": re.compile(r"unreachable|connection refused|timed out"),
    CANNOT_JUDGE: re.compile(r"cannot judge|[Uu]nsupported|absent"),
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
        "unreachable-hugepage-lab": {**snapshot, "path": "field"},
        "contiguous-absent": {**snapshot, "path": "field", "expect": {"hugepages": {"1G": 360}}},
        "contiguous-7": {**snapshot, "path": "no-mount", "min_free_1g_per_node": 20},
        "unreachable-1g": {**snapshot, "path": "no-free-1g", "vrouter": {"hugepage_size": "1G"}},
        "unsupported-contiguous": {**snapshot, "path": "no-mount", "vrouter": {"hugepage_size": "1G"}},
        "hugepage-contiguous-node": {**snapshot, "path": "no-buddyinfo", "page_size": 4096},
        "hugepage-contiguous-gone": {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3},
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps({"defaults": {}, "hosts": hosts}))
    return path


def test_every_real_failure_is_in_the_class_of_its_cause_and_overviews_only_in_hosts_held_back(
    tmp_path: Path,
) -> None:
    alluredir, summary_path = tmp_path / "allure-results", tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet(tmp_path)), f"--alluredir={alluredir}", f"--summary-json={summary_path}")
    assert run.returncode == 1, run.stdout + run.stderr
    results = load_results(alluredir)
    titles: dict[str, tuple[str, CheckId]] = {}
    messages: dict[tuple[str, CheckId], str] = {}
    for result in results:
        if result["status"] != "passed":
            check = CheckId.named(labels(result, "check_id")[0])
            assert check is not None, result["name"]
            key = (parameters(result)["host"], check)
            titles[result["name"]] = key
            messages[key] = result["statusDetails"]["message"]
    assert set(titles.values()) == set(EXPECTED), "the fleet fails exactly as planned"
    for key, message in messages.items():
        misleading = [name for name, words in WORDS.items() if name != EXPECTED[key] and words.search(message)]
        if EXPECTED[key] != NOT_APPLICABLE:
            assert misleading, f"{key}: the message names no other class's words: {message[:200]}"

    built = build_report(alluredir, summary_path, tmp_path / "report", tmp_path / "history", allure=INSTALLED_ALLURE)
    allure_categories = json.loads((built.site / "data" / "categories.json").read_text())
    filed: dict[str, list[str]] = {}
    for category in allure_categories["children"]:  # category -> message -> results
        for message in category["children"]:
            for child in message["children"]:
                filed.setdefault(child["name"], []).append(category["name"])

    for title, key in titles.items():
        assert filed.get(title) == [EXPECTED[key]], f"{key}: {title[:120]} filed under {filed.get(title)}"
        # Allure 3 searches instead of matching the whole message: the same single class.
        status = next(r["status"] for r in results if r["name"] == title)
        searched = [
            c["name"]
            for c in CATEGORIES
            if status in c["matchedStatuses"] and re.search(c.get("messageRegex", ""), messages[key])
        ]
        assert searched == [EXPECTED[key]], f"{key}: {messages[key][:120]} searched into {searched}"
    summary = load_summary(summary_path)
    held_back = [name for name, host in summary["hosts"].items() if host["verdict"] != "pass"]
    overviews = {title: cats for title, cats in filed.items() if cats == ["Hosts held back"]}
    assert sorted(title.split(":")[0] for title in overviews) == sorted(held_back)
    assert len(filed) == len(titles) + len(held_back), "nothing else is filed anywhere"
