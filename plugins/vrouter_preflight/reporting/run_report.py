"""What one run reports: a record per check, the per-host table, the JSON summary
and the Allure run metadata. Registered by the entry point in the main process.
"""

from __future__ import annotations

import getpass
import os
import platform
from pathlib import Path
from typing import Any

import pytest

import vrouter_preflight
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.fleet import Fleet
from vrouter_preflight.records import CheckRecord, HostResult, host_verdict, utc_timestamp
from vrouter_preflight.reporting.allure_report import write_categories, write_environment
from vrouter_preflight.reporting.ci_executor import write_ci_executor
from vrouter_preflight.reporting.metrics import write_metrics
from vrouter_preflight.reporting.summary import build_summary, run_meta, write_summary
from vrouter_preflight.text_table import render_table
from vrouter_preflight.wiring.change_ticket import change_ticket_of, environment_entries, summary_fields
from vrouter_preflight.wiring.destructive import not_run_reasons, rollout_report
from vrouter_preflight.wiring.host_results import host_results
from vrouter_preflight.wiring.not_run import live_only_not_run
from vrouter_preflight.wiring.report_records import keep_worse, record_of
from vrouter_preflight.wiring.selection import reported_host_names, unselected_hosts


def failed_exit_status(exitstatus: int) -> int:
    """The exit status of a run the suite's reports found failing: 1 ("tests failed") where pytest says 0
    (all passed) or 5 (no tests ran); a worse one (2 interrupted, 3 internal error, 4 usage) stays.

    >>> failed_exit_status(0), failed_exit_status(5), failed_exit_status(2)
    (1, 1, 2)
    """
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        return int(pytest.ExitCode.TESTS_FAILED)
    return exitstatus


def exit_status_agreeing(exitstatus: int, verdict: str, hosts: int) -> int:
    """pytest's exit status, made to agree with the summary: a run that reports a host failing or in error
    never exits 0 (nor 5, "no tests"), whatever ``-k``, ``-m`` or ``--deselect`` left of its checks.

    An unreachable host stays ERROR in the reports when the selection took its checks away
    (``-k compute-17`` over a region where compute-3 is down); a host whose selected checks
    all skipped was judged by none (ERROR). Without this, the JSON summary, the table and
    ``vrouter-preflight merge`` would say "error" next to a pipeline's green exit status.

    >>> exit_status_agreeing(0, "error", hosts=1), exit_status_agreeing(0, "pass", hosts=1)
    (1, 0)
    >>> exit_status_agreeing(5, "error", hosts=0), exit_status_agreeing(2, "error", hosts=3)  # no host; interrupted
    (5, 2)
    """
    return failed_exit_status(exitstatus) if hosts and verdict != "pass" else exitstatus


class RunReport:
    """Collects every check's outcome and writes the run's reports at the end."""

    def __init__(self, config: pytest.Config, fleet: Fleet, summary_path: Path) -> None:
        self.config = config
        self.fleet = fleet
        self.summary_path = summary_path
        self.records: dict[str, CheckRecord] = {}
        self.summary_written: Path | None = None
        self.rollout: dict[str, Any] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = record_of(report)
        if record is not None:
            keep_worse(self.records, report.nodeid, record)

    def _records_by_host(self) -> dict[str, list[CheckRecord]]:
        """Every host's records, in the order they were reported (one pass: no per-host scan of the run)."""
        by_host: dict[str, list[CheckRecord]] = {}
        for record in self.records.values():
            by_host.setdefault(record.host, []).append(record)
        return by_host

    def _reported_results(self) -> dict[str, HostResult]:
        """The results of the hosts the reports show, in inventory order (not those the selection left out)."""
        results = host_results(self.config)
        return {name: results[name] for name in reported_host_names(self.config)}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # The status as the reports before this one left it (a hardware certification may have failed the run).
        status = int(session.exitstatus)
        results = self._reported_results()
        names = tuple(results)
        destructive, live_only = not_run_reasons(self.config), live_only_not_run(self.config)
        self.rollout = rollout_report(self.config)
        ticket = change_ticket_of(self.config)
        summary = build_summary(
            host_names=names,
            records=list(self.records.values()),
            host_errors={name: result.error for name, result in results.items() if result.error is not None},
            demand={name: result.demand for name, result in results.items()},
            supply={name: result.supply for name, result in results.items()},
            not_run={name: {**live_only.get(name, {}), **destructive.get(name, {})} for name in names},
            rollout=self.rollout,
            meta={
                **run_meta(
                    suite_version=vrouter_preflight.__version__,
                    inventory=self.fleet.inventory.path,
                    exit_status=status,
                ),
                **summary_fields(ticket),
            },
        )
        if not self.config.option.collectonly:  # --collect-only judges nothing
            status = exit_status_agreeing(status, summary["verdict"], hosts=len(names))
            session.exitstatus = summary["exit_status"] = status
        self.summary_written = write_summary(self.summary_path, summary)
        metrics = self.config.getoption("metrics")
        if metrics:
            write_metrics(Path(self.config.invocation_params.dir) / str(metrics), summary)
        alluredir = getattr(self.config.option, "allure_report_dir", None)
        if alluredir:
            write_environment(
                alluredir,
                {
                    "inventory": self.fleet.inventory.path,
                    "hosts": str(len(names)),
                    "suite_version": vrouter_preflight.__version__,
                    "run_by": getpass.getuser(),
                    "run_from": platform.node(),
                    "generated_at": utc_timestamp(),
                    "python": platform.python_version(),
                    "pytest": pytest.__version__,
                    **environment_entries(ticket),
                },
            )
            write_categories(alluredir)
            write_ci_executor(alluredir, os.environ, inventory=self.fleet.inventory.path)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        rows = []
        by_host = self._records_by_host()
        reported = self._reported_results()
        for result in reported.values():
            records = by_host.get(result.name, [])
            kernel = "" if result.error is not None else (result.kernel or "?")
            verdict = host_verdict(records, unreachable=result.error is not None).upper()
            problems = [r.message for r in records if r.outcome in ("failed", "error")]
            detail = result.error if result.error is not None else (problems[0] if problems else "")
            counts = "/".join(str(sum(r.outcome == o for r in records)) for o in ("passed", "failed", "error"))
            rows.append([result.name, result.transport, result.address, kernel, counts, verdict, detail])
        terminalreporter.section("vrouter-preflight: per-host result")
        header = ["HOST", "TRANSPORT", "ADDRESS", "KERNEL", "PASS/FAIL/ERR", "RESULT", "DETAIL"]
        for line in render_table(header, rows, max_width=90):
            terminalreporter.write_line(line)
        unreachable = [result.name for result in reported.values() if result.error is not None]
        if unreachable:
            terminalreporter.write_line(
                f"{len(unreachable)} host(s) not reached; their other checks were not run: {', '.join(unreachable)}"
            )
        left_out = len(unselected_hosts(self.config))
        if left_out:
            terminalreporter.write_line(
                f"{left_out} host(s) had no check selected (-k, -m or --deselect): left out of the reports"
            )
        self._remediation_section(terminalreporter)
        if self.summary_written is not None:
            terminalreporter.write_line(f"summary: {self.summary_written}")

    def _remediation_section(self, terminalreporter: Any) -> None:
        """Which hosts the destructive stage changed and whether they are back; who was not run and why."""
        rows = []
        by_host = self._records_by_host()
        for name in self.fleet.host_names:
            for record in by_host.get(name, []):
                if record.check is not CheckId.REMEDIATION or "plan" in (record.details or {}):
                    continue
                details = record.details or {}
                changed = "yes" if details.get("changed") else "no"
                back = "yes" if details.get("back") else ("NO" if details.get("changed") else "-")
                pages = ", ".join(f"node {n}: {p}" for n, p in (details.get("released") or {}).items()) or "-"
                short = ", ".join(f"node {n}: {p}" for n, p in (details.get("shortfall") or {}).items()) or "-"
                rows.append([name, record.outcome.upper(), changed, pages, back, short, record.message])
            for check, why in not_run_reasons(self.config).get(name, {}).items():
                rows.append([name, "NOT RUN", "no", "-", "-", "-", f"{check}: {why}"])
        for name, why in ((self.rollout or {}).get("not_run") or {}).items():
            rows.append([name, "NOT RUN", "no", "-", "-", "-", why])
        plans = [
            (name, str((record.details or {})["plan"]))
            for name in self.fleet.host_names
            for record in by_host.get(name, [])
            if record.check is CheckId.REMEDIATION and "plan" in (record.details or {})
        ]
        if plans:
            terminalreporter.section("vrouter-preflight: plan (nothing was changed)")
            for name, plan in plans:
                terminalreporter.write_line(f"{name}:")
                for line in plan.splitlines():
                    terminalreporter.write_line(f"  {line}")
        if not rows:
            return
        terminalreporter.section("vrouter-preflight: destructive stage")
        header = ["HOST", "RESULT", "CHANGED", "RELEASED 1G", "BACK", "SHORTFALL", "DETAIL"]
        for line in render_table(header, rows, max_width=90):
            terminalreporter.write_line(line)
