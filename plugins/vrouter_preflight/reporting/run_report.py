"""What one run reports: a record per check, the per-host table, the JSON summary
and the Allure run metadata. Registered by the entry point in the main process.
"""

from __future__ import annotations

import getpass
import platform
from pathlib import Path
from typing import Any

import pytest

import vrouter_preflight
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.errors import PreflightError
from vrouter_preflight.figures import demand_json, supply_json
from vrouter_preflight.fleet import Fleet
from vrouter_preflight.records import CheckRecord, host_verdict, utc_timestamp
from vrouter_preflight.reporting.allure_report import write_categories, write_environment
from vrouter_preflight.reporting.summary import build_summary, run_meta, write_summary
from vrouter_preflight.text_table import render_table
from vrouter_preflight.wiring.check_inputs import host_demand
from vrouter_preflight.wiring.destructive import not_run_reasons, rollout_report
from vrouter_preflight.wiring.not_run import live_only_not_run
from vrouter_preflight.wiring.report_records import keep_worse, record_of


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

    def host_records(self, name: str) -> list[CheckRecord]:
        """The records of one host, in the order they were reported."""
        return [record for record in self.records.values() if record.host == name]

    def _demand_and_supply(self, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if self.fleet.error_of(name) is not None:
            return None, None
        host = self.fleet.host(name)
        try:
            demand = host_demand(host)
            demand_figures = demand_json(demand.blocks_with_margin(), demand.hugepages_needed)
        except PreflightError:
            demand_figures = None
        try:
            supply_figures = supply_json(host.facts.buddyinfo, host.facts.hugepages)
        except PreflightError:
            supply_figures = None
        return demand_figures, supply_figures

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        names = self.fleet.host_names
        figures = {name: self._demand_and_supply(name) for name in names}
        destructive, live_only = not_run_reasons(self.config), live_only_not_run(self.config)
        self.rollout = rollout_report(self.config)
        summary = build_summary(
            host_names=names,
            records=list(self.records.values()),
            host_errors={n: e.cause for n in names if (e := self.fleet.error_of(n)) is not None},
            demand={name: pair[0] for name, pair in figures.items()},
            supply={name: pair[1] for name, pair in figures.items()},
            not_run={name: {**live_only.get(name, {}), **destructive.get(name, {})} for name in names},
            rollout=self.rollout,
            meta=run_meta(
                suite_version=vrouter_preflight.__version__,
                inventory=self.fleet.inventory.path,
                exit_status=int(exitstatus),
            ),
        )
        self.summary_written = write_summary(self.summary_path, summary)
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
                },
            )
            write_categories(alluredir)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        rows = []
        for name in self.fleet.host_names:
            spec = self.fleet.inventory.host(name)
            records = self.host_records(name)
            error = self.fleet.error_of(name)
            kernel = "" if error is not None else (self.fleet.host(name).facts.kernel_release or "?")
            verdict = host_verdict(records, unreachable=error is not None).upper()
            problems = [r.message for r in records if r.outcome in ("failed", "error")]
            detail = error.cause if error is not None else (problems[0] if problems else "")
            counts = "/".join(str(sum(r.outcome == o for r in records)) for o in ("passed", "failed", "error"))
            rows.append([name, spec.transport, spec.display_address, kernel, counts, verdict, detail])
        terminalreporter.section("vrouter-preflight: per-host result")
        header = ["HOST", "TRANSPORT", "ADDRESS", "KERNEL", "PASS/FAIL/ERR", "RESULT", "DETAIL"]
        for line in render_table(header, rows, max_width=90):
            terminalreporter.write_line(line)
        unreachable = [name for name in self.fleet.host_names if self.fleet.error_of(name) is not None]
        if unreachable:
            terminalreporter.write_line(
                f"{len(unreachable)} host(s) not reached; their other checks were not run: {', '.join(unreachable)}"
            )
        self._remediation_section(terminalreporter)
        if self.summary_written is not None:
            terminalreporter.write_line(f"summary: {self.summary_written}")

    def _remediation_section(self, terminalreporter: Any) -> None:
        """Which hosts the destructive stage changed and whether they are back; who was not run and why."""
        rows = []
        for name in self.fleet.host_names:
            for record in self.host_records(name):
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
            for record in self.host_records(name)
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
