"""The change board's view: verdicts, findings and actions per host, the overview results
`make report` adds, and the builder refusing results and a summary of different runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import load_results, validate_results
from vrouter_preflight.reporting.board import ACTIONS, PASS_ACTION, host_overviews, overview_result
from vrouter_preflight.reporting.build_report import ReportError, build_report, executor, write_overviews

FIELD_MESSAGE = (
    "field-node: not enough contiguous memory for a reload (buddy mode): reload does not fit: 44 × order 10 "
    "(4 MiB) requested, 45 find no block; to fix: free 1 × 1G page on node 0 or on node 1; per zone: …"
)


def summary() -> dict[str, Any]:
    def check(check_id: str, outcome: str, message: str = "", node: int | None = None) -> dict[str, Any]:
        return {"id": check_id, "node": node, "outcome": outcome, "message": message}

    return {
        "inventory": "inventory/prod.yaml",
        "generated_at": "2026-11-26T14:18:05Z",
        "hosts": {
            "field-node": {
                "verdict": "fail",
                "error": None,
                "counts": {"passed": 5, "failed": 1, "error": 0, "skipped": 1},
                "checks": [check("reachable", "passed"), check("contiguous_blocks", "failed", FIELD_MESSAGE)],
                "demand": {"buddy_blocks": {"10": 44, "9": 2}, "hugepages": {}},
                "supply": {
                    "free_blocks": {"0": {"Normal": [5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 2]}, "1": {"Normal": [9] * 11}},
                    "hugepages": {"1048576": {"0": {"total": 170, "free": 14, "surplus": 0}}},
                    "hugepages_global": {},
                },
                "not_run": [{"id": "remediation", "reason": "needs --destructive"}],
            },
            "healthy-node": {
                "verdict": "pass",
                "error": None,
                "counts": {"passed": 7, "failed": 0, "error": 0, "skipped": 0},
                "checks": [check("reachable", "passed")],
                "demand": None,
                "supply": None,
            },
            "gone-node": {
                "verdict": "error",
                "error": "connection refused",
                "counts": {"passed": 0, "failed": 0, "error": 1, "skipped": 0},
                "checks": [check("reachable", "error", "gone-node (127.0.0.1:1): connection refused")],
                "demand": None,
                "supply": None,
            },
        },
    }


def test_each_host_gets_its_verdict_what_failed_and_the_action() -> None:
    field, healthy, gone = host_overviews(summary())
    assert field.headline == "Host verdict FAIL: field-node: 1 of 6 checks did not pass: contiguous_blocks"
    (action,) = field.actions
    assert action.startswith(ACTIONS["contiguous_blocks"])
    assert action.endswith("To fix: free 1 × 1G page on node 0 or on node 1.")
    assert field.not_run == (("remediation", "needs --destructive"),)
    assert healthy.actions == (PASS_ACTION,) and healthy.headline.endswith("passed all 7 checks")
    assert gone.headline == "Host verdict ERROR: gone-node could not be checked: connection refused"
    assert gone.actions == (ACTIONS["reachable"],)


def test_overview_results_are_valid_allure_results_with_a_stable_history_id(tmp_path: Path) -> None:
    count = write_overviews(tmp_path, summary(), start_ms=1_795_000_000_000)
    assert count == 3
    results = {r["parameters"][0]["value"]: r for r in load_results(tmp_path)}
    validate_results(list(results.values()), tmp_path)
    assert {h: r["status"] for h, r in results.items()} == {
        "field-node": "failed",
        "healthy-node": "passed",
        "gone-node": "broken",
    }
    field = results["field-node"]
    assert field["name"] == "field-node: FAIL — contiguous_blocks"
    assert [a["type"] for a in field["attachments"]] == ["text/html", "image/png", "image/png"]
    assert [a["type"] for a in results["healthy-node"]["attachments"]] == ["text/html"], "no pictures for a pass"
    assert "Recommended action" in field["descriptionHtml"] and "inventory/prod.yaml" in field["descriptionHtml"]
    again = overview_result(host_overviews(summary())[0], uuid="other", start_ms=0)
    assert again["historyId"] == field["historyId"], "the trend follows a host from run to run"


def test_the_overview_escapes_what_hosts_report() -> None:
    data = summary()
    data["hosts"]["field-node"]["checks"][1]["message"] = "<script>alert(1)</script>"
    page = overview_result(host_overviews(data)[0], uuid="u", start_ms=0)["descriptionHtml"]
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_executor_names_the_report_after_the_inventory() -> None:
    assert executor(summary())["reportName"] == "vRouter preflight: inventory/prod.yaml"


def test_the_builder_refuses_missing_or_mismatched_inputs(tmp_path: Path) -> None:
    results, summary_path = tmp_path / "results", tmp_path / "summary.json"
    with pytest.raises(ReportError, match="no Allure results"):
        build_report(results, summary_path, tmp_path / "out", tmp_path / "history")
    results.mkdir()
    (results / "1-result.json").write_text(
        json.dumps({"uuid": "1", "name": "x", "status": "passed", "parameters": [{"name": "host", "value": "'c9'"}]})
    )
    with pytest.raises(ReportError, match="no JSON summary"):
        build_report(results, summary_path, tmp_path / "out", tmp_path / "history")
    summary_path.write_text(json.dumps(summary()))
    with pytest.raises(ReportError, match=r"not from the run .*\['c9'\]"):
        build_report(results, summary_path, tmp_path / "out", tmp_path / "history")
