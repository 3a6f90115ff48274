"""The certificates of a certification run: one per marked host, written at the end of the run.

Collects the certification checks' results in the main process and writes
``<host>.json`` under ``--certificate-dir`` (default ``reports/certificates``).
A host that is not certified makes the run's exit status 1, even when every
check that ran passed (a finding that did not run is not a pass).
"""

from __future__ import annotations

import getpass
import platform
from pathlib import Path
from typing import Any

import pytest

import vrouter_preflight
from vrouter_preflight.certification.certificate import build_certificate, finding_of, write_certificate
from vrouter_preflight.check_ids import CERTIFICATION_CHECKS
from vrouter_preflight.fleet import Fleet
from vrouter_preflight.records import CheckRecord, utc_timestamp
from vrouter_preflight.reporting.run_report import failed_exit_status
from vrouter_preflight.text_table import render_table
from vrouter_preflight.wiring.certification import certification_hosts, not_run_reason
from vrouter_preflight.wiring.destructive import destructive_mode
from vrouter_preflight.wiring.host_results import host_results
from vrouter_preflight.wiring.report_records import keep_worse, record_of


class CertificationReport:
    """Collects the certification checks' outcomes and writes every marked host's certificate at the end."""

    def __init__(self, config: pytest.Config, fleet: Fleet, directory: Path) -> None:
        self.config = config
        self.fleet = fleet
        self.directory = directory
        self.records: dict[str, CheckRecord] = {}
        self.written: list[tuple[str, bool, str, Path]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = record_of(report)
        if record is not None and finding_of(record.check_id) is not None:
            keep_worse(self.records, report.nodeid, record)

    def certificate(self, name: str) -> dict[str, Any]:
        """The certificate of one marked host, from this run's records."""
        spec = self.fleet.inventory.host(name)
        result = host_results(self.config)[name]
        not_run = {
            str(check.finding): why
            for check in CERTIFICATION_CHECKS
            if (why := not_run_reason(self.config, spec, check)) is not None
        }
        return build_certificate(
            host=name,
            nodes=result.numa_nodes,
            records=[record for record in self.records.values() if record.host == name],
            not_run=not_run,
            host_error=result.error,
            issued_at=utc_timestamp(),
            run={
                "inventory": self.fleet.inventory.path,
                "suite_version": vrouter_preflight.__version__,
                "run_by": getpass.getuser(),
                "run_from": platform.node(),
                "transport": spec.transport,
                "destructive": destructive_mode(self.config) == "run" and spec.destructive,
                "cert_cycles": spec.cert_cycles,
                "numa_tolerance_pct": spec.cert_numa_tolerance,
            },
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for name in certification_hosts(self.fleet.inventory):
            certificate = self.certificate(name)
            path = write_certificate(self.directory, certificate)
            first = certificate["reasons"][0] if certificate["reasons"] else ""
            self.written.append((name, bool(certificate["certified"]), first, path))
        if any(not certified for _, certified, _, _ in self.written):
            session.exitstatus = failed_exit_status(int(session.exitstatus))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.written:
            return
        terminalreporter.section("vrouter-preflight: hardware certification")
        rows = [
            [name, "CERTIFIED" if certified else "NOT CERTIFIED", str(path), reason]
            for name, certified, reason, path in self.written
        ]
        for line in render_table(["HOST", "RESULT", "CERTIFICATE", "FIRST REASON"], rows, max_width=90):
            terminalreporter.write_line(line)
