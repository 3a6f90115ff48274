"""The pytest11 entry point: the one place that registers vrouter-preflight with pytest.

Installed, the suite is loaded into every pytest run of its environment, so it
stays inert unless asked: it always adds its options (and the markers of its
checks), and registers the rest only for a run that collects its checks.

* ``pytest --inventory PATH`` with no test paths runs the installed checks,
  from any directory, against PATH;
* ``pytest checks`` (or plain ``pytest``) in a checkout runs them against the
  built-in local inventory or ``--inventory``;
* the ``vrouter-preflight`` command (:mod:`vrouter_preflight.cli`) is pytest with
  the checks always selected.

In such a run the wiring (:mod:`vrouter_preflight.wiring`) is registered, then
the reporting plugins: the run report (JSON summary, terminal table, Allure
environment and categories), the certificates of a certification run and,
while Allure records a destructive run, the remediation's pictures.
"""

from __future__ import annotations

from typing import Any

import pytest

from vrouter_preflight.reporting.allure_lean import follow_failed_fixtures_only
from vrouter_preflight.reporting.certificates import CertificationReport
from vrouter_preflight.reporting.run_report import RunReport
from vrouter_preflight.wiring import (
    applicability,
    certification,
    change_ticket,
    check_inputs,
    destructive,
    hookspecs,
    hosts,
    long_lived,
    options,
    report_keywords,
    selection,
    trial_inputs,
)
from vrouter_preflight.wiring.outputs import CERTIFICATES_DEFAULT, SUMMARY_DEFAULT, option_output
from vrouter_preflight.wiring.stash import FLEET

#: An attribute of the plugin object the console script registers: collect the checks whatever the arguments say.
SUITE_REQUEST_ATTRIBUTE = "vrouter_preflight_suite_request"
#: The wiring, in the order its ``pytest_configure`` must run: the destructive stage's usage errors (--serial,
#: --journal-dir, --rollback-journal) before the gather contacts any host.
WIRING = (
    ("vrouter-preflight-destructive", destructive),
    ("vrouter-preflight-hosts", hosts),
    ("vrouter-preflight-check-inputs", check_inputs),
    ("vrouter-preflight-applicability", applicability),
    ("vrouter-preflight-trial", trial_inputs),
    ("vrouter-preflight-certification", certification),
    ("vrouter-preflight-change-ticket", change_ticket),
    ("vrouter-preflight-selection", selection),
    ("vrouter-preflight-report-keywords", report_keywords),
    ("vrouter-preflight-long-lived", long_lived),
)
MARKERS = (
    "reachability: the check that reports an unreachable host (one per host)",
    "live_only: acts on the live kernel; not collected for snapshot hosts",
    "destructive: changes the host; needs --destructive and destructive: true",
    f"{certification.MARKER}: a hardware certification finding; runs with -m {certification.MARKER} "
    "on hosts marked certify",
)
#: Draws the destructive stage's pictures while Allure records (the others are drawn by `make report`).
CHARTS_PLUGIN = "vrouter_preflight.reporting.check_charts"
#: pytest's cache writers: a run outside a pytest project must leave nothing but reports/ behind.
CACHE_WRITERS = ("lfplugin", "nfplugin")


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def wants_installed_checks(file_or_dir: list[str], inventory: str | None, from_cli: bool) -> bool:
    """Whether to add the installed checks to the run's test paths.

    With no test paths: yes when ``--inventory`` is given or the run is the
    ``vrouter-preflight`` command; a run naming its own paths is left alone.

    >>> wants_installed_checks([], "/srv/fleet.yaml", False), wants_installed_checks([], None, True)
    (True, True)
    >>> wants_installed_checks(["tests/unit"], "/srv/fleet.yaml", False), wants_installed_checks([], None, False)
    (False, False)
    """
    return not file_or_dir and (inventory is not None or from_cli)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """``pytest --inventory PATH`` alone runs the installed checks: their directory becomes the test path."""
    known = early_config.known_args_namespace
    from_cli = any(getattr(p, SUITE_REQUEST_ATTRIBUTE, False) for p in early_config.pluginmanager.get_plugins())
    if wants_installed_checks(list(known.file_or_dir or ()), known.inventory, from_cli):
        args.append(str(hosts.CHECKS_DIR))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if not hosts.collects_checks(config.invocation_params.dir, config.args):
        return
    if config.inipath is None:
        for name in CACHE_WRITERS:
            config.pluginmanager.set_blocked(name)
    for name, module in WIRING:
        config.pluginmanager.register(module, name)
    fleet = config.stash[FLEET]
    if hasattr(config, "workerinput"):
        return
    keep_hosts_on_one_worker(config.option)
    summary = option_output(config, "summary_json", SUMMARY_DEFAULT)
    config.pluginmanager.register(RunReport(config, fleet, summary), "vrouter-preflight-report")
    if certification.is_certification_run(config):
        directory = option_output(config, "certificate_dir", CERTIFICATES_DEFAULT)
        config.pluginmanager.register(CertificationReport(config, fleet, directory), "vrouter-preflight-certificates")
    if _allure_records(config) and destructive.destructive_mode(config) == "run":
        # The remediation's pictures; imported by name so that no other run loads the plotting library.
        config.pluginmanager.import_plugin(CHARTS_PLUGIN)


def keep_hosts_on_one_worker(option: Any) -> None:
    """With ``-n N`` and no ``--dist`` choice, pytest-xdist's ``load`` becomes ``loadgroup``: a host's checks
    stay on one worker, in collection order (the checks group themselves by host).

    >>> from types import SimpleNamespace
    >>> option = SimpleNamespace(dist="load", loadscopereorder=True)
    >>> keep_hosts_on_one_worker(option)
    >>> option.dist, option.loadscopereorder
    ('loadgroup', False)
    """
    if getattr(option, "dist", "no") == "load":
        option.dist = "loadgroup"
        option.loadscopereorder = False


def pytest_sessionstart(session: pytest.Session) -> None:
    """Once allure-pytest is set up: it follows only the fixtures that fail, in the main process and workers."""
    if FLEET in session.config.stash and _allure_records(session.config):
        follow_failed_fixtures_only(session.config)


def _allure_records(config: pytest.Config) -> bool:
    """True when allure-pytest records this run (``--alluredir``)."""
    option: Any = getattr(config.option, "allure_report_dir", None)
    return bool(option)
