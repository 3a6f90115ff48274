"""What the end-of-run reports need to know about each host, whichever process gathered it.

Without pytest-xdist, or when the main process gathered for its workers, the
main process has every host's facts. When each xdist worker gathers and checks
its own hosts, the main process has none: each worker sends, when it finishes,
one :class:`HostResult` per host of its slice and the reasons it deselected
checks, through xdist's ``workeroutput``; the main process merges them here.
The JSON summary, the terminal table and the certificates read only these.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from vrouter_preflight.contiguity import count_usable_blocks
from vrouter_preflight.errors import PreflightError
from vrouter_preflight.figures import demand_json, supply_json
from vrouter_preflight.fleet import Fleet, HostUnderTest
from vrouter_preflight.records import HostResult
from vrouter_preflight.wiring.check_inputs import host_demand, host_zone_supplies
from vrouter_preflight.wiring.stash import DESTRUCTIVE_NOT_RUN, FLEET, HOST_RESULTS, LIVE_ONLY_NOT_RUN, UNSELECTED_HOSTS

WORKER_OUTPUT_KEY = "vrouter_preflight_hosts"
NOT_REPORTED = "no result: the process that was to gather this host did not report (a pytest-xdist worker crashed?)"


def host_result(fleet: Fleet, name: str) -> HostResult:
    """The result of host ``name`` from this process's fleet (which gathered it).

    >>> from vrouter_preflight.gather import HostGather
    >>> from vrouter_preflight.errors import HostUnreachable
    >>> from vrouter_preflight.inventory import HostSpec, Inventory
    >>> spec = HostSpec(name="c1", address="192.0.2.11")
    >>> gone = HostGather("c1", None, HostUnreachable("c1", "192.0.2.11:22", "connection refused"), 0.1)
    >>> host_result(Fleet(Inventory("x.yaml", (spec,)), {"c1": gone}), "c1").error
    'connection refused'
    """
    spec = fleet.inventory.host(name)
    error = fleet.error_of(name)
    if error is not None:
        return HostResult(name, spec.transport, spec.display_address, None, None, error.cause, None, None)
    host = fleet.host(name)
    facts = host.facts
    # A DPDK vRouter allocates no kernel tables: no demand, so no usable blocks to count either.
    demand_figures = demand_figures_of(host) if spec.kernel_module else None
    chunk_order = None if demand_figures is None else int(demand_figures["chunk_order"])
    try:
        supply_figures: dict[str, Any] | None = supply_json(facts.buddyinfo, facts.hugepages)
    except PreflightError:
        supply_figures = None
    if supply_figures is not None:
        supply_figures["usable_chunks"] = usable_chunks_by_node(host, chunk_order)
    try:
        nodes: tuple[int, ...] | None = tuple(facts.numa_nodes) or None
    except PreflightError:
        nodes = None
    return HostResult(
        name, spec.transport, spec.display_address, facts.kernel_release, nodes, None, demand_figures, supply_figures
    )


def demand_figures_of(host: HostUnderTest) -> dict[str, Any] | None:
    """What a reload on ``host`` asks for, as the summary writes it (with its chunk order); None when unknown.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> demand_figures_of(HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool())) is None
    True
    """
    try:
        demand = host_demand(host)
    except PreflightError:
        return None
    return {**demand_json(demand.blocks_with_margin(), demand.hugepages_needed), "chunk_order": demand.chunk_order}


def usable_chunks_by_node(host: HostUnderTest, chunk_order: int | None) -> dict[str, int] | None:
    """Free 4 MiB blocks (``chunk_order``) a GFP_ATOMIC reload could take, per NUMA node: each zone's blocks of
    that order or larger, split down, above the zone's atomic floor; None when that cannot be known.

    >>> from vrouter_preflight.capture import Capture
    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> text = "Node 0, zone   Normal   1 0 0 0 0 0 0 0 0 0 3\\nNode 1, zone   Normal   0 0 0 0 0 0 0 0 0 2 1\\n"
    >>> buddy = {"/proc/buddyinfo": Capture("/proc/buddyinfo", "ok", text)}
    >>> usable_chunks_by_node(HostUnderTest(HostSpec(name="c0", transport="local"), buddy, TransportPool()), 10)
    {'0': 3, '1': 1}
    """
    if chunk_order is None:
        return None
    try:
        supplies = host_zone_supplies(host)
    except PreflightError:
        return None
    usable: dict[str, int] = {}
    for supply in supplies:
        node = str(supply.node)
        usable[node] = usable.get(node, 0) + count_usable_blocks(supply, chunk_order)
    return usable


def worker_output(config: pytest.Config, *, gathered_here: bool) -> str:
    """What a worker sends the main process: the checks it deselected and, when it gathered its hosts itself,
    their results; as JSON.

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.inventory import HostSpec, Inventory
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for a worker's pytest config
    >>> config.stash[FLEET] = Fleet(Inventory("x.yaml", ()), {})
    >>> json.loads(worker_output(config, gathered_here=True))
    {'hosts': [], 'destructive_not_run': {}, 'live_only_not_run': {}, 'unselected': []}
    """
    fleet = config.stash[FLEET]
    return json.dumps(
        {
            "hosts": [host_result(fleet, name).to_wire() for name in fleet.gathered] if gathered_here else [],
            "destructive_not_run": config.stash.get(DESTRUCTIVE_NOT_RUN, {}),
            "live_only_not_run": config.stash.get(LIVE_ONLY_NOT_RUN, {}),
            "unselected": sorted(config.stash.get(UNSELECTED_HOSTS, None) or ()),
        }
    )


def merge_worker_output(config: pytest.Config, text: str) -> None:
    """Add one worker's output (:func:`worker_output`) to the main process's results and not-run reasons.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for the main process's config
    >>> r = HostResult("c0", "local", "local", "6.1.0", (0,), None, None, None)
    >>> sent = {"hosts": [r.to_wire()], "destructive_not_run": {"c0": {"remediation": "needs --destructive"}},
    ...         "live_only_not_run": {}}
    >>> merge_worker_output(config, json.dumps(sent))
    >>> config.stash[HOST_RESULTS]["c0"].kernel, config.stash[DESTRUCTIVE_NOT_RUN]
    ('6.1.0', {'c0': {'remediation': 'needs --destructive'}})
    """
    data = json.loads(text)
    results = config.stash.setdefault(HOST_RESULTS, {})
    for wire in data["hosts"]:
        result = HostResult.from_wire(wire)
        results[result.name] = result
    config.stash.setdefault(UNSELECTED_HOSTS, set()).update(data.get("unselected", ()))
    for key, name in ((DESTRUCTIVE_NOT_RUN, "destructive_not_run"), (LIVE_ONLY_NOT_RUN, "live_only_not_run")):
        merged = config.stash.setdefault(key, {})
        for host, reasons in data[name].items():
            merged.setdefault(host, {}).update(reasons)


def host_results(config: pytest.Config) -> dict[str, HostResult]:
    """Every host's result for the end-of-run reports, in inventory order.

    Hosts this process gathered are computed from its fleet (once: the result
    is kept); the others come from the workers (a host no process reported is
    an error saying so).

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.inventory import HostSpec, Inventory
    >>> config = SimpleNamespace(stash=pytest.Stash())     # a stand-in for pytest's config
    >>> config.stash[FLEET] = Fleet(Inventory("x.yaml", (HostSpec(name="c9", transport="local"),)), {})
    >>> host_results(config)["c9"].error
    'no result: the process that was to gather this host did not report (a pytest-xdist worker crashed?)'
    """
    fleet = config.stash[FLEET]
    known = config.stash.setdefault(HOST_RESULTS, {})
    results: dict[str, HostResult] = {}
    for spec in fleet.inventory.hosts:
        name = spec.name
        if name not in known and name in fleet.gathered:
            known[name] = host_result(fleet, name)
        if name in known:
            results[name] = known[name]
        else:
            cause = (
                "no result: the process that was to gather this host did not report (a pytest-xdist worker crashed?)"
            )
            results[name] = HostResult(name, spec.transport, spec.display_address, None, None, cause, None, None)
    return results
