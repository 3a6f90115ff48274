"""What the destructive stage would do on one host, decided before anything is touched (pure).

:func:`plan_remediation` takes the gate's inputs -- the demand (its
``blocks_with_margin`` already carries ``contiguity_margin``), the zone
supplies, the hugepage pools -- and the host's inventory entry, and returns a
:class:`RemediationPlan`: how many 1G pages to release on which node, the
exact commands in order, and the rollback.

Rules for the release:

* Nothing is released when the reload fits already; the stage then only
  proves the reload (reload, health, signatures) and checks the pools after.
* Otherwise the fewest pages: first the single node that closes the gap
  with the fewest pages (:func:`~vrouter_preflight.contiguity.plan_freeing_1g`, which
  re-simulates the reload with each page freed, counting 240 order-10 blocks
  per page); if no node can alone, pages are added one at a time on the node
  with the most pages to spare until the replay fits.
* Never more than a node can spare: ``free - resv_share - min_free_1g_per_node``.
  ``resv_hugepages`` is a global count (per-node directories have none): pages
  promised to mappings that have not faulted them in yet, on whichever node
  the faulting task's policy picks. Each node keeps a share of it in
  proportion to its free pages, rounded UP, so the shares add up to at least
  ``resv`` -- however the faults land, the pool keeps every promised page (the
  kernel itself never frees reserved pages, but a release it silently
  refuses would leave the plan's numbers wrong).
* ``keep_free_1g_total`` keeps more free pages over all nodes (for example a
  hugepage-mode vRouter whose ``flow``/``bridge`` files do not exist yet
  needs its pages free at the reload).

>>> from vrouter_preflight.contiguity import ZoneSupply
>>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
>>> pools = HugepagePools((HugepagePool(GIB_KIB, None, 8, 8, 0, resv=0), HugepagePool(GIB_KIB, 0, 8, 8, 0)))
>>> normal = (ZoneSupply(0, "Normal", (0,) * 10 + (10,), None, None),)
>>> plan = plan_remediation_for({10: 300}, normal, pools, _example_spec(min_free=2), page_size=4096)
>>> dict(plan.release), dict(plan.targets), plan.budgets[0].releasable
({0: 2}, {0: 6}, 6)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from vrouter_preflight.contiguity import ZoneSupply, plan_freeing_1g, simulate_reload, with_freed_1g
from vrouter_preflight.demand import VrouterDemand, VrouterOverrides
from vrouter_preflight.facts.hugepages import HugepagePools
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.inventory import HostSpec, RemediationSteps
from vrouter_preflight.remediation.commands import (
    COMPACT_MEMORY,
    DROP_CACHES,
    SYNC,
    read_pools_command,
    write_pool_command,
)
from vrouter_preflight.remediation.deployments import VrouterOperations, resolve_operations
from vrouter_preflight.remediation.host_marker import MARKER_PATH
from vrouter_preflight.remediation.journal import PoolTarget

Phase = Literal["release", "read back", "memory", "measure", "reload", "health", "rollback"]


@dataclass(frozen=True)
class NodeBudget:
    """One node's 1G pool and how many of its pages the stage may release.

    >>> NodeBudget(0, nr=170, free=14, resv_share=1, keep=2).releasable
    11
    """

    node: int
    nr: int
    free: int
    resv_share: int
    keep: int

    @property
    def releasable(self) -> int:
        """``free - resv_share - keep``, never negative."""
        return max(0, self.free - self.resv_share - self.keep)

    def describe(self) -> str:
        """``node 0: 14 free, keep 2, 1 promised -> 11 to spare``.

        >>> NodeBudget(0, 170, 14, 1, 2).describe()
        'node 0: nr 170, 14 free, keep 2, 1 reserved -> 11 to spare'
        """
        return f"node {self.node}: nr {self.nr}, {self.free} free, keep {self.keep}, {self.resv_share} reserved" + (
            f" -> {self.releasable} to spare"
        )


@dataclass(frozen=True)
class PlannedCommand:
    """One command the stage runs, in order, with why and its time limit.

    >>> PlannedCommand("memory", "sync", "write dirty pages first").describe()
    '[memory] sync    # write dirty pages first'
    """

    phase: Phase
    command: str
    purpose: str
    timeout: float | None = None

    def describe(self) -> str:
        """One line for ``--plan``."""
        limit = f" (up to {self.timeout:g}s)" if self.timeout is not None else ""
        return f"[{self.phase}] {self.command}    # {self.purpose}{limit}"


@dataclass(frozen=True)
class RemediationPlan:
    """The stage's plan for one host; :meth:`describe` prints it for ``--plan``.

    ``release`` maps node to 1G pages to release (only nodes that give some);
    ``restore`` is every node's 1G ``nr_hugepages`` as found, written back at
    the end. ``feasible`` is False when releasing what the nodes can spare
    would not make the reload fit (``problem`` says why): the stage then does
    not start.
    """

    host: str
    requests: Mapping[int, int]
    page_size: int
    fits_now: bool
    budgets: tuple[NodeBudget, ...]
    release: Mapping[int, int]
    feasible: bool
    problem: str | None
    steps: RemediationSteps
    operations: VrouterOperations
    commands: tuple[PlannedCommand, ...]
    rollback_commands: tuple[PlannedCommand, ...]
    restore: tuple[PoolTarget, ...]

    @property
    def targets(self) -> dict[int, int]:
        """``nr_hugepages`` to write per node for the release.

        >>> from vrouter_preflight.contiguity import ZoneSupply
        >>> plan_remediation_for({}, (), _example_pools(4), _example_spec()).targets
        {}
        """
        by_node = {budget.node: budget.nr for budget in self.budgets}
        return {node: by_node[node] - pages for node, pages in self.release.items()}

    @property
    def changes_pools(self) -> bool:
        """True when the plan releases at least one page."""
        return any(self.release.values())

    def describe(self) -> str:
        """The plan for the terminal: verdict, numbers per node, every command in order, the rollback.

        >>> from vrouter_preflight.contiguity import ZoneSupply
        >>> normal = (ZoneSupply(0, "Normal", (0,) * 10 + (10,), None, None),)
        >>> print(plan_remediation_for({10: 100}, normal, _example_pools(4), _example_spec()).describe())
        ... # doctest: +NORMALIZE_WHITESPACE
        compute-0: the reload does not fit now (100 × order 10 requested); release 1 × 1G page on node 0
          node 0: nr 4, 4 free, keep 0, 0 reserved -> 4 to spare
          first, the host is claimed: /run/vrouter-preflight/open-journal (refused while another run holds it)
          1. [release] echo 3 > /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages
             # node 0: nr_hugepages 4 -> 3
          2. [read back] printf ... # expect node 0 nr 3
          3. [memory] sync    # write dirty pages so drop_caches can free them
          4. [memory] echo 3 > /proc/sys/vm/drop_caches    # drop page cache and reclaimable slab
          5. [memory] echo 1 > /proc/sys/vm/compact_memory    # compact every zone into high-order blocks
          6. [measure] (gather the facts again)    # replay the demand on the new buddy state; stop and roll back
             if it does not fit
          7. [reload] r    # reload vRouter (inventory); started once, detached, its exit status awaited
             (up to 600s)
          8. [health] h    # every 5s until it succeeds (inventory) (up to 300s)
          rollback (also on any failure, timeout, Ctrl-C, SIGTERM, SIGHUP or lost connection; a pool already
          at its value is not written):
          1. [rollback] echo 4 > /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages
             # node 0: nr_hugepages back to 4
          2. [read back] printf ... # expect node 0 nr 4
        """
        wanted = ", ".join(f"{count} × order {order}" for order, count in self.requests.items() if count) or "nothing"
        if self.fits_now:
            head = f"{self.host}: the reload fits now ({wanted} requested); nothing to release, the reload is proved"
        elif not self.feasible:
            head = f"{self.host}: the reload does not fit ({wanted} requested) and cannot be made to: {self.problem}"
        else:
            parts = ", ".join(f"{_pages(count)} on node {node}" for node, count in self.release.items())
            head = f"{self.host}: the reload does not fit now ({wanted} requested); release {parts}"
        lines = [head, *(f"  {budget.describe()}" for budget in self.budgets)]
        if self.feasible:
            lines.append(f"  first, the host is claimed: {MARKER_PATH} (refused while another run holds it)")
            lines += [f"  {n}. {_short(c)}" for n, c in enumerate(self.commands, start=1)]
            lines.append(
                "  rollback (also on any failure, timeout, Ctrl-C, SIGTERM, SIGHUP or lost connection; "
                "a pool already at its value is not written):"
            )
            lines += [f"  {n}. {_short(c)}" for n, c in enumerate(self.rollback_commands, start=1)]
        return "\n".join(lines)


def _short(command: PlannedCommand) -> str:
    if command.phase == "read back":
        return f"[read back] printf ... # {command.purpose}"
    return command.describe()


def _pages(count: int) -> str:
    return f"{count} × 1G page{'' if count == 1 else 's'}"


def node_budgets(pools: HugepagePools, min_free_per_node: int) -> tuple[NodeBudget, ...]:
    """Each node's 1G pool with its share of the global ``resv_hugepages`` (see the module rules).

    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> pools = HugepagePools((HugepagePool(GIB_KIB, None, 20, 9, 0, resv=3),
    ...                        HugepagePool(GIB_KIB, 0, 10, 6, 0), HugepagePool(GIB_KIB, 1, 10, 3, 0)))
    >>> [(b.node, b.resv_share, b.releasable) for b in node_budgets(pools, 1)]
    [(0, 2, 3), (1, 1, 1)]
    """
    per_node = [p for p in pools.node_pools(GIB_KIB) if p.nr is not None and p.free is not None]
    total_free = sum(p.free or 0 for p in per_node)
    pool = pools.global_pool(GIB_KIB)
    resv = (pool.resv or 0) if pool is not None else 0
    budgets: list[NodeBudget] = []
    for p in per_node:
        free = p.free or 0
        share = -(-resv * free // total_free) if total_free else 0
        budgets.append(NodeBudget(p.node or 0, p.nr or 0, free, min(free, share), min_free_per_node))
    return tuple(budgets)


def _fits(
    requests: Mapping[int, int], supplies: Sequence[ZoneSupply], release: Mapping[int, int], **kw: object
) -> bool:
    after = tuple(supplies)
    for node, count in release.items():
        if count:
            after = with_freed_1g(after, node, count, **kw)  # type: ignore[arg-type]
    return simulate_reload(requests, after).fits


def _choose_release(
    requests: Mapping[int, int],
    supplies: Sequence[ZoneSupply],
    budgets: Sequence[NodeBudget],
    *,
    page_size: int,
    blocks_per_1g_page: int | None,
    total_cap: int,
) -> tuple[dict[int, int], str | None]:
    """The fewest pages (one node if possible, else greedy over nodes), or ``({}, why not)``."""
    spare = {b.node: b.releasable for b in budgets}
    if not spare:
        return {}, "the host lists no per-node 1G pools"
    if total_cap <= 0 or not any(spare.values()):
        return {}, "no node has a 1G page to spare (" + "; ".join(b.describe() for b in budgets) + ")"
    single = [
        r
        for r in plan_freeing_1g(requests, supplies, spare, page_size=page_size, blocks_per_1g_page=blocks_per_1g_page)
        if r.closes_gap and r.pages_1g <= total_cap
    ]
    if single:
        best = min(single, key=lambda r: (r.pages_1g, r.node))
        return {best.node: best.pages_1g}, None
    release = dict.fromkeys(spare, 0)
    has_normal = {s.node for s in supplies if s.zone == "Normal"}
    while sum(release.values()) < total_cap:
        candidates = [n for n in spare if release[n] < spare[n] and n in has_normal]
        if not candidates:
            break
        node = max(candidates, key=lambda n: (spare[n] - release[n], -n))
        release[node] += 1
        if _fits(requests, supplies, release, page_size=page_size, blocks_per_1g_page=blocks_per_1g_page):
            return {n: c for n, c in sorted(release.items()) if c}, None
    given = sum(release.values())
    return {}, f"releasing every 1G page the nodes can spare ({given}) would still not make the reload fit"


def plan_remediation(
    demand: VrouterDemand,
    supplies: Sequence[ZoneSupply],
    pools: HugepagePools,
    spec: HostSpec,
    *,
    operations: VrouterOperations | None = None,
    blocks_per_1g_page: int | None = None,
    keep_free_1g_total: int = 0,
) -> RemediationPlan:
    """The plan for ``spec``'s host from the gate's inputs (requests = ``demand.blocks_with_margin()``).

    ``operations`` defaults to :func:`resolve_operations` of ``spec.vrouter``
    (which raises :class:`~vrouter_preflight.remediation.deployments.OperationsMissing`
    naming the keys when neither a deployment nor the commands are set).

    >>> from vrouter_preflight.contiguity import ZoneSupply
    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import VrouterOverrides
    >>> demand = vrouter_demand(vrouter_settings(VrouterOverrides(contiguity_margin=2.0), {}), 4096)
    >>> normal = (ZoneSupply(0, "Normal", (0,) * 10 + (50,), None, None),)
    >>> plan = plan_remediation(demand, normal, _example_pools(4), _example_spec())
    >>> dict(plan.requests), plan.fits_now, dict(plan.release)
    ({10: 90, 9: 4, 8: 2}, False, {0: 1})
    """
    return plan_remediation_for(
        demand.blocks_with_margin(),
        supplies,
        pools,
        spec,
        page_size=demand.page_size,
        operations=operations,
        blocks_per_1g_page=blocks_per_1g_page,
        keep_free_1g_total=keep_free_1g_total,
    )


def plan_remediation_for(
    requests: Mapping[int, int],
    supplies: Sequence[ZoneSupply],
    pools: HugepagePools,
    spec: HostSpec,
    *,
    page_size: int = 4096,
    operations: VrouterOperations | None = None,
    blocks_per_1g_page: int | None = None,
    keep_free_1g_total: int = 0,
) -> RemediationPlan:
    """:func:`plan_remediation` from buddy requests (order -> blocks, margin applied) instead of a demand.

    >>> from vrouter_preflight.contiguity import ZoneSupply
    >>> normal = (ZoneSupply(0, "Normal", (0,) * 10 + (50,), None, None),)
    >>> plan = plan_remediation_for({10: 44}, normal, _example_pools(4), _example_spec())
    >>> plan.fits_now, dict(plan.release), [c.phase for c in plan.commands]
    (True, {}, ['reload', 'health'])
    """
    ops = operations if operations is not None else resolve_operations(spec.vrouter, spec.name)
    requests = {order: requests[order] for order in sorted(requests, reverse=True)}
    budgets = node_budgets(pools, spec.min_free_1g_per_node)
    fits_now = simulate_reload(requests, supplies).fits
    release: dict[int, int] = {}
    problem: str | None = None
    if not fits_now:
        total_free = sum(b.free for b in budgets)
        total_resv = max(sum(b.resv_share for b in budgets), 0)
        total_cap = min(sum(b.releasable for b in budgets), total_free - total_resv - keep_free_1g_total)
        release, problem = _choose_release(
            requests,
            supplies,
            budgets,
            page_size=page_size,
            blocks_per_1g_page=blocks_per_1g_page,
            total_cap=total_cap,
        )
    restore = tuple(PoolTarget(b.node, GIB_KIB, b.nr) for b in budgets)
    by_node = {b.node: b for b in budgets}
    commands: list[PlannedCommand] = []
    if release:
        for node, count in release.items():
            target = by_node[node].nr - count
            commands.append(
                PlannedCommand(
                    "release",
                    write_pool_command(node, GIB_KIB, target),
                    f"node {node}: nr_hugepages {by_node[node].nr} -> {target}",
                )
            )
        commands.append(
            PlannedCommand(
                "read back",
                read_pools_command((node, GIB_KIB) for node in release),
                ", ".join(f"expect node {n} nr {by_node[n].nr - c}" for n, c in release.items()),
            )
        )
        memory = (
            (spec.remediation.sync, SYNC, "write dirty pages so drop_caches can free them"),
            (spec.remediation.drop_caches, DROP_CACHES, "drop page cache and reclaimable slab"),
            (spec.remediation.compact_memory, COMPACT_MEMORY, "compact every zone into high-order blocks"),
        )
        commands += [PlannedCommand("memory", command, why) for enabled, command, why in memory if enabled]
        commands.append(
            PlannedCommand(
                "measure",
                "(gather the facts again)",
                "replay the demand on the new buddy state; stop and roll back if it does not fit",
            )
        )
    commands.append(
        PlannedCommand(
            "reload",
            ops.reload_command,
            f"reload vRouter ({ops.source['reload_command']}); started once, detached, its exit status awaited",
            ops.reload_timeout,
        )
    )
    commands.append(
        PlannedCommand(
            "health",
            ops.health_command,
            f"every {ops.health_interval:g}s until it succeeds ({ops.source['health_command']})",
            ops.health_timeout,
        )
    )
    rollback = [
        PlannedCommand(
            "rollback", write_pool_command(t.node, t.size_kib, t.nr), f"node {t.node}: nr_hugepages back to {t.nr}"
        )
        for t in restore
    ]
    if restore:
        rollback.append(
            PlannedCommand(
                "read back",
                read_pools_command((t.node, t.size_kib) for t in restore),
                ", ".join(f"expect node {t.node} nr {t.nr}" for t in restore),
            )
        )
    return RemediationPlan(
        host=spec.name,
        requests=MappingProxyType(requests),
        page_size=page_size,
        fits_now=fits_now,
        budgets=budgets,
        release=MappingProxyType(release),
        feasible=fits_now or bool(release),
        problem=problem,
        steps=spec.remediation,
        operations=ops,
        commands=tuple(commands),
        rollback_commands=tuple(rollback),
        restore=restore,
    )


def _example_spec(min_free: int = 0) -> HostSpec:
    """A host for the examples (commands given inline)."""

    return HostSpec(
        name="compute-0",
        transport="local",
        min_free_1g_per_node=min_free,
        vrouter=VrouterOverrides(reload_command="r", health_command="h"),
    )


def _example_pools(free: int) -> HugepagePools:
    """One node with ``free`` of ``free`` 1G pages, for the examples."""
    from vrouter_preflight.facts.hugepages import HugepagePool

    return HugepagePools((HugepagePool(GIB_KIB, None, free, free, 0, resv=0), HugepagePool(GIB_KIB, 0, free, free, 0)))
