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

from vrouter_preflight.rollout import Rollout, RolloutError, new_run_id, parse_serial

ROOT = Path(__file__).resolve().parents[2]
ROLLOUT_DIR = ROOT / "reports" / "rollout"
JOURNAL_DIR = "reports/journal"
NOT_RUN_KEY = pytest.StashKey[dict[str, dict[str, str]]]()
ROLLOUT_KEY = pytest.StashKey[Rollout]()
RUN_ID_KEY = pytest.StashKey[str]()
WIRE_KEY = "vrouter_preflight_rollout"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vrouter-preflight destructive stage")
    group.addoption(
        "--destructive",
        action="store_true",
        help="allow the remediation stage on hosts with destructive: true (it changes them, then rolls back)",
    )
    group.addoption(
        "--plan",
        action="store_true",
        help="print, per host, the commands and numbers the destructive stage would use; change nothing",
    )
    group.addoption(
        "--rollback-journal",
        action="append",
        default=[],
        metavar="PATH",
        help="replay the rollback recorded in a journal of an interrupted run (repeatable), then stop",
    )
    group.addoption("--journal-dir", default=JOURNAL_DIR, metavar="DIR", help=f"journals (default {JOURNAL_DIR})")
    group.addoption("--serial", default="1", metavar="N|N%|LIST", help="hosts changed at once (Ansible serial)")
    group.addoption(
        "--max-fail-percentage",
        type=float,
        default=None,
        metavar="P",
        help="stop the rollout when MORE than P%% of a batch failed (Ansible max_fail_percentage)",
    )
    group.addoption("--any-errors-fatal", action="store_true", help="stop the rollout at the first failed host")
    group.addoption(
        "--rollout-wait-timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="give up when the rollout makes no progress for this long (default 3600)",
    )


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
    """Where journals are written: --journal-dir, relative to where pytest was started.

    >>> from types import SimpleNamespace
    >>> def given(option: str) -> SimpleNamespace:     # a stand-in for pytest's config, started in /srv/preflight
    ...     return SimpleNamespace(invocation_params=SimpleNamespace(dir="/srv/preflight"), getoption=lambda _: option)
    >>> str(journal_dir(given(JOURNAL_DIR))), str(journal_dir(given("/var/lib/vrpf/journal")))
    ('/srv/preflight/reports/journal', '/var/lib/vrpf/journal')
    """
    return Path(config.invocation_params.dir) / str(config.getoption("journal_dir"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "destructive: changes the host; needs --destructive and destructive: true")
    config.stash[NOT_RUN_KEY] = {}
    try:
        parse_serial(str(config.getoption("serial")))
    except RolloutError as exc:
        raise pytest.UsageError(f"--serial: {exc}") from None
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WIRE_KEY in workerinput:
        config.stash[RUN_ID_KEY] = json.loads(workerinput[WIRE_KEY])["run_id"]
    elif workerinput is None:
        config.stash[RUN_ID_KEY] = os.environ.get("VRPF_ROLLOUT_RUN_ID") or new_run_id()
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_RunIdHandOff(config.stash[RUN_ID_KEY]), "vrouter-preflight-rollout")


class _RunIdHandOff:
    """Gives every pytest-xdist worker the run id, so they share one rollout."""

    def __init__(self, run_id: str) -> None:
        self._wire = json.dumps({"run_id": run_id})

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WIRE_KEY] = self._wire


def pytest_sessionstart(session: pytest.Session) -> None:
    """``--rollback-journal PATH``: replay those rollbacks, report, and stop the run (main process only)."""
    config = session.config
    paths = [Path(config.invocation_params.dir) / p for p in config.getoption("rollback_journal")]
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
    >>> from vrouter_preflight.pytest_plugin import FLEET_KEY
    >>> from vrouter_preflight.remediation import Journal, load_journal
    >>> tmp = tempfile.TemporaryDirectory()
    >>> d = Path(tmp.name)
    >>> begin = {"host": {"name": "c7"}, "restore": [{"node": 0, "size_kib": 1048576, "nr": 4}]}
    >>> journal = Journal.open(d, "c7", begin=begin)
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> snapshot = HostSpec(name="c7", transport="snapshot", path=str(d))
    >>> config.stash[FLEET_KEY] = Fleet(Inventory("inv.yaml", (snapshot,)), {})
    >>> lines, ok = replay_journals(config, [journal.path, d / "c8.json"])
    >>> for line in lines:  # doctest: +ELLIPSIS
    ...     print(line.replace(str(d), "J"))
    J/c7.json: c7: FAILED: the rollback could not run (is a snapshot: ...); the journal stays OPEN
    J/c8.json: no such journal
    >>> ok, load_journal(journal.path).is_open
    (False, True)
    >>> tmp.cleanup()
    """
    from vrouter_preflight.pytest_plugin import FLEET_KEY
    from vrouter_preflight.remediation import load_journal, rollback_from_journal

    fleet = config.stash.get(FLEET_KEY, None)
    lines: list[str] = []
    ok = True
    for path in paths:
        if not path.exists():
            lines.append(f"{path}: no such journal")
            ok = False
            continue
        name = str(load_journal(path).host.get("name", ""))
        if fleet is None or name not in fleet.host_names:
            lines.append(f"{path}: host {name!r} is not in the inventory (pass the inventory it was run with)")
            ok = False
            continue
        spec = fleet.inventory.host(name)
        outcome = rollback_from_journal(path, _transport_for(spec))
        lines.append(f"{path}: {outcome.message}")
        ok = ok and outcome.ok and outcome.journal_closed
    return lines, ok


def _transport_for(spec: Any) -> Any:
    """A transport factory for the remediation engine that reconnects through the inventory's entry."""
    from vrouter_preflight.transport import open_transport

    return lambda _journal_host: open_transport(spec)


def _host_param(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    host = callspec.params.get("host") if callspec is not None else None
    return host if isinstance(host, str) else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect destructive checks that are not allowed, and order the rest by rollout batch."""
    from vrouter_preflight.pytest_plugin import FLEET_KEY

    fleet = config.stash.get(FLEET_KEY, None)
    if fleet is None:
        return
    mode = destructive_mode(config)
    not_run = config.stash[NOT_RUN_KEY]
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        host = _host_param(item)
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
            not_run.setdefault(host, {})[item.name.split("[", 1)[0].removeprefix("test_")] = reason
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if mode != "run":
        return
    hosts = [
        h for h in fleet.host_names if any(_host_param(i) == h and i.get_closest_marker("destructive") for i in items)
    ]
    if not hosts:
        return
    rollout = Rollout(
        ROLLOUT_DIR,
        config.stash[RUN_ID_KEY],
        hosts,
        parse_serial(str(config.getoption("serial"))),
        config.getoption("max_fail_percentage"),
        bool(config.getoption("any_errors_fatal")),
        wait_timeout=float(config.getoption("rollout_wait_timeout")),
    )
    config.stash[ROLLOUT_KEY] = rollout
    position = {host: rollout.batch_of(host) for host in hosts}
    items.sort(
        key=lambda item: position.get(_host_param(item) or "", 0) if item.get_closest_marker("destructive") else 0
    )


def _batch_key(item: pytest.Item, position: dict[str, int]) -> int:
    if item.get_closest_marker("destructive") is None:
        return 0
    return position.get(_host_param(item) or "", 0)


def rollout_of(config: pytest.Config) -> Rollout | None:
    """The rollout of this process (workers and a run without xdist), else None.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config; no rollout in it
    >>> rollout_of(config) is None
    True
    """
    return config.stash.get(ROLLOUT_KEY, None)


def rollout_report(config: pytest.Config) -> dict[str, Any] | None:
    """The rollout's report, readable from the main process too (it collects nothing under xdist).

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> rollout_report(config) is None
    True
    >>> with tempfile.TemporaryDirectory() as state_dir:
    ...     config.stash[ROLLOUT_KEY] = Rollout(state_dir, "run-1", ["c0", "c1"], parse_serial("50%"))
    ...     report = rollout_report(config)
    >>> report["batches"], report["not_run"]
    ([['c0'], ['c1']], {'c0': 'not run: its test never started', 'c1': 'not run: its test never started'})
    """
    rollout = rollout_of(config)
    if rollout is None and RUN_ID_KEY in config.stash:
        rollout = Rollout.open(ROLLOUT_DIR, config.stash[RUN_ID_KEY])
    return None if rollout is None else rollout.report()


def not_run_reasons(config: pytest.Config) -> dict[str, dict[str, str]]:
    """Host -> check id -> why a destructive check was deselected.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> not_run_reasons(config)
    {}
    >>> config.stash[NOT_RUN_KEY] = {"c1": {"remediation": "needs destructive: true for this host in the inventory"}}
    >>> not_run_reasons(config)["c1"]
    {'remediation': 'needs destructive: true for this host in the inventory'}
    """
    return config.stash.get(NOT_RUN_KEY, {})
