"""``make report``: the last run's Allure results → one self-contained HTML file for the change board.

    python -m vrouter_preflight.reporting.build_report [--results reports/allure-results ...]
        [--summary reports/summary.json ...] [--out reports/report] [--history reports/allure-history]
        [--report-url URL]

Several ``--results`` directories and ``--summary`` files (the shards of a region split across CI
runners with ``--shard I/N``) make one report of the whole region.

1. copies the run's results into a staging directory (the run's own results
   are never changed), and adds per host an overview result (verdict, what
   failed, the recommended action, with pictures of its free blocks and
   hugepage pools) made from the JSON summary of the same run; the change
   ticket the summary names (``--change-ticket``) goes on the overviews too
   (and into the Environment block of a merged region);
2. writes one ``executor.json``, the shards' own replaced: the report's name
   (the inventory) and the pipeline it links back to
   (:mod:`~vrouter_preflight.reporting.ci_executor`): the CI job building the
   report, else the one the run's results name (a report built off CI from a
   pipeline's artifacts), else the run itself; copies the history kept from
   earlier reports into ``history/``;
3. runs the Allure 2 command line (npm ``allure-commandline``, on Java) twice:
   once as a directory (``<out>-site``, whose ``history/`` is kept in
   ``--history`` for the next report's trend chart: the single file has none),
   once with ``--single-file`` into ``<out>/index.html``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allure_commons import model2
from allure_commons.logger import AllureFileLogger
from allure_commons.types import AttachmentType

from vrouter_preflight.facts.sizes import format_kib
from vrouter_preflight.reporting import charts
from vrouter_preflight.reporting.allure_report import write_environment
from vrouter_preflight.reporting.board import HostOverview, host_overviews, overview_result
from vrouter_preflight.reporting.ci_executor import (
    EXECUTOR_FILE,
    MAX_EXECUTOR_BYTES,
    ci_executor,
    http_url,
    report_title,
)
from vrouter_preflight.reporting.merge import MergeError, merge_summaries
from vrouter_preflight.wiring.allure_attach import ChangeTicketOnResults
from vrouter_preflight.wiring.change_ticket import ChangeTicket, environment_entries

#: The Allure 2 command line as `make report` installs it (npm ci in tools/report of the checkout), relative to
#: where the report is built; ``--allure`` or ``VRPF_ALLURE`` name another.
ALLURE = Path(os.environ.get("VRPF_ALLURE", "tools/report/node_modules/allure-commandline/dist/bin/allure"))
# allure_commons ships py.typed but leaves its file logger unannotated.
_FILE_LOGGER: Any = AllureFileLogger
#: From this many hosts with pictures on, they are drawn in parallel processes (a picture costs about 0.1-0.4 s).
PARALLEL_FROM = 4
#: Outputs and inputs default to ./reports/ where the command runs, as the run's own outputs do.
REPORTS = Path("reports")


class ReportError(Exception):
    """The report cannot be built; the message says why and what to do."""


@dataclass(frozen=True)
class BuiltReport:
    """What :func:`build_report` made, and how long the Allure command line took."""

    index: Path
    site: Path
    history: Path
    results: int
    hosts: int
    generate_seconds: float


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no JSON summary (run `make preflight` first, or pass --summary)") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("hosts"), dict):
        raise ReportError(f"{path}: not a vrouter-preflight summary (no 'hosts')")
    return summary


def _result_hosts(results: Path) -> set[str]:
    hosts = set()
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for parameter in data.get("parameters") or []:
            if parameter.get("name") == "host":
                hosts.add(str(parameter.get("value")).strip("'"))
    return hosts


def summary_ticket(summary: Mapping[str, Any]) -> ChangeTicket | None:
    """The change ticket a summary names (``change_ticket``, see ``docs/summary.schema.json``), else None.

    >>> summary_ticket({"change_ticket": {"id": "OPS-7", "url": "https://jira.example.com/browse/OPS-7"}})
    ChangeTicket(id='OPS-7', url='https://jira.example.com/browse/OPS-7')
    >>> summary_ticket({}), summary_ticket({"change_ticket": {"id": 7}})
    (None, None)
    """
    given = summary.get("change_ticket")
    if not isinstance(given, Mapping) or not isinstance(given.get("id"), str) or not given["id"]:
        return None
    return ChangeTicket(given["id"], http_url(given.get("url")))


def run_executor(results: Sequence[Path]) -> dict[str, Any] | None:
    """The ``executor.json`` a run wrote in its results in a CI job (the first of ``results`` that has one).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     run_executor([Path(d)]) is None
    ...     _ = Path(d, "executor.json").write_text('{"type": "gitlab", "buildName": "region #812"}')
    ...     run_executor([Path(d)])["buildName"]
    True
    'region #812'
    """
    for directory in results:
        path = directory / EXECUTOR_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.stat().st_size <= MAX_EXECUTOR_BYTES else None
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return None


def overview_charts(overview: HostOverview) -> list[tuple[str, bytes]]:
    """Pictures for a host's overview, from the summary's supply and demand: for a host held back or close to
    the limit (:attr:`~vrouter_preflight.reporting.board.HostOverview.pictured`), none for the others.

    >>> supply = {"free_blocks": {"0": {"Normal": [5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 2]}},
    ...           "hugepages": {"1048576": {"0": {"total": 170, "free": 14, "surplus": 0}}}}
    >>> failing = HostOverview("c0", "fail", {"failed": 1}, (), supply=supply, demand={"buddy_blocks": {"10": 44}})
    >>> [name for name, png in overview_charts(failing) if png.startswith(b"\\x89PNG")]
    ['chart: free blocks per order and NUMA node', 'chart: hugepage pools per NUMA node']
    >>> overview_charts(HostOverview("c1", "pass", {"passed": 7}, (), supply=supply))
    []
    """
    if not overview.pictured or not overview.supply:
        return []
    pictures = []
    free_blocks = overview.supply.get("free_blocks") or {}
    zones = [
        charts.ZoneBlocks(int(node), zone, tuple(blocks))
        for node, by_zone in free_blocks.items()
        for zone, blocks in by_zone.items()
    ]
    if zones:
        buddy_blocks = (overview.demand or {}).get("buddy_blocks") or {}
        needed = {int(order): int(count) for order, count in buddy_blocks.items()}
        png = charts.free_blocks_chart(
            zones, needed, title=f"{overview.host}: free blocks per order (red: what a vRouter reload asks for)"
        )
        pictures.append(("chart: free blocks per order and NUMA node", png))
    pools = [
        charts.PoolCounts(int(node), _size_name(int(size)), counts.get("total"), counts.get("free"))
        for size, by_node in (overview.supply.get("hugepages") or {}).items()
        for node, counts in by_node.items()
    ]
    if pools:
        pools.sort(key=lambda p: (p.size != "1G", p.size, p.node))
        png = charts.hugepage_pools_chart(pools, title=f"{overview.host}: hugepage pools per NUMA node")
        pictures.append(("chart: hugepage pools per NUMA node", png))
    return pictures


def _size_name(kib: int) -> str:
    return format_kib(kib)


def pictures_of(overviews: Sequence[HostOverview], *, workers: int | None = None) -> list[list[tuple[str, bytes]]]:
    """:func:`overview_charts` of every overview, drawn in parallel processes (one per core) when there are many.

    >>> pictures_of([HostOverview("c0", "pass", {"passed": 7}, ())])
    [[]]
    """
    pictured = [index for index, overview in enumerate(overviews) if overview.pictured and overview.supply]
    drawn: list[list[tuple[str, bytes]]] = [[] for _ in overviews]
    if len(pictured) < PARALLEL_FROM:
        for index in pictured:
            drawn[index] = overview_charts(overviews[index])
        return drawn
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for index, charts_of_host in zip(pictured, pool.map(overview_charts, [overviews[i] for i in pictured])):
            drawn[index] = charts_of_host
    return drawn


def write_overviews(staging: Path, summary: Mapping[str, Any], *, start_ms: int) -> int:
    """Add one overview result per host of ``summary`` (and its pictures) to ``staging``; returns how many.

    The results are allure-commons' own model, written by its file logger as allure-pytest writes a test's;
    each carries the summary's change ticket as the run's results do.

    >>> import tempfile
    >>> healthy = {"verdict": "pass", "error": None, "counts": {"passed": 7}, "checks": []}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     count = write_overviews(Path(d), {"hosts": {"c0": healthy}}, start_ms=1_795_000_000_000)
    ...     results = [json.loads(p.read_text(encoding="utf-8")) for p in Path(d).glob("*-result.json")]
    ...     count, [(r["name"], r["status"], [a["type"] for a in r["attachments"]]) for r in results]
    (1, [('c0: PASS — ready for the change', 'passed', ['text/html'])])
    """
    logger = _FILE_LOGGER(staging)
    inventory = str(summary.get("inventory") or "")
    generated_at = str(summary.get("generated_at") or "")
    overviews = host_overviews(summary)
    ticket = summary_ticket(summary)
    for overview, pictures in zip(overviews, pictures_of(overviews)):
        result = overview_result(
            overview, uuid=str(uuid.uuid4()), start_ms=start_ms, inventory=inventory, generated_at=generated_at
        )
        files: list[tuple[str, str | bytes, AttachmentType]] = [
            ("overview", result.descriptionHtml, AttachmentType.HTML)
        ]
        files += [(name, png, AttachmentType.PNG) for name, png in pictures]
        for name, body, kind in files:
            source = f"{uuid.uuid4()}-attachment.{kind.extension}"
            logger.report_attached_data(body=body, file_name=source)
            result.attachments.append(model2.Attachment(name=name, source=source, type=kind.mime_type))
        if ticket is not None:
            ChangeTicketOnResults(ticket.id, ticket.url).report_result(result)
        logger.report_result(result)
    return len(overviews)


def merged_environment(summary: Mapping[str, Any], shards: int) -> dict[str, str]:
    """The report's Environment block for a region merged from ``shards`` runs.

    >>> region = {"inventory": "region.yaml", "hosts": {"c0": {}, "c1": {}}, "suite_version": "0.1.0",
    ...           "generated_at": "2026-12-03T09:00:00Z", "change_ticket": {"id": "OPS-7"}}
    >>> merged = merged_environment(region, 3)
    >>> merged["hosts"], merged["change_ticket"]
    ('2', 'OPS-7')
    """
    return {
        "inventory": str(summary.get("inventory") or ""),
        "hosts": str(len(summary.get("hosts") or {})),
        "shards": str(shards),
        "suite_version": str(summary.get("suite_version") or ""),
        "generated_at": str(summary.get("generated_at") or ""),
        **environment_entries(summary_ticket(summary)),
    }


def executor(
    summary: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    run: Mapping[str, Any] | None = None,
    report_path: str | None = None,
    report_url: str | None = None,
) -> dict[str, Any]:
    """``executor.json``: names the report after the inventory and links it to the pipeline that made it.

    The pipeline is the CI job building the report (``env``, see
    :func:`~vrouter_preflight.reporting.ci_executor.ci_executor`; ``report_path`` is where the report lands,
    relative to the job's directory), else the one of the run's own ``executor.json`` (``run``), else none: the
    build is the run itself. ``report_url``, an http(s) URL, is where the report will be read.

    >>> executor({"inventory": "inventory/prod.yaml", "generated_at": "2026-11-26T14:18:05Z"})["buildName"]
    'run of 2026-11-26T14:18:05Z'
    >>> jenkins = {"JENKINS_URL": "https://ci.example.com/", "JOB_NAME": "preflight", "BUILD_NUMBER": "31",
    ...            "BUILD_URL": "https://ci.example.com/job/preflight/31/"}
    >>> shown = executor({"inventory": "region.yaml"}, jenkins, report_path="reports/report/index.html")
    >>> shown["type"], shown["buildName"], shown["reportUrl"]
    ('jenkins', 'preflight #31', 'https://ci.example.com/job/preflight/31/artifact/reports/report/index.html')
    >>> executor({"inventory": "region.yaml"}, {}, run={"type": "gitlab", "buildName": "region #812"})["buildName"]
    'region #812'
    """
    name = report_title(summary.get("inventory"))
    from_ci = ci_executor(env or {}, report_name=name, report_path=report_path, report_url=report_url)
    if from_ci is not None:
        return from_ci
    if run is not None:
        shown = dict(run, reportName=name)
    else:
        shown = {
            "name": "vrouter-preflight",
            "type": "vrouter-preflight",
            "reportName": name,
            "buildName": f"run of {summary.get('generated_at') or 'unknown time'}",
        }
    given = http_url(report_url)
    return {**shown, "reportUrl": given} if given else shown


def allure_command(allure: Path = ALLURE) -> list[str]:
    """The Allure 2 command line; fails with what to install when it or Java is missing.

    >>> allure_command(Path("/nonexistent/allure"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.reporting.build_report.ReportError: /nonexistent/allure: the Allure command line is not in...
    """
    if not allure.is_file():
        raise ReportError(f"{allure}: the Allure command line is not installed (`make report` runs npm ci)")
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").is_file()):
        raise ReportError("no java on PATH or in JAVA_HOME: Allure 2 needs a JRE (tools/system-packages.sh report)")
    return [str(allure)]


def _generate(command: Sequence[str], staging: Path, out: Path, *, single_file: bool) -> None:
    argv = [*command, "generate", str(staging), "-o", str(out), "--clean", *(["--single-file"] if single_file else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise ReportError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def build_report(
    results: Path | Sequence[Path],
    summary_path: Path | Sequence[Path],
    out: Path,
    history: Path,
    *,
    allure: Path = ALLURE,
    env: Mapping[str, str] | None = None,
    report_url: str | None = None,
) -> BuiltReport:
    """Build ``out/index.html`` from ``results`` and ``summary_path``; keep the history in ``history``.

    A sharded run (``--shard I/N`` on several CI runners) gives several results directories and
    summaries: pass them all; the summaries are merged as ``vrouter-preflight merge`` does, and the
    report is the one of the whole region. ``env`` is the environment of the CI job building the
    report (``executor.json``, see :func:`executor`); ``report_url`` where the report will be read.

    Example (not a doctest: it runs the Allure command line, Java, as ``make report`` and its
    headless-browser test do)::

        build_report(reports / "allure-results", reports / "summary.json", reports / "report",
                     reports / "allure-history").index  # -> PosixPath('reports/report/index.html')

    Without results it stops before running anything:

    >>> build_report(Path("/nonexistent"), Path("summary.json"), Path("out"), Path("history"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.reporting.build_report.ReportError: /nonexistent: no Allure results (run `make preflight`, ...
    """
    result_dirs = [results] if isinstance(results, Path) else list(results)
    summary_paths = [summary_path] if isinstance(summary_path, Path) else list(summary_path)
    for directory in result_dirs:
        if not directory.is_dir() or not any(directory.glob("*-result.json")):
            raise ReportError(f"{directory}: no Allure results (run `make preflight`, which writes them, first)")
    summaries = [(str(path), _read_summary(path)) for path in summary_paths]
    try:
        summary = summaries[0][1] if len(summaries) == 1 else merge_summaries(summaries)
    except MergeError as exc:
        raise ReportError(str(exc)) from None
    shown = ", ".join(str(path) for path in summary_paths)
    for directory in result_dirs:
        strangers = _result_hosts(directory) - set(summary["hosts"])
        if strangers:
            raise ReportError(
                f"{shown} is not from the run in {directory}: hosts {sorted(strangers)} are only in the results"
            )
    run = run_executor(result_dirs)
    command = allure_command(allure)
    staging = out.parent / f".{out.name}-staging"
    site = out.parent / f"{out.name}-site"
    shutil.rmtree(staging, ignore_errors=True)
    for directory in result_dirs:
        shutil.copytree(directory, staging, dirs_exist_ok=True)
    if len(result_dirs) > 1:  # each shard wrote its own: say what the whole region was
        write_environment(staging, merged_environment(summary, len(result_dirs)))
    for stale in ("history", EXECUTOR_FILE):
        target = staging / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    hosts = write_overviews(staging, summary, start_ms=int(time.time() * 1000))
    shown_executor = executor(
        summary, env, run=run, report_path=_relative_path(out / "index.html"), report_url=report_url
    )
    (staging / EXECUTOR_FILE).write_text(json.dumps(shown_executor, indent=1), encoding="utf-8")
    if history.is_dir():
        shutil.copytree(history, staging / "history")
    started = time.monotonic()
    _generate(command, staging, site, single_file=False)
    _generate(command, staging, out, single_file=True)
    took = time.monotonic() - started
    if (site / "history").is_dir():
        shutil.rmtree(history, ignore_errors=True)
        shutil.copytree(site / "history", history)
    count = sum(1 for _ in staging.glob("*-result.json"))
    shutil.rmtree(staging, ignore_errors=True)
    return BuiltReport(out / "index.html", site, history, count, hosts, round(took, 2))


def _relative_path(path: Path) -> str | None:
    """``path`` relative to the working directory (a CI job's workspace), as a URL path; None outside it.

    >>> _relative_path(Path("reports/report/index.html")), _relative_path(Path("/elsewhere/index.html"))
    ('reports/report/index.html', None)
    """
    try:
        return path.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """``make report``'s entry point: build the report, print where it is; 1 (and why, on stderr) when it cannot.

    >>> main(["--results", "/nonexistent/results"])
    1
    """
    parser = argparse.ArgumentParser(prog="python -m vrouter_preflight.reporting.build_report", description=__doc__)
    parser.add_argument(
        "--results", type=Path, nargs="+", default=[REPORTS / "allure-results"], help="one or more (shards)"
    )
    parser.add_argument("--summary", type=Path, nargs="+", default=[REPORTS / "summary.json"], help="one or more")
    parser.add_argument("--out", type=Path, default=REPORTS / "report")
    parser.add_argument("--history", type=Path, default=REPORTS / "allure-history")
    parser.add_argument("--allure", type=Path, default=ALLURE, help="the Allure 2 command line")
    parser.add_argument(
        "--report-url",
        default=None,
        metavar="URL",
        help="where the report will be read (executor.json's reportUrl; default in a CI job: its artifact URL)",
    )
    args = parser.parse_args(argv)
    try:
        built = build_report(
            args.results,
            args.summary,
            args.out,
            args.history,
            allure=args.allure,
            env=os.environ,
            report_url=args.report_url,
        )
    except ReportError as exc:
        print(f"make report: {exc}", file=sys.stderr)
        return 1
    print(
        f"report: {built.index} ({built.results} results, {built.hosts} host overviews; "
        f"allure generate {built.generate_seconds:g}s); browsable copy: {built.site}/ (serve over HTTP)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
