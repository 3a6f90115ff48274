"""The pytest side of the opt-in destructive stage: options, who may be changed, the rollout.

A check marked ``destructive`` runs on a host only with ``--destructive`` on the
command line AND ``destructive: true`` in the host's inventory entry; otherwise
it is deselected and the reason is shown in the terminal and the JSON summary.
``--plan`` runs the same checks in plan mode: they print what they would do and
change nothing. Hosts are changed in batches (``--serial``), across pytest-xdist
workers too, through :class:`vrouter_preflight.rollout.Rollout`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation import JournalError, replayable_journal, rollback_from_journal
from vrouter_preflight.rollout import Rollout, RolloutError, new_run_id, parse_serial
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.base import Transport
from vrouter_preflight.wiring.items import check_id_of, host_of
from vrouter_preflight.wiring.outputs import JOURNAL_DEFAULT, option_output, rollout_state_dir
from vrouter_preflight.wiring.stash import DESTRUCTIVE_NOT_RUN, FLEET, ROLLOUT, RUN_ID

WIRE_KEY = "vrouter_preflight_rollout"


def destructive_mode(config: pytest.Config) -> str | None:
    """``"run"`` with --destructive, ``"plan"`` with --plan, else None (plan wins: it changes nothing).

    >>> from types import SimpleNamespace
    >>> def given(*flags: str) -> SimpleNamespace:     # a stand-in for pytest's config
    ...     return SimpleNamespace(getoption=lambda name: name in flags)
    >>> [destructive_mode(given(*flags)) for flags in (("destructive",), ("destructive", "plan"), ())]
    ['run', 'plan', None]
    """
    if config.getoption("plan"):
        return "plan"
    if config.getoption("destructive"):
        return "run"
    return None


def journal_dir(config: pytest.Config) -> Path:
    """Where journals are written: ``--journal-dir``, else ``reports/journal`` where the run started.

    >>> from types import SimpleNamespace
    >>> def given(option: str | None) -> SimpleNamespace:  # a stand-in for pytest's config, started in /srv/preflight
    ...     return SimpleNamespace(invocation_params=SimpleNamespace(dir="/srv/preflight"), getoption=lambda _: option)
    >>> str(journal_dir(given(None))), str(journal_dir(given("/var/lib/vrpf/journal")))
    ('/srv/preflight/reports/journal', '/var/lib/vrpf/journal')
    """
    return option_output(config, "journal_dir", JOURNAL_DEFAULT)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.stash[DESTRUCTIVE_NOT_RUN] = {}
    workerinput = getattr(config, "workerinput", None)
    try:
        parse_serial(str(config.getoption("serial")))
    except RolloutError as exc:
        raise pytest.UsageError(f"--serial: {exc}") from None
    journals = journal_dir(config)
    if journals.exists() and not journals.is_dir():
        raise pytest.UsageError(f"--journal-dir {journals}: is not a directory")
    if workerinput is None:
        for path in rollback_journal_paths(config):
            try:
                replayable_journal(path)
            except JournalError as exc:
                raise pytest.UsageError(f"--rollback-journal {exc}") from None
    if workerinput is not None and WIRE_KEY in workerinput:
        config.stash[RUN_ID] = json.loads(workerinput[WIRE_KEY])["run_id"]
    elif workerinput is None:
        config.stash[RUN_ID] = os.environ.get("VRPF_ROLLOUT_RUN_ID") or new_run_id()
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_RunIdHandOff(config.stash[RUN_ID]), "vrouter-preflight-rollout")


class _RunIdHandOff:
    """Gives every pytest-xdist worker the run id, so they share one rollout."""

    def __init__(self, run_id: str) -> None:
        self._wire = json.dumps({"run_id": run_id})

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WIRE_KEY] = self._wire


def rollback_journal_paths(config: pytest.Config) -> list[Path]:
    """The ``--rollback-journal`` paths, relative to where the run started.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(invocation_params=SimpleNamespace(dir="/srv"), getoption=lambda _: ["j/c0.json"])
    >>> [str(path) for path in rollback_journal_paths(config)]  # a stand-in for pytest's config
    ['/srv/j/c0.json']
    """
    return [Path(config.invocation_params.dir) / p for p in config.getoption("rollback_journal")]


def pytest_sessionstart(session: pytest.Session) -> None:
    """``--rollback-journal PATH``: replay those rollbacks, report, and stop the run (main process only)."""
    config = session.config
    paths = rollback_journal_paths(config)
    if not paths or hasattr(config, "workerinput"):
        return
    lines, ok = replay_journals(config, paths)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if terminal is not None:
            terminal.write_line(line)
    pytest.exit(
        "rollback replayed" if ok else "rollback NOT complete: the journal stays open", returncode=0 if ok else 1
    )


def replay_journals(config: pytest.Config, paths: list[Path]) -> tuple[list[str], bool]:
    """Replay each journal's rollback through the inventory's entry for its host.

    Here the inventory's entry is a snapshot, which refuses to write: the
    journal stays open.

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.fleet import Fleet
    >>> from vrouter_preflight.inventory import HostSpec, Inventory
    >>> from vrouter_preflight.remediation import Journal, load_journal
    >>> tmp = tempfile.TemporaryDirectory()
    >>> d = Path(tmp.name)
    >>> begin = {"host": {"name": "c7"}, "restore": [{"node": 0, "size_kib": 1048576, "nr": 4}]}
    >>> journal = Journal.open(d, "c7", begin=begin)
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> snapshot = HostSpec(name="c7", transport="snapshot", path=str(d))
    >>> config.stash[FLEET] = Fleet(Inventory("inv.yaml", (snapshot,)), {})
    >>> lines, ok = replay_journals(config, [journal.path, d / "c8.json"])
    >>> for line in lines:  # doctest: +ELLIPSIS
    ...     print(line.replace(str(d), "J"))
    J/c7.json: c7: FAILED: the rollback could not run (is a snapshot: ...); the journal stays OPEN
    J/c8.json: no such journal
    >>> ok, load_journal(journal.path).is_open
    (False, True)
    >>> tmp.cleanup()
    """
    fleet = config.stash.get(FLEET, None)
    lines: list[str] = []
    ok = True
    for path in paths:
        if not path.exists():
            lines.append(f"{path}: no such journal")
            ok = False
            continue
        name = str(replayable_journal(path).host["name"])
        if fleet is None or name not in fleet.host_names:
            lines.append(f"{path}: host {name!r} is not in the inventory (pass the inventory it was run with)")
            ok = False
            continue
        spec = fleet.inventory.host(name)
        try:
            outcome = rollback_from_journal(path, _transport_for(spec))
        except JournalError as exc:
            lines.append(f"{exc}; the journal stays OPEN")
            ok = False
            continue
        lines.append(f"{path}: {outcome.message}")
        ok = ok and outcome.ok and outcome.journal_closed
    return lines, ok


def _transport_for(spec: HostSpec) -> Any:
    """A transport factory for the remediation engine that reconnects through the inventory's entry."""

    def reconnect(_journal_host: object) -> Transport:
        return open_transport(spec)

    return reconnect


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect destructive checks that are not allowed, and order the rest by rollout batch."""
    fleet = config.stash[FLEET]
    mode = destructive_mode(config)
    not_run = config.stash[DESTRUCTIVE_NOT_RUN]
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        host = host_of(item)
        if host is None or item.get_closest_marker("destructive") is None:
            kept.append(item)
            continue
        reason = None
        if mode is None:
            reason = "needs --destructive on the command line (or --plan to see what it would do)"
        elif not fleet.inventory.host(host).destructive:
            reason = "needs destructive: true for this host in the inventory"
        if reason is None:
            kept.append(item)
        else:
            dropped.append(item)
            not_run.setdefault(host, {})[check_id_of(item)] = reason
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if mode != "run":
        return
    hosts = [h for h in fleet.host_names if any(host_of(i) == h and i.get_closest_marker("destructive") for i in items)]
    if not hosts:
        return
    rollout = Rollout(
        rollout_state_dir(config),
        config.stash[RUN_ID],
        hosts,
        parse_serial(str(config.getoption("serial"))),
        config.getoption("max_fail_percentage"),
        bool(config.getoption("any_errors_fatal")),
        wait_timeout=float(config.getoption("rollout_wait_timeout")),
    )
    config.stash[ROLLOUT] = rollout
    position = {host: rollout.batch_of(host) for host in hosts}
    items.sort(key=lambda item: position.get(host_of(item) or "", 0) if item.get_closest_marker("destructive") else 0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A destructive check that could not start (its setup errored: it cannot judge the host) still takes its
    rollout slot and ends it as failed, as an unreachable host does in Ansible: the later batches go on (and
    ``--max-fail-percentage`` counts it) instead of waiting for it until ``--rollout-wait-timeout``."""
    report = yield
    rollout = rollout_of(item.config)
    host = host_of(item)
    destructive = item.get_closest_marker("destructive") is not None
    if report.when == "setup" and report.failed and destructive and rollout is not None and host is not None:
        cause = str(call.excinfo.value) if call.excinfo is not None else "its setup failed"
        end_slot_as_failed(rollout, host, f"could not start: {cause}")
    return report


def end_slot_as_failed(rollout: Rollout, host: str, reason: str) -> None:
    """Take ``host``'s rollout slot (when the rollout still lets it run) and end it as failed with ``reason``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as state_dir:
    ...     rollout = Rollout(state_dir, "run-1", ["c0", "c1"], parse_serial("1"))
    ...     end_slot_as_failed(rollout, "c0", "could not start: c0: cannot judge: /proc/buddyinfo: absent")
    ...     rollout.report()["failed"]
    ['c0']
    """
    with rollout.slot(host) as decision:
        if decision.run:
            rollout.finish(host, ok=False, reason=reason)


def rollout_of(config: pytest.Config) -> Rollout | None:
    """The rollout of this process (workers and a run without xdist), else None.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config; no rollout in it
    >>> rollout_of(config) is None
    True
    """
    return config.stash.get(ROLLOUT, None)


def rollout_report(config: pytest.Config) -> dict[str, Any] | None:
    """The rollout's report, readable from the main process too (it collects nothing under xdist).

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> rollout_report(config) is None
    True
    >>> with tempfile.TemporaryDirectory() as state_dir:
    ...     config.stash[ROLLOUT] = Rollout(state_dir, "run-1", ["c0", "c1"], parse_serial("50%"))
    ...     report = rollout_report(config)
    >>> report["batches"], report["not_run"]
    ([['c0'], ['c1']], {'c0': 'not run: its test never started', 'c1': 'not run: its test never started'})
    """
    rollout = rollout_of(config)
    if rollout is None and RUN_ID in config.stash:
        rollout = Rollout.open(rollout_state_dir(config), config.stash[RUN_ID])
    return None if rollout is None else rollout.report()


def not_run_reasons(config: pytest.Config) -> dict[str, dict[str, str]]:
    """Host -> check id -> why a destructive check was deselected.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> not_run_reasons(config)
    {}
    >>> why = "needs destructive: true for this host in the inventory"
    >>> config.stash[DESTRUCTIVE_NOT_RUN] = {"c1": {"remediation": why}}
    >>> not_run_reasons(config)["c1"]
    {'remediation': 'needs destructive: true for this host in the inventory'}
    """
    return config.stash.get(DESTRUCTIVE_NOT_RUN, {})
