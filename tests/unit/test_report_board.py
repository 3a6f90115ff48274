"""The change board's view: verdicts, findings and actions per host, the overview results
`make report` adds, and the builder refusing results and a summary of different runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attr
import pytest
from allure_commons import model2

from tests.allure_results import load_results, validate_results
from tests.summaries import validate_summary
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.reporting.board import ACTIONS, NEAR_ACTION, PASS_ACTION, host_overviews, overview_result
from vrouter_preflight.reporting.build_report import (
    PARALLEL_FROM,
    ReportError,
    build_report,
    executor,
    overview_charts,
    pictures_of,
    write_overviews,
)

FIELD_MESSAGE = (
    "field-node: not enough contiguous memory for a reload (buddy mode): reload does not fit: 44 × order 10 "
    "(4 MiB) requested, 45 find no block; to fix: free 1 × 1G page on node 0 or on node 1; per zone: …"
)


def summary() -> dict[str, Any]:
    """A summary of three hosts (one fails, one passes, one was not reached), as a run writes it."""

    def check(check: CheckId, outcome: str, message: str = "", node: int | None = None) -> dict[str, Any]:
        return {"id": check.id, "node": node, "outcome": outcome, "message": message}

    return {
        "schema_version": 1,
        "suite_version": "0.1.0",
        "inventory": "inventory/prod.yaml",
        "generated_at": "2026-11-26T14:18:05Z",
        "exit_status": 1,
        "verdict": "error",
        "hosts": {
            "field-node": {
                "verdict": "fail",
                "error": None,
                "counts": {"passed": 5, "failed": 1, "error": 0, "skipped": 1},
                "checks": [
                    check(CheckId.REACHABLE, "passed"),
                    check(CheckId.CONTIGUOUS_BLOCKS, "failed", FIELD_MESSAGE),
                ],
                "demand": {"buddy_blocks": {"10": 44, "9": 2}, "hugepages": {}},
                "supply": {
                    "free_blocks": {"0": {"Normal": [5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 2]}, "1": {"Normal": [9] * 11}},
                    "hugepages": {"1048576": {"0": {"total": 170, "free": 14, "surplus": 0}}},
                    "hugepages_global": {},
                },
                "not_run": [{"id": CheckId.REMEDIATION.id, "reason": "needs --destructive"}],
            },
            "healthy-node": {
                "verdict": "pass",
                "error": None,
                "counts": {"passed": 7, "failed": 0, "error": 0, "skipped": 0},
                "checks": [check(CheckId.REACHABLE, "passed")],
                "demand": None,
                "supply": None,
                "not_run": [],
            },
            "gone-node": {
                "verdict": "error",
                "error": "connection refused",
                "counts": {"passed": 0, "failed": 0, "error": 1, "skipped": 0},
                "checks": [check(CheckId.REACHABLE, "error", "gone-node (127.0.0.1:1): connection refused")],
                "demand": None,
                "supply": None,
                "not_run": [],
            },
        },
    }


def test_each_host_gets_its_verdict_what_failed_and_the_action() -> None:
    field, healthy, gone = host_overviews(summary())
    assert field.headline == "Host verdict FAIL: field-node: 1 of 6 checks did not pass: contiguous_blocks"
    (action,) = field.actions
    assert action.startswith(ACTIONS[CheckId.CONTIGUOUS_BLOCKS])
    assert action.endswith("To fix: free 1 × 1G page on node 0 or on node 1.")
    assert field.not_run == ((CheckId.REMEDIATION.id, "needs --destructive"),)
    assert healthy.actions == (PASS_ACTION,) and healthy.headline.endswith("passed all 7 checks")
    assert gone.headline == "Host verdict ERROR: gone-node could not be checked: connection refused"
    assert gone.actions == (ACTIONS[CheckId.REACHABLE],)


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
    assert again.historyId == field["historyId"], "the trend follows a host from run to run"


def test_overview_results_are_allure_commons_own_model_as_its_file_logger_writes_it(tmp_path: Path) -> None:
    write_overviews(tmp_path, summary(), start_ms=1_795_000_000_000)
    model = {field.name for field in attr.fields(model2.TestResult)}
    for written in load_results(tmp_path):
        assert set(written) <= model, set(written) - model
        rebuilt = model2.TestResult(**written)
        assert attr.asdict(rebuilt, filter=lambda _, value: value or value is False) == written
        assert {label["name"] for label in written["labels"]} >= {"parentSuite", "suite", "severity"}
    gone = next(r for r in load_results(tmp_path) if r["parameters"] == [{"name": "host", "value": "gone-node"}])
    assert gone["statusDetails"] == {
        "message": "Host verdict ERROR: gone-node could not be checked: connection refused",
        "trace": ACTIONS[CheckId.REACHABLE],
    }


def test_the_board_summary_follows_the_published_schema() -> None:
    validate_summary(summary())


def test_the_overview_escapes_what_hosts_report() -> None:
    data = summary()
    data["hosts"]["field-node"]["checks"][1]["message"] = "<script>alert(1)</script>"
    page = overview_result(host_overviews(data)[0], uuid="u", start_ms=0).descriptionHtml
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


def near_limit(usable: int) -> dict[str, Any]:
    """A passing host whose usable 4 MiB blocks are ``usable`` against a need of 46."""
    healthy = summary()["hosts"]["field-node"]
    return {
        **healthy,
        "verdict": "pass",
        "counts": {"passed": 7, "failed": 0, "error": 0, "skipped": 0},
        "checks": [],
        "demand": {"chunk_order": 10, "buddy_blocks": {"10": 46, "9": 2}, "hugepages": {}},
        "supply": {**healthy["supply"], "usable_chunks": {"0": usable // 2, "1": usable - usable // 2}},
    }


def test_a_passing_host_close_to_the_limit_gets_its_pictures_and_a_warning(tmp_path: Path) -> None:
    close, comfortable = near_limit(50), near_limit(200)
    overviews = host_overviews({"hosts": {"close": close, "comfortable": comfortable}})
    assert [o.near for o in overviews] == [True, False]
    assert [o.pictured for o in overviews] == [True, False]
    assert overviews[0].headline == (
        "Host verdict PASS: close passed all 7 checks; close to the limit: 4 spare 4 MiB blocks beyond the 46 a "
        "reload needs"
    )
    assert overviews[0].actions == (NEAR_ACTION,) and overviews[1].actions == (PASS_ACTION,)
    write_overviews(tmp_path, {"hosts": {"close": close, "comfortable": comfortable}}, start_ms=1_795_000_000_000)
    pictures = {r["parameters"][0]["value"]: [a["type"] for a in r["attachments"]] for r in load_results(tmp_path)}
    assert pictures == {"close": ["text/html", "image/png", "image/png"], "comfortable": ["text/html"]}


def test_many_pictured_hosts_are_drawn_in_parallel_processes_with_the_same_bytes() -> None:
    overviews = host_overviews({"hosts": {f"c{n}": near_limit(40 + n) for n in range(PARALLEL_FROM + 1)}})
    in_parallel = pictures_of(overviews, workers=2)
    assert in_parallel == [overview_charts(overview) for overview in overviews]
    assert all(len(pictures) == 2 for pictures in in_parallel)
