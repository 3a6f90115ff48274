"""Allure's ``executor.json`` from the CI's environment: the report links back to the pipeline that made it.

Allure 2 reads ``name``, ``type`` (its icon: ``gitlab``, ``jenkins``, ``github`` …),
``url``, ``buildOrder`` (a number: the trend chart's ``#N``), ``buildName`` and
``buildUrl`` (the Executors block links the build name to it), ``reportName``
(the report's title) and ``reportUrl`` (where the report is published).

:func:`ci_executor` is a pure function of an environment mapping, for the CI
the variables say the report is built in (checked in this order):

===============  ==========================  ===================================================
CI               told by                     read
===============  ==========================  ===================================================
GitLab CI        ``GITLAB_CI``               ``CI_SERVER_NAME``, ``CI_PROJECT_URL``, ``CI_PROJECT_PATH``,
                                             ``CI_PIPELINE_ID``, ``CI_PIPELINE_URL``, ``CI_JOB_NAME``,
                                             ``CI_JOB_URL``
GitHub Actions   ``GITHUB_ACTIONS``          ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``,
                                             ``GITHUB_RUN_NUMBER``, ``GITHUB_RUN_ATTEMPT``, ``GITHUB_WORKFLOW``
Jenkins          ``JENKINS_URL`` or          ``JENKINS_URL``, ``JOB_NAME``, ``BUILD_NUMBER``, ``BUILD_URL``
                 ``BUILD_URL``
===============  ==========================  ===================================================

The report's own URL, unless given: GitLab's job artifact URL of the report
(``<CI_JOB_URL>/artifacts/file/<path>``), Jenkins' archived artifact
(``<BUILD_URL>artifact/<path>``), GitHub's run page (which lists the run's
artifacts). Only ``http``/``https`` URLs (at most :data:`MAX_URL` characters) are kept,
every other text is capped at :data:`MAX_TEXT` characters and a build number
that is not one is left out.

:func:`write_ci_executor` writes it into a run's Allure results (atomically, and
only in a CI job); ``make report`` writes the report's own (one for all the
shards it merges).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from vrouter_preflight.atomic_files import write_json_atomic
from vrouter_preflight.facts.lines import is_plain_number

#: Allure reads the CI's description from this file of the results directory.
EXECUTOR_FILE = "executor.json"
#: No executor.json the suite writes is larger (every field is capped); a larger one is not read.
MAX_EXECUTOR_BYTES = 64 * 1024
MAX_TEXT = 300
MAX_URL = 2048
#: The largest buildOrder Allure 2 reads (a Java long).
MAX_BUILD_ORDER = 2**63 - 1


def report_title(inventory: str | None) -> str:
    """The report's name (``reportName``): the inventory it checked.

    >>> report_title("inventory/prod.yaml"), report_title(None)
    ('vRouter preflight: inventory/prod.yaml', 'vRouter preflight: unknown inventory')
    """
    return f"vRouter preflight: {inventory or 'unknown inventory'}"


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    text = "".join(c for c in value.strip() if c.isprintable())
    return (text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "...") or None


def http_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) URL (what the report links to), else None.

    >>> http_url("https://ci.example.com/p/1"), http_url("javascript:alert(1)"), http_url(None)
    ('https://ci.example.com/p/1', None, None)
    """
    text = (value or "").strip()
    if not text or len(text) > MAX_URL or any(c.isspace() or not c.isprintable() or c in '"<>' for c in text):
        return None
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else None


def _order(value: str | None) -> int | None:
    """A build number Allure can sort by, else None.

    >>> _order("42"), _order("4.2"), _order("-1"), _order(None), _order("²")
    (42, None, None, None, None)
    """
    text = (value or "").strip()
    if not is_plain_number(text, 19):
        return None
    number = int(text)
    return number if number <= MAX_BUILD_ORDER else None


def _artifact(base: str | None, report_path: str | None, infix: str) -> str | None:
    """``base`` + ``infix`` + the report's path, for a path inside the job's workspace (relative, no ``..``)."""
    if base is None or not report_path or report_path.startswith("/") or ".." in report_path.split("/"):
        return None
    return http_url(f"{base.rstrip('/')}/{infix}/{quote(report_path)}")


def _gitlab(env: Mapping[str, str], report_path: str | None) -> dict[str, Any]:
    """GitLab CI: the project, the pipeline (its URL is the build's: every shard of it shares it), the job.

    >>> shown = _gitlab({"CI_PROJECT_NAME": "region", "CI_PIPELINE_ID": "812", "CI_JOB_NAME": "preflight 2/5",
    ...                  "CI_PIPELINE_URL": "https://gitlab.example.com/ops/region/-/pipelines/812"}, None)
    >>> shown["buildName"], shown["buildUrl"], shown["url"]
    ('region #812 (preflight 2/5)', 'https://gitlab.example.com/ops/region/-/pipelines/812', None)
    """
    pipeline = env.get("CI_PIPELINE_ID")
    project = _text(env.get("CI_PROJECT_PATH")) or _text(env.get("CI_PROJECT_NAME"))
    name = " ".join(part for part in (project, f"#{pipeline}" if pipeline else None) if part)
    job = _text(env.get("CI_JOB_NAME"))
    return {
        "name": _text(env.get("CI_SERVER_NAME")) or "GitLab",
        "type": "gitlab",
        "url": http_url(env.get("CI_PROJECT_URL")) or http_url(env.get("CI_SERVER_URL")),
        "buildOrder": _order(pipeline),
        "buildName": _text(f"{name} ({job})" if job and name else name or job),
        "buildUrl": http_url(env.get("CI_PIPELINE_URL")) or http_url(env.get("CI_JOB_URL")),
        "reportUrl": _artifact(http_url(env.get("CI_JOB_URL")), report_path, "artifacts/file"),
    }


def _github(env: Mapping[str, str], report_path: str | None) -> dict[str, Any]:
    """GitHub Actions: the repository, the workflow run (its attempt after a re-run), the run number.

    >>> shown = _github({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "ops/region",
    ...                  "GITHUB_RUN_ID": "7012345678", "GITHUB_RUN_NUMBER": "58", "GITHUB_RUN_ATTEMPT": "2",
    ...                  "GITHUB_WORKFLOW": "preflight"}, None)
    >>> shown["buildName"], shown["buildOrder"], shown["buildUrl"]
    ('preflight #58', 58, 'https://github.com/ops/region/actions/runs/7012345678/attempts/2')
    """
    server = http_url(env.get("GITHUB_SERVER_URL")) or "https://github.com"
    repository = _text(env.get("GITHUB_REPOSITORY"))
    run_id = _order(env.get("GITHUB_RUN_ID"))
    number = _order(env.get("GITHUB_RUN_NUMBER"))
    attempt = _order(env.get("GITHUB_RUN_ATTEMPT"))
    project = http_url(f"{server.rstrip('/')}/{repository}") if repository else None
    run = http_url(f"{project}/actions/runs/{run_id}") if project and run_id is not None else None
    if run is not None and attempt is not None and attempt > 1:
        run = f"{run}/attempts/{attempt}"
    workflow = _text(env.get("GITHUB_WORKFLOW"))
    build = " ".join(part for part in (workflow, f"#{number}" if number is not None else None) if part)
    return {
        "name": "GitHub Actions",
        "type": "github",
        "url": project,
        "buildOrder": number if number is not None else run_id,
        "buildName": _text(build),
        "buildUrl": run,
        "reportUrl": run,
    }


def _jenkins(env: Mapping[str, str], report_path: str | None) -> dict[str, Any]:
    """Jenkins: the job and build, the report archived as the build's artifact.

    >>> shown = _jenkins({"JENKINS_URL": "https://ci.example.com/", "JOB_NAME": "ops/preflight", "BUILD_NUMBER": "31",
    ...                   "BUILD_URL": "https://ci.example.com/job/ops/job/preflight/31/"}, "reports/report/index.html")
    >>> shown["buildName"], shown["buildOrder"], shown["reportUrl"]
    ('ops/preflight #31', 31, 'https://ci.example.com/job/ops/job/preflight/31/artifact/reports/report/index.html')
    """
    number = env.get("BUILD_NUMBER")
    job = _text(env.get("JOB_NAME"))
    build_url = http_url(env.get("BUILD_URL"))
    return {
        "name": "Jenkins",
        "type": "jenkins",
        "url": http_url(env.get("JENKINS_URL")),
        "buildOrder": _order(number),
        "buildName": _text(" ".join(part for part in (job, f"#{number}" if number else None) if part)),
        "buildUrl": build_url,
        "reportUrl": _artifact(build_url, report_path, "artifact"),
    }


def ci_name(env: Mapping[str, str]) -> str | None:
    """Which CI the environment is of: ``gitlab``, ``github``, ``jenkins``, or None.

    >>> ci_name({"GITLAB_CI": "true"}), ci_name({"GITHUB_ACTIONS": "true"}), ci_name({"BUILD_URL": "http://j/1/"})
    ('gitlab', 'github', 'jenkins')
    >>> ci_name({"HOME": "/root"}) is None
    True
    """
    if env.get("GITLAB_CI"):
        return "gitlab"
    if env.get("GITHUB_ACTIONS"):
        return "github"
    if env.get("JENKINS_URL") or env.get("BUILD_URL"):
        return "jenkins"
    return None


_READERS = {"gitlab": _gitlab, "github": _github, "jenkins": _jenkins}


def ci_executor(
    env: Mapping[str, str], *, report_name: str, report_path: str | None = None, report_url: str | None = None
) -> dict[str, Any] | None:
    """``executor.json`` of the CI the environment says the report is built in; None outside a known CI.

    ``report_path`` is where the report lands, relative to the job's working
    directory (it makes the artifact URL); ``report_url``, when given, is the
    report's URL instead. Fields with no value are left out.

    >>> env = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example.com/ops/region", "CI_PIPELINE_ID": "812",
    ...        "CI_PROJECT_PATH": "ops/region", "CI_PIPELINE_URL": "https://gitlab.example.com/ops/region/-/pipelines/812",
    ...        "CI_JOB_NAME": "report", "CI_JOB_URL": "https://gitlab.example.com/ops/region/-/jobs/4410"}
    >>> executor = ci_executor(env, report_name="vRouter preflight: region.yaml", report_path="reports/index.html")
    >>> executor["buildName"], executor["buildOrder"], executor["buildUrl"]
    ('ops/region #812 (report)', 812, 'https://gitlab.example.com/ops/region/-/pipelines/812')
    >>> executor["reportUrl"]
    'https://gitlab.example.com/ops/region/-/jobs/4410/artifacts/file/reports/index.html'
    >>> ci_executor({}, report_name="x") is None
    True
    """
    ci = ci_name(env)
    if ci is None:
        return None
    fields = _READERS[ci](env, report_path)
    fields["reportName"] = _text(report_name)
    given = http_url(report_url)
    if given is not None:
        fields["reportUrl"] = given
    return {key: value for key, value in fields.items() if value is not None}


def write_ci_executor(alluredir: str | os.PathLike[str], env: Mapping[str, str], *, inventory: str) -> Path | None:
    """Write ``executor.json`` into a run's Allure results when ``env`` is a CI job's (atomically); else nothing.

    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_ci_executor(d, {"HOME": "/root"}, inventory="region.yaml") is None
    ...     path = write_ci_executor(d, {"BUILD_URL": "https://ci.example.com/job/p/4/"}, inventory="region.yaml")
    ...     json.loads(path.read_text(encoding="utf-8"))["buildUrl"]
    True
    'https://ci.example.com/job/p/4/'
    """
    executor = ci_executor(env, report_name=report_title(inventory))
    if executor is None:
        return None
    return write_json_atomic(Path(alluredir) / EXECUTOR_FILE, executor)
