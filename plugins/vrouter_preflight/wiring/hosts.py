"""The hosts of a run: the one gather, host parametrisation, deselection, the ``host`` fixture, clean errors.

Gathering happens once, in ``pytest_configure`` of the main process, before
collection: checks that are per NUMA node need the facts to parametrise, and
pytest-xdist workers receive the gathered facts instead of reconnecting.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.errors import InventoryError, PreflightError
from vrouter_preflight.fleet import Fleet, HostUnderTest
from vrouter_preflight.gather import HostGather, gather_fleet
from vrouter_preflight.inventory import load_inventory
from vrouter_preflight.transport.pool import TransportPool
from vrouter_preflight.wiring.allure_attach import describe_check, retitle
from vrouter_preflight.wiring.items import check_id_of, host_of, node_of
from vrouter_preflight.wiring.not_run import record_live_only_not_run
from vrouter_preflight.wiring.stash import FLEET

WIRE_KEY = "vrouter_preflight_fleet"
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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    hosts_option = config.getoption("hosts")
    only = [h.strip() for h in str(hosts_option).split(",") if h.strip()] if hosts_option else None
    try:
        inventory = load_inventory(inventory_path(config), only_hosts=only)
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # Only the main process may wipe the Allure results directory.
        if hasattr(config.option, "clean_alluredir"):
            config.option.clean_alluredir = False
        wire = json.loads(workerinput[WIRE_KEY])
        gathered = {name: HostGather.from_wire(data) for name, data in wire.items()}
        fleet = Fleet(inventory, gathered, TransportPool())
    else:
        pool = TransportPool()
        gathered = gather_fleet(inventory.hosts, pool, workers=int(config.getoption("gather_workers")))
        fleet = Fleet(inventory, gathered, pool)
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_XdistHandOff(fleet), "vrouter-preflight-xdist")
    config.stash[FLEET] = fleet


class _XdistHandOff:
    """Gives every pytest-xdist worker the facts gathered by the main process."""

    def __init__(self, fleet: Fleet) -> None:
        self._wire = json.dumps({name: result.to_wire() for name, result in fleet.gathered.items()})

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WIRE_KEY] = self._wire


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


@pytest.fixture
def host(request: pytest.FixtureRequest) -> HostUnderTest:
    """The host a check runs against (parametrised over the inventory)."""
    name = str(request.param)
    check = check_id_of(request.node)
    describe_check(title=f"{name}: {check}", host=name, node=node_of(request.node), check_id=check)
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
    return report
