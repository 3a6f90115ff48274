"""The pytest side of hardware certification: selection, the marker, and the certificates at the end.

A certification run is one whose ``-m`` expression selects the
``certification`` marker (``pytest checks -m certification``). Only then is
``checks/test_certification.py`` collected, and only for the hosts the
inventory marks for certification; a run that selects certification but no
such host is a usage error. In the main process a :class:`CertificationReport`
collects the certification checks' results and, at the end of the run,
writes one certificate per marked host (``--certificate-dir``, default
``reports/certificates``). A host that is not certified makes the run's exit
status 1, even when every check that ran passed (a finding that did not run
is not a pass).
"""

from __future__ import annotations

import getpass
import platform
from pathlib import Path
from typing import Any

import pytest

import vrouter_preflight
from vrouter_preflight.certification.certificate import build_certificate, finding_of, write_certificate
from vrouter_preflight.destructive_stage import destructive_mode, not_run_reasons
from vrouter_preflight.errors import PreflightError
from vrouter_preflight.fleet import Fleet
from vrouter_preflight.inventory import HostSpec, Inventory
from vrouter_preflight.not_run import SNAPSHOT_NOT_LIVE
from vrouter_preflight.reporting.run_report import keep_worse, record_of
from vrouter_preflight.reporting.summary import CheckRecord, utc_timestamp
from vrouter_preflight.reporting.terminal import render_table

MARKER = "certification"
DEFAULT_DIR = "reports/certificates"
CHECK_FILE = Path(__file__).resolve().parents[3] / "checks" / "test_certification.py"
#: Marker sets of the certification checks: selected by -m when the expression accepts any of them.
_CHECK_MARKERS = (
    {MARKER},
    {MARKER, "reachability"},
    {MARKER, "live_only"},
    {MARKER, "live_only", "destructive"},
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vrouter-preflight certification")
    group.addoption(
        "--certificate-dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"where a certification run (-m certification) writes <host>.json (default {DEFAULT_DIR})",
    )


def certification_selected(markexpr: str) -> bool:
    """True when the ``-m`` expression selects the certification checks.

    >>> certification_selected("certification"), certification_selected("")
    (True, False)
    >>> certification_selected("not certification"), certification_selected("certification and not destructive")
    (False, True)
    """
    if MARKER not in markexpr:
        return False
    from _pytest.mark.expression import Expression  # pytest's own -m parser

    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return False  # pytest reports the bad expression itself
    return any(expression.evaluate(_Has(markers)) for markers in _CHECK_MARKERS)


class _Has:
    """A ``-m`` matcher for an item carrying exactly ``markers``."""

    def __init__(self, markers: set[str]) -> None:
        self.markers = markers

    def __call__(self, name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name in self.markers


def is_certification_run(config: pytest.Config) -> bool:
    """This run's ``-m`` selects the certification checks.

    >>> from types import SimpleNamespace
    >>> run = SimpleNamespace(getoption=lambda name, default=None: "certification and not destructive")
    >>> is_certification_run(run)  # a stand-in for pytest.Config: only -m is read
    True
    """
    return certification_selected(str(config.getoption("markexpr", "") or ""))


def certification_hosts(inventory: Inventory) -> tuple[str, ...]:
    """The hosts marked for certification, in inventory order.

    >>> hosts = (HostSpec(name="a", certify=True), HostSpec(name="b"), HostSpec(name="c", certify=True))
    >>> certification_hosts(Inventory("inventory/lab.yaml", hosts))
    ('a', 'c')
    """
    return tuple(spec.name for spec in inventory.hosts if spec.certify)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: a hardware certification finding; runs with -m {MARKER} on hosts marked certify"
    )
    from vrouter_preflight.pytest_plugin import FLEET_KEY

    fleet = config.stash.get(FLEET_KEY, None)
    if fleet is None or not is_certification_run(config):
        return
    if not certification_hosts(fleet.inventory):
        raise pytest.UsageError(
            f"-m {MARKER}: no selected host of {fleet.inventory.path} is marked for certification; "
            "set certify: true on the host (or in defaults), or list its group in certify_groups"
        )
    if getattr(config, "workerinput", None) is None:
        directory = Path(config.invocation_params.dir) / str(config.getoption("certificate_dir"))
        config.pluginmanager.register(CertificationReport(config, fleet, directory), "vrouter-preflight-certification")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The certification checks are collected only in a certification run."""
    if collection_path == CHECK_FILE and not is_certification_run(config):
        return True
    return None


def not_run_reason(config: pytest.Config, spec: HostSpec, finding: str) -> str | None:
    """Why a finding of ``spec``'s host was not run in this run, when it was deselected (else None).

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(getoption=lambda name: False, stash={})  # pytest.Config's stand-in: no --destructive
    >>> not_run_reason(config, HostSpec(name="c0", destructive=True), "destructive_cycles")
    'needs --destructive on the command line (and destructive: true for the host)'
    >>> not_run_reason(config, HostSpec(name="c7", transport="snapshot", path="/cap/c7"), "trial")
    'needs a live host: this host is a snapshot, which runs no commands'
    >>> not_run_reason(config, HostSpec(name="c0"), "numa_layout") is None
    True
    """
    if finding in ("trial", "destructive_cycles") and spec.transport == "snapshot":
        return SNAPSHOT_NOT_LIVE
    if finding != "destructive_cycles":
        return None
    recorded = not_run_reasons(config).get(spec.name, {}).get("certify_destructive_cycles")
    if recorded:
        return recorded
    if destructive_mode(config) is None:
        return "needs --destructive on the command line (and destructive: true for the host)"
    if not spec.destructive:
        return "needs destructive: true for this host in the inventory"
    return None


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

    def _nodes(self, name: str) -> tuple[int, ...] | None:
        if self.fleet.error_of(name) is not None:
            return None
        try:
            return self.fleet.host(name).facts.numa_nodes or None
        except PreflightError:
            return None

    def certificate(self, name: str) -> dict[str, Any]:
        """The certificate of one marked host, from this run's records."""
        spec = self.fleet.inventory.host(name)
        error = self.fleet.error_of(name)
        findings = ("identity", "cpu_1g_pages", "numa_layout", "boot_hugepages", "trial", "destructive_cycles")
        not_run = {f: why for f in findings if (why := not_run_reason(self.config, spec, f)) is not None}
        return build_certificate(
            host=name,
            nodes=self._nodes(name),
            records=list(self.records.values()),
            not_run=not_run,
            host_error=None if error is None else error.cause,
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
        if any(not certified for _, certified, _, _ in self.written) and exitstatus in (0, 5):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

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
