"""The destructive cycles of a certification: the remediation engine, ``cert_cycles`` times in a row.

Each cycle reads the host afresh (one capture), plans with the remediation
planner, runs :func:`vrouter_preflight.remediation.run_remediation` (journaled, with its
rollback) and reads the host again: the rollback counts as verified only when
the engine says the pools are back AND every ``nr_hugepages`` reads as before
the cycle. The cycles stop at the first one that fails. The buddy allocator's
free blocks are kept from before the first cycle and after the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.certification.findings import CycleRecord, pool_counts
from vrouter_preflight.contiguity import zone_supplies
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.figures import supply_json
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.remediation import RemediationPlan, StepHook, open_journal, plan_remediation, run_remediation
from vrouter_preflight.remediation.deployments import VrouterOperations

FreeBlocks = dict[str, dict[str, list[int]]]


@dataclass(frozen=True)
class CyclesResult:
    """What the cycles gave: one record per cycle run, and the buddy supply around them."""

    cycles: tuple[CycleRecord, ...]
    supply_before: FreeBlocks | None
    supply_after: FreeBlocks | None
    first_plan: RemediationPlan | None

    @property
    def ok(self) -> bool:
        """Every cycle that ran passed with a verified rollback."""
        return all(c.ok and c.rollback_verified for c in self.cycles)


def read_host(host: HostUnderTest) -> HostFacts:
    """The host's facts now (one capture command), not the ones gathered at the start of the run.

    >>> import tempfile
    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> with tempfile.TemporaryDirectory() as root:  # a snapshot tree: nothing runs
    ...     (Path(root) / "proc").mkdir()
    ...     _ = (Path(root) / "proc" / "buddyinfo").write_text("Node 0, zone   Normal   9   4   2\\n")
    ...     host = HostUnderTest(HostSpec(name="c7", transport="snapshot", path=root), {}, TransportPool())
    ...     print(host.facts.buddyinfo, read_host(host).buddyinfo)
    None BuddyInfo(zones=(BuddyZone(node=0, zone='Normal', free_blocks=(9, 4, 2)),))
    """
    return HostFacts(host.name, host.transport.capture(FACT_SOURCES))


def free_blocks(facts: HostFacts) -> FreeBlocks | None:
    """Free blocks per node and zone, per order (``None`` without /proc/buddyinfo).

    >>> from vrouter_preflight.capture import Capture
    >>> buddy = Capture("/proc/buddyinfo", "ok", "Node 0, zone DMA32 5 1 2\\nNode 0, zone Normal 9 0 3\\n")
    >>> free_blocks(HostFacts("c0", {buddy.path: buddy}))
    {'0': {'DMA32': [5, 1, 2], 'Normal': [9, 0, 3]}}
    >>> free_blocks(HostFacts("c0", {})) is None
    True
    """
    blocks = supply_json(facts.buddyinfo, None)["free_blocks"]
    return None if blocks is None else {node: dict(zones) for node, zones in blocks.items()}


def plan_cycle(
    host: HostUnderTest, facts: HostFacts, demand: VrouterDemand, operations: VrouterOperations, keep: int
) -> RemediationPlan:
    """The remediation plan for the host as it is now.

    >>> from vrouter_preflight.capture import Capture
    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import HostSpec, VrouterOverrides
    >>> from vrouter_preflight.remediation import resolve_operations
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> host = HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool())
    >>> demand = vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096)
    >>> ops = resolve_operations(VrouterOverrides(reload_command="/opt/reload", health_command="/opt/health"))
    >>> buddy = Capture("/proc/buddyinfo", "ok", "Node 0, zone   Normal   120 60 30 10 4 2 1 0 0 0 50\\n")
    >>> plan = plan_cycle(host, HostFacts("c0", {buddy.path: buddy}), demand, ops, 0)
    >>> plan.fits_now, [c.phase for c in plan.commands]
    (True, ['reload', 'health'])
    >>> plan_cycle(host, HostFacts("c0", {}), demand, ops, 0)
    Traceback (most recent call last):
    ...
    ValueError: /proc/buddyinfo could not be read before the cycle
    """
    if facts.buddyinfo is None:
        raise ValueError("/proc/buddyinfo could not be read before the cycle")
    supplies = zone_supplies(facts.buddyinfo, facts.zoneinfo, facts.pagetypeinfo_if_parsed)
    return plan_remediation(
        demand, supplies, facts.hugepages, host.spec, operations=operations, keep_free_1g_total=keep
    )


def run_cycles(
    host: HostUnderTest,
    demand: VrouterDemand,
    operations: VrouterOperations,
    journal_directory: str | Path,
    count: int,
    *,
    keep_free_1g_total: int = 0,
    step: StepHook | None = None,
) -> CyclesResult:
    """Run up to ``count`` cycles in a row on ``host``; stop at the first failure.

    A snapshot whose only 1G pool has no page to spare: no feasible plan, so nothing runs and the cycles stop.

    >>> import tempfile
    >>> from vrouter_preflight.demand import vrouter_demand, vrouter_settings
    >>> from vrouter_preflight.inventory import HostSpec, VrouterOverrides
    >>> from vrouter_preflight.remediation import resolve_operations
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> pool = "sys/devices/system/node/node0/hugepages/hugepages-1048576kB"
    >>> tree = {"proc/buddyinfo": "Node 0, zone   Normal   120 60 30 10 4 2 1 0 0 0 3\\n",
    ...         f"{pool}/nr_hugepages": "4\\n", f"{pool}/free_hugepages": "0\\n"}
    >>> demand = vrouter_demand(vrouter_settings(VrouterOverrides(), {}), 4096)
    >>> ops = resolve_operations(VrouterOverrides(reload_command="/opt/reload", health_command="/opt/health"))
    >>> with tempfile.TemporaryDirectory() as root:
    ...     for path, text in tree.items():
    ...         (Path(root) / path).parent.mkdir(parents=True, exist_ok=True)
    ...         _ = (Path(root) / path).write_text(text)
    ...     host = HostUnderTest(HostSpec(name="c7", transport="snapshot", path=root), {}, TransportPool())
    ...     result = run_cycles(host, demand, ops, Path(root) / "journal", 3)
    >>> result.ok, len(result.cycles), result.supply_after
    (False, 1, {'0': {'Normal': [120, 60, 30, 10, 4, 2, 1, 0, 0, 0, 3]}})
    >>> result.cycles[0].message.split(" (")[0]
    'no feasible plan, nothing changed: no node has a 1G page to spare'
    """
    facts = read_host(host)
    before = free_blocks(facts)
    records: list[CycleRecord] = []
    first_plan: RemediationPlan | None = None
    for number in range(1, count + 1):
        pools_before = pool_counts(facts.hugepages)
        try:
            plan = plan_cycle(host, facts, demand, operations, keep_free_1g_total)
        except ValueError as exc:
            records.append(_not_run(number, f"cannot plan: {exc}", pools_before))
            break
        first_plan = first_plan or plan
        if not plan.feasible:
            records.append(_not_run(number, f"no feasible plan, nothing changed: {plan.problem}", pools_before))
            break
        journal = open_journal(journal_directory, host.spec, plan)
        outcome = run_remediation(
            host.spec,
            host.transport,
            plan,
            journal,
            step=step,
        )
        facts = read_host(host)
        record = CycleRecord(
            number=number,
            ok=outcome.ok,
            message=outcome.message,
            released=dict(outcome.released),
            restored=dict(outcome.restored),
            shortfall=dict(outcome.shortfall),
            back=outcome.back,
            pools_before=pools_before,
            pools_after=pool_counts(facts.hugepages),
            journal=outcome.journal_path,
        )
        records.append(record)
        if not (record.ok and record.rollback_verified):
            break
    return CyclesResult(tuple(records), before, free_blocks(facts), first_plan)


def _not_run(number: int, why: str, pools: dict[str, int | None]) -> CycleRecord:
    return CycleRecord(number, False, why, {}, {}, {}, True, pools, pools, "")


def describe_cycles(records: Sequence[CycleRecord]) -> list[list[object]]:
    """Rows of the cycles table attached to the report: cycle, result, released, restored, verified.

    >>> from dataclasses import replace
    >>> ok = CycleRecord(1, True, "reload proved", {0: 1}, {0: 1}, {}, True, {"1048576/0": 2}, {"1048576/0": 2}, "")
    >>> bad = replace(ok, number=2, ok=False, restored={}, back=False, pools_after={"1048576/0": 1})
    >>> describe_cycles([ok, bad])
    [[1, 'ok', 'node 0: 1', 'node 0: 1', 'yes'], [2, 'FAILED', 'node 0: 1', '-', 'NO']]
    """
    return [
        [
            c.number,
            "ok" if c.ok else "FAILED",
            ", ".join(f"node {n}: {p}" for n, p in c.released.items()) or "-",
            ", ".join(f"node {n}: {p}" for n, p in c.restored.items()) or "-",
            "yes" if c.rollback_verified else "NO",
        ]
        for c in records
    ]
