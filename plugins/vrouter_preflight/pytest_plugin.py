"""The pytest wiring: options, the one gather per run, host parametrisation,
clean error messages and the per-host summary. The work lives elsewhere.

Gathering happens once, in ``pytest_configure`` of the main process, before
collection: checks that are per NUMA node need the facts to parametrise, and
pytest-xdist workers receive the gathered facts instead of reconnecting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.errors import InventoryError, PreflightError
from vrouter_preflight.fleet import Fleet, HostUnderTest
from vrouter_preflight.gather import HostGather, gather_fleet
from vrouter_preflight.inventory import load_inventory
from vrouter_preflight.not_run import record_live_only_not_run
from vrouter_preflight.reporting.allure_report import describe_check, retitle
from vrouter_preflight.reporting.run_report import RunReport
from vrouter_preflight.transport.pool import TransportPool
from vrouter_preflight.verdict import check_id_of

ROOT = Path(__file__).resolve().parents[2]
CHECKS_DIR = ROOT / "checks"
DEFAULT_INVENTORY = "inventory/local.yaml"
FLEET_KEY = pytest.StashKey[Fleet]()
DEFAULT_SUMMARY = "reports/summary.json"
WIRE_KEY = "vrouter_preflight_fleet"
#: Hardware certification (``-m certification``): its option, marker, collection and certificates.
pytest_plugins = ("vrouter_preflight.certification.plugin",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vrouter-preflight")
    group.addoption(
        "--inventory",
        default=DEFAULT_INVENTORY,
        metavar="PATH",
        help=f"inventory YAML of the computes to check (default: {DEFAULT_INVENTORY})",
    )
    group.addoption(
        "--hosts",
        default=None,
        metavar="NAME[,NAME...]",
        help="check only these inventory hosts",
    )
    group.addoption(
        "--gather-workers",
        type=int,
        default=32,
        metavar="N",
        help="hosts gathered at once (default: 32)",
    )
    group.addoption(
        "--summary-json",
        default=None,
        metavar="PATH",
        help=f"write the JSON summary here (default: {DEFAULT_SUMMARY} in the repository)",
    )


def runs_checks(config: pytest.Config) -> bool:
    """True when this run collects the suite's checks (not only its own tests).

    >>> from types import SimpleNamespace
    >>> def started(*args: str) -> SimpleNamespace:     # a stand-in for pytest's config: `pytest ARGS` from ROOT
    ...     return SimpleNamespace(invocation_params=SimpleNamespace(dir=ROOT), args=list(args))
    >>> runs_checks(started("checks/test_contiguity.py::test_fits")), runs_checks(started("."))
    (True, True)
    >>> runs_checks(started("tests/unit", "plugins"))
    False
    """
    invocation = Path(config.invocation_params.dir)
    for arg in config.args:
        path = (invocation / arg.split("::", 1)[0]).resolve()
        if path == CHECKS_DIR or CHECKS_DIR in path.parents or path in CHECKS_DIR.parents:
            return True
    return False


def _inventory_path(config: pytest.Config) -> Path:
    raw = Path(str(config.getoption("inventory")))
    if raw.is_absolute():
        return raw
    invoked = Path(config.invocation_params.dir) / raw
    return invoked if invoked.exists() or str(raw) != DEFAULT_INVENTORY else ROOT / raw


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reachability: the check that reports an unreachable host (one per host)")
    config.addinivalue_line("markers", "live_only: acts on the live kernel; not collected for snapshot hosts")
    if not runs_checks(config):
        return
    hosts_option = config.getoption("hosts")
    only = [h.strip() for h in str(hosts_option).split(",") if h.strip()] if hosts_option else None
    try:
        inventory = load_inventory(_inventory_path(config), only_hosts=only)
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
    config.stash[FLEET_KEY] = fleet
    if workerinput is None:
        summary = config.getoption("summary_json")
        path = ROOT / DEFAULT_SUMMARY if summary is None else Path(config.invocation_params.dir) / str(summary)
        config.pluginmanager.register(RunReport(config, fleet, path), "vrouter-preflight-report")


class _XdistHandOff:
    """Gives every pytest-xdist worker the facts gathered by the main process."""

    def __init__(self, fleet: Fleet) -> None:
        self._wire = json.dumps({name: result.to_wire() for name, result in fleet.gathered.items()})

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WIRE_KEY] = self._wire


def pytest_unconfigure(config: pytest.Config) -> None:
    fleet = config.stash.get(FLEET_KEY, None)
    if fleet is not None:
        fleet.pool.close_all()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "host" not in metafunc.fixturenames:
        return
    fleet = metafunc.config.stash.get(FLEET_KEY, None)
    if fleet is None:
        raise pytest.UsageError("checks need the inventory: run them from the repository (pytest checks)")
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


def _host_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    value = callspec.params.get("host")
    return value if isinstance(value, str) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the reachability check of a host that could not be gathered.

    An unreachable host gives ONE error (its reachability check); its other
    checks are deselected, and the summary says why. Checks marked
    ``live_only`` (the trial allocation) are deselected for snapshot hosts,
    and the summary's ``not_run`` says so (:mod:`vrouter_preflight.not_run`).
    """
    fleet = config.stash.get(FLEET_KEY, None)
    if fleet is None:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        name = _host_of(item)
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
    node = _node_of(item)
    if node is not None:
        identity.append(("node", node))
    return identity


def _node_of(item: pytest.Item) -> int | None:
    """The NUMA node a per-node check (``node``) or a per-node trial (``trial_node``) judges."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    node = params.get("node", params.get("trial_node"))
    return node if isinstance(node, int) else None


@pytest.fixture
def host(request: pytest.FixtureRequest) -> HostUnderTest:
    """The host a check runs against (parametrised over the inventory)."""
    name = str(request.param)
    check = check_id_of(request.node)
    describe_check(title=f"{name}: {check}", host=name, node=_node_of(request.node), check_id=check)
    fleet = request.config.stash[FLEET_KEY]
    return fleet.host(name)


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
