"""Links for change boards: ``--change-ticket`` on every Allure result and in the summary, ``executor.json`` from the
CI's environment, and one report (one executor) from a region's shards.

The fleet: a healthy and a failing snapshot host (the field report's node) and an SSH host nobody listens for (an
ERROR), run with ``-n 2`` so that the results written by xdist's workers are checked too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.gate_snapshots import field_report_node
from tests.suite_runs import INSTALLED_ALLURE, run_suite
from tests.summaries import load_summary
from vrouter_preflight.reporting.build_report import build_report

TICKET = "CHG0012345"
PATTERN = "https://jira.example.com/browse/{}"
TICKET_URL = f"https://jira.example.com/browse/{TICKET}"
PIPELINE_URL = "https://gitlab.example.com/ops/region/-/pipelines/104832"
#: A GitLab job of a parallel:2 matrix (GITLAB_CI tells the CI; the CI_* variables fill executor.json).
GITLAB_JOB = {
    "GITLAB_CI": "true",
    "CI_SERVER_NAME": "GitLab",
    "CI_PROJECT_PATH": "ops/region",
    "CI_PROJECT_URL": "https://gitlab.example.com/ops/region",
    "CI_PIPELINE_ID": "104832",
    "CI_PIPELINE_URL": PIPELINE_URL,
    "CI_JOB_NAME": "preflight 1/2",
    "CI_JOB_URL": "https://gitlab.example.com/ops/region/-/jobs/5527001",
}
#: What tells each CI (ci_executor.ci_name): cleared so that a run of these tests inside a CI is not one.
CI_MARKERS = ("GITLAB_CI", "GITHUB_ACTIONS", "JENKINS_URL", "BUILD_URL")


@pytest.fixture
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CI_MARKERS, *GITLAB_JOB):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("links-fleet")
    hosts: dict[str, Any] = {}
    for name, order10 in (("healthy", (60, 60)), ("short", (2, 1))):
        field_report_node(root / name, normal_order10=order10)
        hosts[name] = {"transport": "snapshot", "path": name}
    hosts["gone"] = {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3}
    path = root / "region.yaml"
    path.write_text(json.dumps({"hosts": hosts}))
    return path


def results_of(alluredir: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(alluredir.glob("*-result.json"))]


def test_every_result_and_the_summary_carry_the_ticket_and_executor_json_names_the_pipeline(
    fleet: Path, tmp_path: Path, outside_ci: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GITLAB_JOB.items():
        monkeypatch.setenv(name, value)
    alluredir, summary = tmp_path / "allure-results", tmp_path / "summary.json"
    run = run_suite(
        "--inventory", str(fleet), f"--summary-json={summary}", f"--alluredir={alluredir}", "-n", "2",
        "--change-ticket", TICKET, "--change-ticket-url", PATTERN,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    report = load_summary(summary)
    assert [report["hosts"][name]["verdict"] for name in ("healthy", "short", "gone")] == ["pass", "fail", "error"]
    assert report["change_ticket"] == {"id": TICKET, "url": TICKET_URL}

    results = results_of(alluredir)
    statuses = {result["status"] for result in results}
    assert {"passed", "failed", "broken"} <= statuses, statuses  # the ERROR's results carry it as well
    for result in results:
        labels = [(label["name"], label["value"]) for label in result["labels"]]
        assert labels.count(("change_ticket", TICKET)) == 1, (result["name"], labels)
        assert result["links"] == [{"type": "issue", "url": TICKET_URL, "name": TICKET}], result["name"]

    environment = (alluredir / "environment.properties").read_text(encoding="ascii")
    assert f"change_ticket={TICKET}\n" in environment
    assert "change_ticket_url=https\\://jira.example.com/browse/CHG0012345\n" in environment
    executor = json.loads((alluredir / "executor.json").read_text(encoding="utf-8"))
    assert executor == {
        "name": "GitLab",
        "type": "gitlab",
        "url": "https://gitlab.example.com/ops/region",
        "buildOrder": 104832,
        "buildName": "ops/region #104832 (preflight 1/2)",
        "buildUrl": PIPELINE_URL,
        "reportName": f"vRouter preflight: {fleet}",
    }
    assert [path.name for path in alluredir.iterdir() if path.name.startswith(".")] == []  # no temporary file left


def test_outside_a_ci_and_without_a_ticket_neither_is_written(fleet: Path, tmp_path: Path, outside_ci: None) -> None:
    alluredir, summary = tmp_path / "allure-results", tmp_path / "summary.json"
    run = run_suite(
        "--inventory", str(fleet), f"--summary-json={summary}", f"--alluredir={alluredir}", "--change-ticket", ""
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "change_ticket" not in load_summary(summary)
    assert not (alluredir / "executor.json").exists()
    for result in results_of(alluredir):
        assert not result.get("links") and "change_ticket" not in {label["name"] for label in result["labels"]}


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--change-ticket", "CHG1\x1b[2J", "argument --change-ticket: expected a ticket id ("),
        ("--change-ticket", "x" * 65, "at most 64 characters"),
        ("--change-ticket-url", "javascript:alert({})", "argument --change-ticket-url: expected an http(s) URL"),
    ],
    ids=["control-character", "too-long", "not-http"],
)
def test_a_bad_ticket_or_pattern_is_exit_4_before_any_host(
    fleet: Path, tmp_path: Path, option: str, value: str, said: str
) -> None:
    summary = tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet), f"--summary-json={summary}", option, value)
    assert run.returncode == 4, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and said in errors[0], run.stderr
    assert "\x1b" not in run.stdout + run.stderr and "Traceback" not in run.stdout + run.stderr
    assert not summary.exists()


def test_one_report_with_one_executor_from_two_shards(
    fleet: Path, tmp_path: Path, outside_ci: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shard writes its own executor.json; the report of the region, built off CI from the pipeline's
    artifacts, has one: the pipeline's, with the ticket on the host overviews too."""
    results, summaries = [], []
    for index in (1, 2):
        for name, value in dict(GITLAB_JOB, CI_JOB_NAME=f"preflight {index}/2").items():
            monkeypatch.setenv(name, value)
        alluredir, summary = tmp_path / f"shard-{index}" / "allure-results", tmp_path / f"summary-{index}.json"
        run_suite(
            "--inventory", str(fleet), f"--summary-json={summary}", f"--alluredir={alluredir}",
            "--shard", f"{index}/2", "--change-ticket", TICKET, "--change-ticket-url", PATTERN,
        )  # fmt: skip
        assert (alluredir / "executor.json").exists()
        results.append(alluredir)
        summaries.append(summary)
    for name in GITLAB_JOB:
        monkeypatch.delenv(name)
    built = build_report(
        results, summaries, tmp_path / "report", tmp_path / "history", allure=INSTALLED_ALLURE, env=dict(os.environ)
    )
    executors = json.loads((built.site / "widgets" / "executors.json").read_text(encoding="utf-8"))
    assert len(executors) == 1, executors
    (executor,) = executors
    assert executor["buildUrl"] == PIPELINE_URL and executor["type"] == "gitlab"
    assert executor["reportName"] == f"vRouter preflight: {fleet}"
    cases = [
        json.loads(path.read_text(encoding="utf-8")) for path in (built.site / "data" / "test-cases").glob("*.json")
    ]
    assert len(cases) == built.results and built.hosts == 3  # the shards' results and one overview per host
    for case in cases:
        assert {"name": TICKET, "url": TICKET_URL, "type": "issue"} in case["links"], case["name"]
    environment = json.loads((built.site / "widgets" / "environment.json").read_text(encoding="utf-8"))
    assert {"name": "change_ticket", "values": [TICKET]} in environment
