"""The hosts of a run: the one gather, host parametrisation, deselection, the ``host`` fixture, clean errors.

Gathering happens once per host, in ``pytest_configure``, before collection:
checks that are per NUMA node need the facts to parametrise. Who gathers:

* without pytest-xdist, the one process;
* with ``-n N``, each worker gathers and checks its own slice of the hosts
  (every N-th host), so gathering and checking use every core; xdist then
  runs each worker's own collection (``--dist each``), a host's checks stay on
  its worker, and the workers send the main process what the end-of-run
  reports need (:mod:`vrouter_preflight.wiring.host_results`);
* with ``-n N --destructive`` (and for ``--rollback-journal``) the main process
  gathers every host and hands the facts to the workers: the rollout needs one
  view of the fleet.

``--limit``, ``--hosts`` and ``--shard I/N`` select the hosts before anything is contacted.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.errors import InventoryError, PreflightError
from vrouter_preflight.fleet import Fleet, HostUnderTest
from vrouter_preflight.gather import HostGather, gather_fleet
from vrouter_preflight.inventory import Inventory, load_inventory
from vrouter_preflight.shards import Shard, hosts_of_shard, parse_shard
from vrouter_preflight.transport.become import describe_unset_variables, unset_secret_variables
from vrouter_preflight.transport.pool import TransportPool
from vrouter_preflight.wiring.allure_attach import describe_check, retitle
from vrouter_preflight.wiring.destructive import destructive_mode
from vrouter_preflight.wiring.host_results import WORKER_OUTPUT_KEY, merge_worker_output, worker_output
from vrouter_preflight.wiring.items import check_id_of, host_of, node_of
from vrouter_preflight.wiring.not_run import record_live_only_not_run
from vrouter_preflight.wiring.stash import FLEET
from vrouter_preflight.wording import plural

#: workerinput key: the facts the main process gathered (absent: the worker gathers its own slice).
WIRE_KEY = "vrouter_preflight_fleet"
#: Notes about an operator's inventory shown at the start of a run (the rest are counted).
MAX_NOTES_SHOWN = 20
DEFAULT_INVENTORY_NAME = "local.yaml"


def _package_dir(name: str) -> Path:
    """Where an installed subpackage of the suite lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the installed vrouter-preflight lacks {name}: reinstall it")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


#: The installed checks (``checks/`` of a checkout installed in editable mode).
CHECKS_DIR = _package_dir("vrouter_preflight.checks")
#: The inventory used when none is given: this machine, local transport.
DEFAULT_INVENTORY = _package_dir("vrouter_preflight.inventories") / DEFAULT_INVENTORY_NAME


def collects_checks(start_dir: str | Path, args: Sequence[str]) -> bool:
    """True when collection ``args`` (relative to ``start_dir``) reach the suite's checks.

    >>> collects_checks("/srv", [str(CHECKS_DIR / "test_contiguity.py") + "::test_contiguous_blocks"])
    True
    >>> collects_checks(CHECKS_DIR.parent, ["."]), collects_checks("/srv", ["tests/unit"])
    (True, False)
    """
    for arg in args:
        path = (Path(start_dir) / arg.split("::", 1)[0]).resolve()
        if path == CHECKS_DIR or CHECKS_DIR in path.parents or path in CHECKS_DIR.parents:
            return True
    return False


def inventory_path(config: pytest.Config) -> Path:
    """``--inventory`` relative to where the run started, else the built-in local inventory.

    >>> from types import SimpleNamespace
    >>> def given(value: str | None) -> SimpleNamespace:  # a stand-in for pytest's config, started in /srv
    ...     return SimpleNamespace(getoption=lambda name: value, invocation_params=SimpleNamespace(dir="/srv"))
    >>> str(inventory_path(given("fleet/prod.yaml"))), inventory_path(given(None)) == DEFAULT_INVENTORY
    ('/srv/fleet/prod.yaml', True)
    """
    given = config.getoption("inventory")
    if given is None:
        return DEFAULT_INVENTORY
    return Path(config.invocation_params.dir) / str(given)


def shard_option(config: pytest.Config) -> Shard | None:
    """``--shard I/N`` as a :class:`~vrouter_preflight.shards.Shard`; a bad value is a usage error (exit 4).

    >>> from types import SimpleNamespace
    >>> shard_option(SimpleNamespace(getoption=lambda name: "2/3"))  # a stand-in for pytest's config
    Shard(index=2, count=3)
    """
    text = config.getoption("shard")
    if text is None:
        return None
    try:
        return parse_shard(str(text))
    except ValueError as exc:
        raise pytest.UsageError(f"--shard: {exc}") from None


def selected_inventory(config: pytest.Config) -> Inventory:
    """The inventory with ``--limit``, ``--hosts`` and ``--shard`` applied; a usage error when it cannot be used.

    ``--inventory`` may name the suite's own file or an operator's (Ansible, TF);
    ``--limit`` and ``--hosts`` together keep the hosts both select. A selected
    host whose ``sudo_password_env`` or ``identity_passphrase_env`` names an
    unset variable stops the run here, before any connection (exit 4); the
    message names the key and the host, never the variable.
    """
    hosts_option = config.getoption("hosts")
    only = [h.strip() for h in str(hosts_option).split(",") if h.strip()] if hosts_option else None
    limit = config.getoption("limit")
    try:
        inventory = load_inventory(inventory_path(config), only_hosts=only, limit=None if limit is None else str(limit))
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None
    shard = shard_option(config)
    if shard is not None:
        if destructive_mode(config) == "run":
            raise pytest.UsageError(
                "--shard: the destructive stage cannot be split across controllers (its --serial and "
                "--max-fail-percentage limits hold on one controller only); run it without --shard"
            )
        inventory = only_hosts(inventory, hosts_of_shard([spec.name for spec in inventory.hosts], shard))
    unset = unset_secret_variables(inventory.hosts, os.environ)
    if unset:
        lines = describe_unset_variables(unset).splitlines()
        raise pytest.UsageError("\n".join(f"{inventory.path}: {line}" for line in lines))
    return inventory


def inventory_header(inventory: Inventory) -> list[str]:
    """What the run says first about an operator's inventory: its format, the hosts selected, its notes.

    The suite's own inventory says nothing there.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> notes = ("hosts.ini: group 'x': key 'y' is not hosts, children or vars; skipped",)
    >>> for line in inventory_header(Inventory("hosts.ini", (HostSpec(name="c1"),), notes, "ansible-ini")):
    ...     print(line)
    inventory hosts.ini: ansible-ini, 1 host selected
      note: hosts.ini: group 'x': key 'y' is not hosts, children or vars; skipped
    """
    if inventory.source_format == "suite":
        return []
    lines = [f"inventory {inventory.path}: {inventory.source_format}, {plural(len(inventory.hosts), 'host')} selected"]
    lines += [f"  note: {note}" for note in inventory.notes[:MAX_NOTES_SHOWN]]
    if len(inventory.notes) > MAX_NOTES_SHOWN:
        lines.append(f"  … and {len(inventory.notes) - MAX_NOTES_SHOWN} more notes")
    return lines


def pytest_report_header(config: pytest.Config) -> list[str]:
    fleet = config.stash.get(FLEET, None)
    return [] if fleet is None else inventory_header(fleet.inventory)


def only_hosts(inventory: Inventory, names: Sequence[str]) -> Inventory:
    """``inventory`` with only the hosts ``names``, in inventory order.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> inventory = Inventory("x.yaml", tuple(HostSpec(name=n, transport="local") for n in ("a", "b", "c")))
    >>> [spec.name for spec in only_hosts(inventory, ["c", "a"]).hosts]
    ['a', 'c']
    """
    keep = set(names)
    return dataclasses.replace(inventory, hosts=tuple(spec for spec in inventory.hosts if spec.name in keep))


def each_worker_gathers(config: pytest.Config) -> bool:
    """True when every pytest-xdist worker gathers its own hosts: ``-n N`` outside a destructive run or a replay.

    >>> from types import SimpleNamespace
    >>> def run(n: int, *flags: str) -> SimpleNamespace:  # a stand-in for pytest's config
    ...     return SimpleNamespace(option=SimpleNamespace(numprocesses=n), getoption=lambda name: name in flags)
    >>> each_worker_gathers(run(2)), each_worker_gathers(run(0)), each_worker_gathers(run(2, "destructive"))
    (True, False, False)
    """
    if not getattr(config.option, "numprocesses", None):
        return False
    return destructive_mode(config) != "run" and not config.getoption("rollback_journal")


def worker_slice(inventory: Inventory, worker_id: str, worker_count: int) -> list[str]:
    """The hosts pytest-xdist worker ``gwK`` of ``worker_count`` gathers and checks: every N-th from the K-th.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> inventory = Inventory("x.yaml", tuple(HostSpec(name=f"c{n}", transport="local") for n in range(5)))
    >>> worker_slice(inventory, "gw0", 2), worker_slice(inventory, "gw1", 2)
    (['c0', 'c2', 'c4'], ['c1', 'c3'])
    """
    index = int(worker_id.removeprefix("gw"))
    return [spec.name for spec in inventory.hosts[index::worker_count]]


def gather_and_close(inventory: Inventory, pool: TransportPool, workers: int) -> dict[str, HostGather]:
    """Gather every host of ``inventory``, then close the connections: a check that runs a command opens its
    host's again. An idle paramiko connection is a thread waking ten times a second; a thousand of them kept
    open to the end of the run cost more CPU than the checks.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> pool = TransportPool()
    >>> gathered = gather_and_close(Inventory("x.yaml", (HostSpec(name="me", transport="local"),)), pool, 4)
    >>> gathered["me"].error is None, pool.open_count()
    (True, 0)
    """
    try:
        return gather_fleet(inventory.hosts, pool, workers=workers)
    finally:
        pool.close_all()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    inventory = selected_inventory(config)
    workers = int(config.getoption("gather_workers"))
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # Only the main process may wipe the Allure results directory.
        if hasattr(config.option, "clean_alluredir"):
            config.option.clean_alluredir = False
        if WIRE_KEY in workerinput:
            wire = json.loads(workerinput[WIRE_KEY])
            gathered = {name: HostGather.from_wire(data) for name, data in wire.items()}
            config.stash[FLEET] = Fleet(inventory, gathered, TransportPool())
            return
        mine = only_hosts(inventory, worker_slice(inventory, workerinput["workerid"], workerinput["workercount"]))
        pool = TransportPool()
        config.stash[FLEET] = Fleet(mine, gather_and_close(mine, pool, workers), pool)
        return
    pool = TransportPool()
    if each_worker_gathers(config):
        config.option.dist = "each"  # each worker runs its own collection: its own hosts
        fleet = Fleet(inventory, {}, pool)
    else:
        fleet = Fleet(inventory, gather_and_close(inventory, pool, workers), pool)
    config.stash[FLEET] = fleet
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHandOff(config, fleet), "vrouter-preflight-xdist")


class _XdistHandOff:
    """The main process's side of pytest-xdist: hands the gathered facts to the workers (when it gathered),
    and merges what each worker reports when it finishes."""

    def __init__(self, config: pytest.Config, fleet: Fleet) -> None:
        self._config = config
        self._fleet = fleet
        self._wire: str | None = None

    def wire(self) -> str | None:
        """The gathered facts as the workers receive them; made once, when the first worker starts (a run
        without ``-n`` never pays for it), None when the workers gather their own hosts."""
        if self._wire is None and self._fleet.gathered:
            self._wire = json.dumps({name: result.to_wire() for name, result in self._fleet.gathered.items()})
        return self._wire

    def pytest_configure_node(self, node: Any) -> None:
        wire = self.wire()
        if wire is not None:
            node.workerinput[WIRE_KEY] = wire

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if sent is not None:
            merge_worker_output(self._config, sent)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A worker sends the main process its hosts' results; a shard that selects no host has nothing to fail."""
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        handed = WIRE_KEY in getattr(config, "workerinput", {})
        workeroutput[WORKER_OUTPUT_KEY] = worker_output(config, gathered_here=not handed)
    elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and not config.stash[FLEET].inventory.hosts:
        session.exitstatus = pytest.ExitCode.OK


def pytest_unconfigure(config: pytest.Config) -> None:
    fleet = config.stash.get(FLEET, None)
    if fleet is not None:
        fleet.pool.close_all()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "host" not in metafunc.fixturenames:
        return
    fleet = metafunc.config.stash[FLEET]
    for node_fixture, nodes_of in (("node", _nodes_of), ("trial_node", _trial_nodes_of)):
        if node_fixture in metafunc.fixturenames:
            pairs = [
                pytest.param(name, node, id=f"{name}-node{node}" if node is not None else name, marks=_group(name))
                for name in _hosts_for(metafunc, fleet)
                for node in nodes_of(fleet, name)
            ]
            metafunc.parametrize(("host", node_fixture), pairs, indirect=["host"])
            return
    params = [pytest.param(name, id=name, marks=_group(name)) for name in _hosts_for(metafunc, fleet)]
    metafunc.parametrize("host", params, indirect=True)


def _hosts_for(metafunc: pytest.Metafunc, fleet: Fleet) -> tuple[str, ...]:
    """Every host; for a ``certification`` check only the hosts the inventory marks for certification."""
    if metafunc.definition.get_closest_marker("certification") is None:
        return fleet.host_names
    return tuple(name for name in fleet.host_names if fleet.inventory.host(name).certify)


def _group(name: str) -> pytest.MarkDecorator:
    """Keep each host's checks on one pytest-xdist worker (--dist loadgroup)."""
    return pytest.mark.xdist_group(name)


def _nodes_of(fleet: Fleet, name: str) -> list[int | None]:
    """The NUMA nodes a per-node check runs for; [None] when unknown (the check then says why)."""
    if fleet.error_of(name) is not None:
        return [None]
    try:
        nodes = list(fleet.host(name).facts.numa_nodes)
    except PreflightError:
        return [None]
    return list(nodes) or [None]


def _trial_nodes_of(fleet: Fleet, name: str) -> list[int | None]:
    """The NUMA nodes the inventory's ``trial: {nodes: [...]}`` asks for; [None] = one trial for the host."""
    return list(fleet.inventory.host(name).trial.nodes) or [None]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the reachability check of a host that could not be gathered.

    An unreachable host gives ONE error (its reachability check); its other
    checks are deselected, and the summary says why. Checks marked
    ``live_only`` (the trial allocation) are deselected for snapshot hosts,
    and the summary's ``not_run`` says so (:mod:`vrouter_preflight.wiring.not_run`).
    """
    fleet = config.stash[FLEET]
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        name = host_of(item)
        if name is not None:
            item.user_properties.extend(_identity(item, name))
        if name is not None and _deselected(fleet, item, name):
            dropped.append(item)
            if fleet.error_of(name) is None:  # a live-only check of a snapshot host
                record_live_only_not_run(config, name, check_id_of(item))
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _deselected(fleet: Fleet, item: pytest.Item, name: str) -> bool:
    """An unreachable host's checks but its reachability one; a ``live_only`` check of a snapshot host."""
    if fleet.error_of(name) is not None:
        return item.get_closest_marker("reachability") is None
    return item.get_closest_marker("live_only") is not None and fleet.inventory.host(name).transport == "snapshot"


def _identity(item: pytest.Item, name: str) -> list[tuple[str, object]]:
    """What every report says about a check item: host, check id and, per node, the node."""
    identity: list[tuple[str, object]] = [("host", name), ("check", check_id_of(item))]
    node = node_of(item)
    if node is not None:
        identity.append(("node", node))
    return identity


def describe_host_check(item: pytest.Item, name: str) -> None:
    """Give a check item of host ``name`` its Allure title (until its verdict retitles it), parameters, labels."""
    check = check_id_of(item)
    describe_check(title=f"{name}: {check}", host=name, node=node_of(item), check_id=check)


@pytest.fixture
def host(request: pytest.FixtureRequest) -> HostUnderTest:
    """The host a check runs against (parametrised over the inventory)."""
    name = str(request.param)
    describe_host_check(request.node, name)
    return request.config.stash[FLEET].host(name)


class _PreflightRepr:
    """A report body that is just the message: no traceback for known errors."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.reprcrash = self

    def toterminal(self, tw: Any) -> None:
        tw.line(self.message, red=True)

    def __str__(self) -> str:
        return self.message


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, PreflightError):
        report.longrepr = _PreflightRepr(str(call.excinfo.value))
        # A check that could not start (unreachable, cannot judge) is titled by its reason too.
        retitle(str(call.excinfo.value))
    elif report.skipped and call.when == "setup":
        # allure-pytest names a result once its setup ends, over the title the verdict gave a check that does
        # not apply (skipped before or by its inputs): give it back.
        message = dict(item.user_properties).get("message")
        if isinstance(message, str):
            retitle(message, severity="minor")
    return report
