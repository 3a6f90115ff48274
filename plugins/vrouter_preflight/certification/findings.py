"""The certification's findings, judged from facts and records. Pure: no I/O.

Each function turns what a host showed (its facts, a trial report, the records
of the destructive cycles) into one :class:`Finding`: passed or not, one
message, and the evidence a reviewer needs to agree with it. The checks in
``checks/test_certification.py`` call these and record the evidence; the
certificate (:mod:`vrouter_preflight.certification.certificate`) is built from those
records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vrouter_preflight.boot_hugepages import (
    compare_with_expectation,
    describe_pool,
    even_shares,
    expected_pools,
    reservation_shortfalls,
)
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.facts.cmdline import KernelCmdline
from vrouter_preflight.facts.hugepages import HugepagePools
from vrouter_preflight.facts.meminfo import NodeMemInfo
from vrouter_preflight.facts.sizes import GIB_KIB, format_kib
from vrouter_preflight.inventory import BootExpectation
from vrouter_preflight.trial.judge import judge_trial
from vrouter_preflight.trial.report import TrialReport, pool_changes, taken_by_node
from vrouter_preflight.wording import plural

MIB2_KIB = 2048
#: Page sizes vRouter can map its tables on.
VROUTER_PAGE_SIZES = (GIB_KIB, MIB2_KIB)


@dataclass(frozen=True)
class Finding:
    """One finding of a certification: the check that judged it, the verdict, the message and the evidence.

    >>> finding = Finding(CheckId.CERTIFY_CPU_1G_PAGES, True, "the CPU has pdpe1gb", {"pdpe1gb": True})
    >>> finding.id, finding.status
    ('cpu_1g_pages', 'passed')
    """

    check: CheckId
    ok: bool
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    node: int | None = None

    @property
    def id(self) -> str:
        """The finding's name in the certificate (its check's id without ``certify_``)."""
        return self.check.finding or self.check.id

    @property
    def status(self) -> str:
        """``passed`` or ``failed``, as the certificate writes it."""
        return "passed" if self.ok else "failed"


# --------------------------------------------------------------------------
# CPU
# --------------------------------------------------------------------------


def judge_1g_pages(flags: frozenset[str], *, kernel_has_1g_pool: bool, cpu_model: str | None = None) -> Finding:
    """The CPU supports 1G pages (``pdpe1gb``); the kernel's 1G pool is reported beside it.

    >>> judge_1g_pages(frozenset({"fpu", "pdpe1gb"}), kernel_has_1g_pool=True).message
    'the CPU supports 1G pages (pdpe1gb) and the kernel has a 1G hugepage pool'
    >>> judge_1g_pages(frozenset({"fpu"}), kernel_has_1g_pool=False).ok
    False
    """
    has = "pdpe1gb" in flags
    evidence = {"pdpe1gb": has, "kernel_1g_pool": kernel_has_1g_pool, "cpu_model": cpu_model, "flags": len(flags)}
    if not has:
        return Finding(
            CheckId.CERTIFY_CPU_1G_PAGES,
            False,
            "the CPU lacks pdpe1gb: no 1G hugepages on this hardware, so vRouter's tables cannot use 1G pages "
            f"({len(flags)} CPU flags read{'' if cpu_model is None else f', {cpu_model}'})",
            evidence,
        )
    pool = "has" if kernel_has_1g_pool else "has NO (hugepagesz=1G was not configured)"
    return Finding(
        CheckId.CERTIFY_CPU_1G_PAGES,
        True,
        f"the CPU supports 1G pages (pdpe1gb) and the kernel {pool} a 1G hugepage pool",
        evidence,
    )


# --------------------------------------------------------------------------
# NUMA layout
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeLayout:
    """One NUMA node: its memory (``MemTotal`` of the node's meminfo) and its CPUs."""

    node: int
    memory_kib: int | None
    cpus: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        """The node as the certificate records it."""
        return {"node": self.node, "memory_kib": self.memory_kib, "cpus": len(self.cpus), "cpulist": _ranges(self.cpus)}


def _ranges(ids: Sequence[int]) -> str:
    """A cpulist as the kernel writes it.

    >>> _ranges([0, 1, 2, 3, 8, 10, 11])
    '0-3,8,10-11'
    """
    parts: list[str] = []
    ordered = sorted(ids)
    start = prev = None
    for value in [*ordered, None]:
        if value is not None and prev is not None and value == prev + 1:
            prev = value
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = value
    return ",".join(parts)


def numa_layout(
    nodes: Sequence[int], node_meminfo: Mapping[int, NodeMemInfo], node_cpus: Mapping[int, Sequence[int]]
) -> tuple[NodeLayout, ...]:
    """The layout of every online node (memory ``None`` when the node's meminfo lacks ``MemTotal``).

    >>> from vrouter_preflight.facts.meminfo import parse_node_meminfo
    >>> mem = {0: parse_node_meminfo("Node 0 MemTotal: 1024 kB\\n", "n0")}
    >>> numa_layout([0], mem, {0: (0, 1)})[0].as_json()
    {'node': 0, 'memory_kib': 1024, 'cpus': 2, 'cpulist': '0-1'}
    """
    return tuple(
        NodeLayout(
            node,
            node_meminfo[node].kib("MemTotal") if node in node_meminfo else None,
            tuple(node_cpus.get(node, ())),
        )
        for node in nodes
    )


def _spread(values: Sequence[int]) -> tuple[float, float]:
    """The mean and the largest distance from it, in percent of the mean."""
    mean = sum(values) / len(values)
    if mean == 0:
        return 0.0, 0.0
    return mean, max(abs(v - mean) for v in values) / mean * 100


def judge_numa_balance(layout: Sequence[NodeLayout], tolerance_pct: float) -> Finding:
    """Memory and CPUs per node each within ``tolerance_pct`` of the mean over the nodes.

    A single node is balanced by definition; a node without memory or without
    CPUs is outside any tolerance below 100 %.

    >>> a, b = NodeLayout(0, 100 * 2**20, (0, 1)), NodeLayout(1, 80 * 2**20, (2, 3))
    >>> judge_numa_balance([a, b], 10).message
    'NUMA nodes unbalanced beyond 10%: memory per node 100G, 80G is up to 11.1% from the mean 90G'
    >>> judge_numa_balance([a, b], 15).ok
    True
    """
    evidence: dict[str, Any] = {
        "nodes": [n.as_json() for n in layout],
        "tolerance_pct": tolerance_pct,
    }
    missing = [n.node for n in layout if n.memory_kib is None]
    if not layout or missing:
        why = "no NUMA node listed" if not layout else f"no MemTotal in the meminfo of node(s) {missing}"
        return Finding(CheckId.CERTIFY_NUMA_LAYOUT, False, f"NUMA layout unknown: {why}", evidence)
    memory = [n.memory_kib or 0 for n in layout]
    cpus = [len(n.cpus) for n in layout]
    mem_mean, mem_off = _spread(memory)
    cpu_mean, cpu_off = _spread(cpus)
    evidence.update(
        memory_mean_kib=round(mem_mean),
        memory_max_deviation_pct=round(mem_off, 2),
        cpus_mean=round(cpu_mean, 2),
        cpus_max_deviation_pct=round(cpu_off, 2),
    )
    described = "; ".join(f"node {n.node}: {_gib(n.memory_kib or 0)}, {plural(len(n.cpus), 'CPU')}" for n in layout)
    if len(layout) == 1:
        return Finding(
            CheckId.CERTIFY_NUMA_LAYOUT, True, f"1 NUMA node ({described}): balanced by definition", evidence
        )
    problems = []
    if mem_off > tolerance_pct:
        listed = ", ".join(_gib(m) for m in memory)
        problems.append(f"memory per node {listed} is up to {mem_off:.1f}% from the mean {_gib(round(mem_mean))}")
    if cpu_off > tolerance_pct:
        listed = ", ".join(str(c) for c in cpus)
        problems.append(f"CPUs per node {listed} are up to {cpu_off:.1f}% from the mean {cpu_mean:g}")
    if problems:
        return Finding(
            CheckId.CERTIFY_NUMA_LAYOUT,
            False,
            f"NUMA nodes unbalanced beyond {tolerance_pct:g}%: " + "; ".join(problems),
            evidence,
        )
    return Finding(
        CheckId.CERTIFY_NUMA_LAYOUT,
        True,
        f"{len(layout)} NUMA nodes balanced within {tolerance_pct:g}% (memory {mem_off:.1f}%, CPUs {cpu_off:.1f}% "
        f"from the mean): {described}",
        evidence,
    )


def _gib(kib: int) -> str:
    """Memory in GiB, one decimal when not whole.

    >>> _gib(100 * 2**20), _gib(3 * 2**19)
    ('100G', '1.5G')
    """
    value = kib / 2**20
    return f"{value:.0f}G" if value == int(value) else f"{value:.1f}G"


# --------------------------------------------------------------------------
# Boot-time hugepage reservations
# --------------------------------------------------------------------------


def judge_boot_reservations(
    expectation: BootExpectation | None,
    cmdline: KernelCmdline,
    hugepages: HugepagePools,
    nodes: Sequence[int],
    cpu_flags: frozenset[str] | None,
    default_kib: int | None,
) -> Finding:
    """Every hugepage reservation of the command line (or ``expect:``) is held, node by node.

    A total (``hugepages=340``) is judged against the even share the kernel
    gives each node at boot; a per-node form (``hugepages=0:170,1:170``)
    against its own counts. No reservation at all fails: kernel-mode vRouter
    with hugepages needs its pages reserved at boot, where 1G pages are still
    contiguous.

    >>> from vrouter_preflight.facts.cmdline import parse_cmdline
    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> pools = HugepagePools((HugepagePool(GIB_KIB, None, 340, 28, 0), HugepagePool(GIB_KIB, 0, 170, 14, 0),
    ...                        HugepagePool(GIB_KIB, 1, 170, 14, 0)))
    >>> cmd = parse_cmdline("default_hugepagesz=1G hugepagesz=1G hugepages=340")
    >>> judge_boot_reservations(None, cmd, pools, [0, 1], None, GIB_KIB).message
    'every boot hugepage reservation is held: 340 × 1G (node 0: 170 of 170, node 1: 170 of 170)'
    """
    pools = expected_pools(expectation, cmdline, cmdline.default_hugepagesz_kib() or default_kib)
    evidence: dict[str, Any] = {
        "cmdline_hugepage_args": [
            name if value is None else f"{name}={value}"
            for name, value in cmdline.params
            if name in ("default_hugepagesz", "hugepagesz", "hugepages")
        ]
    }
    rows: list[dict[str, Any]] = []
    for pool in pools:
        asked = dict(pool.per_node) if pool.per_node is not None else even_shares(pool.total or 0, nodes)
        for node in sorted(set(asked) | set(nodes)):
            held = hugepages.node_pool(node, pool.size_kib)
            rows.append(
                {
                    "size": format_kib(pool.size_kib),
                    "node": node,
                    "asked": asked.get(node, 0),
                    "held": None if held is None else held.nr,
                    "form": "per node" if pool.per_node is not None else "total, even share",
                }
            )
    evidence["reservations"] = rows
    evidence["requested"] = [describe_pool(pool) for pool in pools]
    if not pools:
        return Finding(
            CheckId.CERTIFY_BOOT_HUGEPAGES,
            False,
            "the boot command line reserves no hugepages (no hugepagesz=/hugepages=, no expect: in the inventory): "
            "reserve vRouter's pages at boot (e.g. default_hugepagesz=1G hugepagesz=1G hugepages=N), runtime 1G "
            "allocation fails once memory is fragmented",
            evidence,
        )
    problems = compare_with_expectation(expectation, cmdline, default_kib)
    problems += reservation_shortfalls(pools, hugepages, nodes, cpu_flags)
    if not problems:
        uneven = [r for r in rows if r["held"] is not None and r["held"] < r["asked"]]
        problems += [
            f"{r['size']}: node {r['node']} holds {r['held']} of its {r['form']} {r['asked']} "
            f"(the pages went to other nodes)"
            for r in uneven
        ]
    if problems:
        return Finding(
            CheckId.CERTIFY_BOOT_HUGEPAGES,
            False,
            "boot hugepage reservations not met: " + "; ".join(problems),
            evidence,
        )
    summary = "; ".join(
        f"{describe_pool(pool)} ("
        + ", ".join(
            f"node {r['node']}: {r['held']} of {r['asked']}" for r in rows if r["size"] == format_kib(pool.size_kib)
        )
        + ")"
        for pool in pools
    )
    return Finding(
        CheckId.CERTIFY_BOOT_HUGEPAGES, True, f"every boot hugepage reservation is held: {summary}", evidence
    )


# --------------------------------------------------------------------------
# Trial allocation per node
# --------------------------------------------------------------------------


def certification_sizes(
    trial_sizes: Sequence[int], vrouter_size: int | None, boot_sizes: Sequence[int]
) -> tuple[int, ...]:
    """The page sizes to try on every node: ``trial.sizes``, else vRouter's size and every size reserved at boot.

    Only sizes vRouter can map its tables on (1G, 2M) count; largest first.

    >>> certification_sizes((), 2048, [GIB_KIB, 64])
    (1048576, 2048)
    >>> certification_sizes((2048,), GIB_KIB, [GIB_KIB])
    (2048,)
    """
    if trial_sizes:
        return tuple(trial_sizes)
    wanted = {s for s in (vrouter_size, *boot_sizes) if s in VROUTER_PAGE_SIZES}
    return tuple(sorted(wanted, reverse=True))


def judge_trial_node(report: TrialReport, node: int) -> Finding:
    """The trial bound to ``node`` passed for every size tried, and the pools read back as before.

    The agent's hugetlbfs mount is the gate's business (``trial_allocation``),
    not the hardware's, so it is not part of this finding.

    >>> from vrouter_preflight.trial.judge import _example_trial     # 87 × 2M of node 0's 100 taken, all given back
    >>> finding = judge_trial_node(TrialReport("3.11.7", "x86_64", 0, "m", None, (_example_trial(),)), 0)
    >>> finding.ok, finding.node, finding.evidence["sizes"][0]["taken_by_node"]
    (True, 0, {'0': 87})
    """
    judgement = judge_trial(report, (), ())
    sizes = []
    for trial in report.trials:
        changes = pool_changes(trial.before, trial.after)
        sizes.append(
            {
                "size": trial.size_name,
                "status": trial.status,
                "need": trial.need,
                "available": trial.supply.available,
                "node_free": trial.supply.node_free,
                "taken_by_node": {str(n): k for n, k in taken_by_node(trial).items()},
                "pools_changed": [c.describe() for c in changes],
                "reason": trial.reason,
            }
        )
    evidence = {"node": node, "python": report.python, "machine": report.machine, "sizes": sizes}
    return Finding(CheckId.CERTIFY_TRIAL, judgement.ok, judgement.message, evidence, node=node)


# --------------------------------------------------------------------------
# Destructive cycles
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleRecord:
    """One destructive cycle: the engine's outcome and the 1G pools read before and after it.

    ``pools_before``/``pools_after`` map ``"<size kB>/<node>"`` to ``nr_hugepages``
    read from fresh captures: the rollback is verified when they are equal and
    the engine says the pools are back.
    """

    number: int
    ok: bool
    message: str
    released: Mapping[int, int]
    restored: Mapping[int, int]
    shortfall: Mapping[int, int]
    back: bool
    pools_before: Mapping[str, int | None]
    pools_after: Mapping[str, int | None]
    journal: str

    @property
    def rollback_verified(self) -> bool:
        """The engine says the pools are back AND a fresh reading agrees, counter for counter."""
        return self.back and dict(self.pools_before) == dict(self.pools_after)

    def as_json(self) -> dict[str, Any]:
        """The cycle as the certificate records it."""
        return {
            "cycle": self.number,
            "ok": self.ok,
            "rollback_verified": self.rollback_verified,
            "released": {str(n): p for n, p in self.released.items()},
            "restored": {str(n): p for n, p in self.restored.items()},
            "shortfall": {str(n): p for n, p in self.shortfall.items()},
            "pools_before": dict(self.pools_before),
            "pools_after": dict(self.pools_after),
            "journal": self.journal,
            "message": self.message,
        }


def pool_counts(pools: HugepagePools) -> dict[str, int | None]:
    """``nr_hugepages`` of every per-node pool, keyed ``"<size kB>/<node>"`` (global pools as ``/all``).

    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> pool_counts(HugepagePools((HugepagePool(GIB_KIB, None, 2, 2, 0), HugepagePool(GIB_KIB, 0, 2, 2, 0))))
    {'1048576/all': 2, '1048576/0': 2}
    """
    return {f"{p.size_kib}/{'all' if p.node is None else p.node}": p.nr for p in pools.pools}


def free_blocks_total(free_blocks: Mapping[str, Mapping[str, Sequence[int]]], min_order: int) -> dict[str, int]:
    """Free blocks of at least ``min_order`` per node, over its zones.

    >>> free_blocks_total({"0": {"DMA32": [5, 1, 2], "Normal": [9, 0, 3]}}, 2)
    {'0': 5}
    """
    return {
        node: sum(count for counts in zones.values() for count in counts[min_order:])
        for node, zones in free_blocks.items()
    }


def judge_cycles(
    cycles: Sequence[CycleRecord],
    wanted: int,
    supply_before: Mapping[str, Mapping[str, Sequence[int]]] | None,
    supply_after: Mapping[str, Mapping[str, Sequence[int]]] | None,
    *,
    order: int = 10,
) -> Finding:
    """``wanted`` cycles in a row, each proved and rolled back (verified); the buddy supply before and after.

    The cycles stop at the first failure, so fewer cycles than wanted is a failure too.

    >>> c = CycleRecord(1, True, "reload proved", {0: 1}, {0: 1}, {}, True, {"1048576/0": 2}, {"1048576/0": 2}, "")
    >>> before, after = {"0": {"Normal": [0] * 10 + [40]}}, {"0": {"Normal": [0] * 10 + [38]}}
    >>> for part in judge_cycles([c, c], 2, before, after).message.split("; "): print(part)
    2 destructive cycles in a row passed, each rolled back and verified (1G pages released per cycle: 1, 1)
    free order-≥10 blocks before the first / after the last cycle: node 0: 40 → 38
    >>> judge_cycles([c], 3, None, None).message
    'only 1 of 3 cycles ran'
    """
    evidence: dict[str, Any] = {
        "wanted": wanted,
        "completed": sum(1 for c in cycles if c.ok and c.rollback_verified),
        "cycles": [c.as_json() for c in cycles],
        "buddy_supply_before": None if supply_before is None else {n: dict(z) for n, z in supply_before.items()},
        "buddy_supply_after": None if supply_after is None else {n: dict(z) for n, z in supply_after.items()},
        "order": order,
    }
    before = None if supply_before is None else free_blocks_total(supply_before, order)
    after = None if supply_after is None else free_blocks_total(supply_after, order)
    evidence["order_blocks_before"] = before
    evidence["order_blocks_after"] = after
    supply = ""
    if before is not None and after is not None:
        per_node = ", ".join(f"node {n}: {before[n]} → {after.get(n, 0)}" for n in sorted(before))
        supply = f"; free order-≥{order} blocks before the first / after the last cycle: {per_node}"
    for cycle in cycles:
        if not cycle.ok:
            return Finding(
                CheckId.CERTIFY_DESTRUCTIVE_CYCLES,
                False,
                f"cycle {cycle.number} of {wanted} failed: {cycle.message}{supply}",
                evidence,
            )
        if not cycle.rollback_verified:
            differs = sorted(
                key
                for key in set(cycle.pools_before) | set(cycle.pools_after)
                if cycle.pools_before.get(key) != cycle.pools_after.get(key)
            )
            return Finding(
                CheckId.CERTIFY_DESTRUCTIVE_CYCLES,
                False,
                f"cycle {cycle.number} of {wanted}: the rollback is not verified (pools back: {cycle.back}; "
                f"nr_hugepages differ for {', '.join(differs) or 'no pool'}){supply}",
                evidence,
            )
    if len(cycles) < wanted:
        return Finding(
            CheckId.CERTIFY_DESTRUCTIVE_CYCLES, False, f"only {len(cycles)} of {wanted} cycles ran{supply}", evidence
        )
    per_cycle = ", ".join(str(sum(c.released.values())) for c in cycles)
    return Finding(
        CheckId.CERTIFY_DESTRUCTIVE_CYCLES,
        True,
        f"{wanted} destructive cycles in a row passed, each rolled back and verified "
        f"(1G pages released per cycle: {per_cycle}){supply}",
        evidence,
    )


# --------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------


def identity(
    *,
    dmi: Mapping[str, str | None],
    dmi_unavailable: Mapping[str, str] | None = None,
    kernel_release: str | None,
    os_name: str | None,
    cpu_model: str | None,
    vrouter_version: str | None,
    suite_version: str,
    time: str,
) -> dict[str, Any]:
    """What was certified, as the certificate records it (``None`` where unreadable).

    ``dmi_unavailable`` says why a DMI field is ``None`` (``absent``: no DMI
    on this machine; ``unreadable``: root-only on this kernel).

    >>> identity(dmi={"sys_vendor": "Dell Inc."}, kernel_release="6.1.0", os_name=None, cpu_model=None,
    ...          vrouter_version=None, suite_version="0.1.0", time="2026-01-01T00:00:00Z")["dmi"]
    {'sys_vendor': 'Dell Inc.'}
    """
    return {
        "dmi": dict(dmi),
        "dmi_unavailable": dict(dmi_unavailable or {}),
        "kernel_release": kernel_release,
        "os": os_name,
        "cpu_model": cpu_model,
        "vrouter_module": vrouter_version,
        "suite_version": suite_version,
        "time": time,
    }


def judge_identity(ident: Mapping[str, Any]) -> Finding:
    """Identity is recorded; it passes when the kernel release is known (DMI only where readable).

    >>> judge_identity({"dmi": {"sys_vendor": None}, "kernel_release": "6.1.0", "vrouter_module": None,
    ...                 "suite_version": "0.1.0"}).message
    'identity recorded: kernel 6.1.0, vrouter module not loaded, suite 0.1.0; DMI not readable: sys_vendor'
    """
    dmi = ident.get("dmi") or {}
    why = ident.get("dmi_unavailable") or {}
    unreadable = [f"{name} ({why[name]})" if name in why else name for name, value in dmi.items() if value is None]
    readable = [f"{name} {value}" for name, value in dmi.items() if value is not None]
    parts = [f"kernel {ident.get('kernel_release') or 'unknown'}"]
    parts.append(f"vrouter module {ident.get('vrouter_module') or 'not loaded'}")
    parts.append(f"suite {ident.get('suite_version')}")
    text = ", ".join(readable + parts)
    if unreadable:
        text += f"; DMI not readable: {', '.join(unreadable)}"
    if not ident.get("kernel_release"):
        return Finding(
            CheckId.CERTIFY_IDENTITY, False, f"identity incomplete: the kernel release is unknown ({text})", dict(ident)
        )
    return Finding(CheckId.CERTIFY_IDENTITY, True, f"identity recorded: {text}", dict(ident))
