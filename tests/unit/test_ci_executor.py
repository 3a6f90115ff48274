"""Allure's ``executor.json`` from each CI's own variables (as GitLab, Jenkins and GitHub Actions document them),
and what a hostile or broken environment cannot put into the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vrouter_preflight.reporting.ci_executor import (
    MAX_EXECUTOR_BYTES,
    MAX_TEXT,
    MAX_URL,
    ci_executor,
    write_ci_executor,
)

#: A GitLab job of a parallel:5 matrix, with the variables GitLab sets (a subset; the others are ignored).
GITLAB = {
    "CI": "true",
    "GITLAB_CI": "true",
    "CI_SERVER_NAME": "GitLab",
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_NAME": "region-eu1",
    "CI_PROJECT_PATH": "ops/region-eu1",
    "CI_PROJECT_URL": "https://gitlab.example.com/ops/region-eu1",
    "CI_PIPELINE_ID": "104832",
    "CI_PIPELINE_IID": "812",
    "CI_PIPELINE_URL": "https://gitlab.example.com/ops/region-eu1/-/pipelines/104832",
    "CI_JOB_ID": "5527001",
    "CI_JOB_NAME": "preflight 2/5",
    "CI_JOB_URL": "https://gitlab.example.com/ops/region-eu1/-/jobs/5527001",
    "CI_NODE_INDEX": "2",
    "CI_NODE_TOTAL": "5",
}
JENKINS = {
    "JENKINS_URL": "https://jenkins.example.com/",
    "JOB_NAME": "ops/region-eu1-preflight",
    "JOB_URL": "https://jenkins.example.com/job/ops/job/region-eu1-preflight/",
    "BUILD_NUMBER": "214",
    "BUILD_ID": "214",
    "BUILD_URL": "https://jenkins.example.com/job/ops/job/region-eu1-preflight/214/",
    "BUILD_TAG": "jenkins-ops-region-eu1-preflight-214",
}
GITHUB = {
    "CI": "true",
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "ops/region-eu1",
    "GITHUB_RUN_ID": "7012345678",
    "GITHUB_RUN_NUMBER": "58",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_WORKFLOW": "preflight",
    "GITHUB_JOB": "shard",
}
NAME = "vRouter preflight: region-eu1.yaml"


RUN = "https://github.com/ops/region-eu1/actions/runs/7012345678"
REPORT = "reports/report/index.html"
EXPECTED = {
    "gitlab": (
        GITLAB,
        {
            "name": "GitLab",
            "url": "https://gitlab.example.com/ops/region-eu1",
            "buildOrder": 104832,
            "buildName": "ops/region-eu1 #104832 (preflight 2/5)",
            "buildUrl": "https://gitlab.example.com/ops/region-eu1/-/pipelines/104832",
            "reportUrl": f"https://gitlab.example.com/ops/region-eu1/-/jobs/5527001/artifacts/file/{REPORT}",
        },
    ),
    "jenkins": (
        JENKINS,
        {
            "name": "Jenkins",
            "url": "https://jenkins.example.com/",
            "buildOrder": 214,
            "buildName": "ops/region-eu1-preflight #214",
            "buildUrl": "https://jenkins.example.com/job/ops/job/region-eu1-preflight/214/",
            "reportUrl": f"https://jenkins.example.com/job/ops/job/region-eu1-preflight/214/artifact/{REPORT}",
        },
    ),
    "github": (
        GITHUB,
        {
            "name": "GitHub Actions",
            "url": "https://github.com/ops/region-eu1",
            "buildOrder": 58,
            "buildName": "preflight #58",
            "buildUrl": RUN,
            "reportUrl": RUN,  # the run's page lists its artifacts
        },
    ),
}


@pytest.mark.parametrize("ci", list(EXPECTED))
def test_each_ci_links_its_build_and_the_report(ci: str) -> None:
    env, expected = EXPECTED[ci]
    assert ci_executor(env, report_name=NAME, report_path=REPORT) == {**expected, "type": ci, "reportName": NAME}


def test_a_given_report_url_wins_and_a_report_outside_the_workspace_has_no_artifact_url() -> None:
    given = ci_executor(GITLAB, report_name=NAME, report_url="https://reports.example.com/eu1/812/")
    assert given is not None and given["reportUrl"] == "https://reports.example.com/eu1/812/"
    for outside in ("/srv/reports/index.html", "../index.html", None):
        shown = ci_executor(JENKINS, report_name=NAME, report_path=outside)
        assert shown is not None and "reportUrl" not in shown


@pytest.mark.parametrize(
    "env", [{}, {"CI": "true"}, {"HOME": "/root", "BUILD_NUMBER": "3"}], ids=["none", "ci", "no-url"]
)
def test_no_executor_outside_a_known_ci(env: dict[str, str]) -> None:
    assert ci_executor(env, report_name=NAME) is None


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(document.cookie)",
        "https://ci.example.com/a b",
        'https://ci.example.com/"><script>',
        "https://ci.example.com/\x1b[2J",
        "file:///etc/shadow",
        "https://",
        "https://ci.example.com/" + "a" * MAX_URL,
    ],
)
def test_a_url_that_is_not_a_plain_http_url_is_left_out(hostile: str) -> None:
    env = dict(JENKINS, BUILD_URL=hostile, JENKINS_URL=hostile)
    shown = ci_executor(env, report_name=NAME, report_path="reports/report/index.html")
    assert shown is not None
    assert {"url", "buildUrl", "reportUrl"}.isdisjoint(shown), shown


def test_texts_are_capped_and_stripped_of_control_characters() -> None:
    env = dict(GITLAB, CI_JOB_NAME="shard\x1b[31m\r\n" + "x" * 5000, CI_PIPELINE_ID="not-a-number")
    shown = ci_executor(env, report_name="r" * 5000)
    assert shown is not None
    assert len(shown["buildName"]) == MAX_TEXT and shown["buildName"].endswith("...")
    assert all(character.isprintable() for character in shown["buildName"])
    assert len(shown["reportName"]) == MAX_TEXT
    assert "buildOrder" not in shown
    assert len(json.dumps(shown)) < MAX_EXECUTOR_BYTES


@pytest.mark.parametrize("number", ["-3", "3.5", "9" * 20, " ", "0x10"])
def test_a_build_number_allure_cannot_sort_by_is_left_out(number: str) -> None:
    shown = ci_executor(dict(JENKINS, BUILD_NUMBER=number), report_name=NAME)
    assert shown is not None and "buildOrder" not in shown


def test_written_only_in_a_ci_job_and_atomically(tmp_path: Path) -> None:
    assert write_ci_executor(tmp_path, {"HOME": "/root"}, inventory="region-eu1.yaml") is None
    assert list(tmp_path.iterdir()) == []
    path = write_ci_executor(tmp_path, GITHUB, inventory="region-eu1.yaml")
    assert path == tmp_path / "executor.json"
    assert json.loads(path.read_text(encoding="utf-8"))["reportName"] == NAME
    assert [entry.name for entry in tmp_path.iterdir()] == ["executor.json"]  # no temporary file left
