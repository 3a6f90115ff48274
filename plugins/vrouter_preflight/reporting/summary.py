"""The JSON summary of a run: one verdict, the checks, demand and supply per host.

Pipelines read this file (``--summary-json``, default ``reports/summary.json``),
so its shape is a contract; fields may be added, never renamed or removed::

    {"schema_version": 1, "suite_version": "...", "inventory": "...",
     "generated_at": "2026-11-26T14:18:00Z", "exit_status": 1, "verdict": "fail",
     "hosts": {"<name>": {
        "verdict": "pass|fail|error",
        "error": null,
        "counts": {"passed": 3, "failed": 1, "error": 0, "skipped": 0},
        "checks": [{"id": "contiguous_blocks", "node": null,
                    "outcome": "passed|failed|error|skipped", "message": "..."}],
        "demand": {"buddy_blocks": {"10": 44, "9": 2}, "hugepages": {"1G": 2}},
        "supply": {"free_blocks": {"<node>": {"<zone>": [n0, n1, ...]}},
                   "hugepages": {"<size kB>": {"<node>": {"total": 0, "free": 0, "surplus": 0}}},
                   "hugepages_global": {"<size kB>": {"total": 0, "free": 0, ...}}}}}}

Everything here but :func:`write_summary` is a pure function of its arguments.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vrouter_preflight.facts.buddyinfo import BuddyInfo
from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
from vrouter_preflight.facts.sizes import format_kib

SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "error", "skipped")
VERDICTS = ("pass", "fail", "error")


@dataclass(frozen=True)
class CheckRecord:
    """The outcome of one check on one host (and one NUMA node, when per node).

    ``outcome`` is pytest's view: ``passed``, ``failed`` (the check's assertion),
    ``error`` (the check could not run: setup error, unreachable host, a
    non-assertion exception) or ``skipped`` (not applicable).

    >>> r = CheckRecord("c0", "contiguous_blocks", 1, "failed", "node 1: 3 free order-10 blocks < 44")
    >>> r.host, r.node, r.outcome
    ('c0', 1, 'failed')
    >>> CheckRecord("c0", "reachable", None, "broken", "")
    Traceback (most recent call last):
    ...
    ValueError: outcome of reachable on c0: 'broken' is not one of ('passed', 'failed', 'error', 'skipped')
    """

    host: str
    check_id: str
    node: int | None
    outcome: str
    message: str
    details: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome of {self.check_id} on {self.host}: {self.outcome!r} is not one of {OUTCOMES}")

    def to_json(self) -> dict[str, Any]:
        """The record as it appears in a host's ``checks`` list; ``details`` (the
        remediation's ``released``/``restored``/``shortfall`` per node) are merged in.

        >>> CheckRecord("c0", "reachable", None, "passed", "").to_json()
        {'id': 'reachable', 'node': None, 'outcome': 'passed', 'message': ''}
        """
        record = {"id": self.check_id, "node": self.node, "outcome": self.outcome, "message": self.message}
        if self.details is not None:
            record.update(self.details)
        return record


def host_verdict(records: Sequence[CheckRecord], unreachable: bool) -> str:
    """``error`` beats ``fail`` beats ``pass``; never a silent pass.

    An unreachable host is ``error``. So is a host with no records, or with
    only skipped ones: nothing was judged. Skipped checks next to passed ones
    do not fail a host.

    >>> ok = CheckRecord("c0", "reachable", None, "passed", "")
    >>> bad = CheckRecord("c0", "hugepages", 0, "failed", "0 free 1G hugepages on node 0")
    >>> na = CheckRecord("c0", "vrouter_params", None, "skipped", "vrouter not loaded")
    >>> host_verdict([ok, na], False), host_verdict([ok, bad], False), host_verdict([ok], True)
    ('pass', 'fail', 'error')
    >>> host_verdict([], False), host_verdict([na], False)
    ('error', 'error')
    """
    if unreachable:
        return "error"
    outcomes = {record.outcome for record in records}
    if "error" in outcomes:
        return "error"
    if "failed" in outcomes:
        return "fail"
    if "passed" in outcomes:
        return "pass"
    return "error"


def overall_verdict(verdicts: Sequence[str]) -> str:
    """The worst host verdict; ``error`` when there are no hosts.

    >>> overall_verdict(["pass", "fail"]), overall_verdict(["pass"]), overall_verdict([])
    ('fail', 'pass', 'error')
    """
    for verdict in ("error", "fail"):
        if verdict in verdicts:
            return verdict
    return "pass" if verdicts else "error"


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC to the second, with a ``Z`` (now when ``moment`` is None).

    >>> utc_timestamp(datetime(2026, 11, 26, 14, 18, 5, 123, tzinfo=timezone.utc))
    '2026-11-26T14:18:05Z'
    """
    moment = datetime.now(timezone.utc) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: give it a timezone")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_meta(
    *, suite_version: str, inventory: str, exit_status: int, generated_at: datetime | None = None
) -> dict[str, Any]:
    """The top-level metadata of a summary.

    >>> run_meta(suite_version="0.1.0", inventory="inv.yaml", exit_status=0,
    ...          generated_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    {'suite_version': '0.1.0', 'inventory': 'inv.yaml', 'generated_at': '2026-01-02T00:00:00Z', 'exit_status': 0}
    """
    return {
        "suite_version": suite_version,
        "inventory": inventory,
        "generated_at": utc_timestamp(generated_at),
        "exit_status": int(exit_status),
    }


def _counts(records: Sequence[CheckRecord]) -> dict[str, int]:
    return {outcome: sum(1 for record in records if record.outcome == outcome) for outcome in OUTCOMES}


def build_summary(
    *,
    host_names: Sequence[str],
    records: Sequence[CheckRecord],
    host_errors: Mapping[str, str],
    demand: Mapping[str, Mapping[str, Any] | None],
    supply: Mapping[str, Mapping[str, Any] | None],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole summary: ``meta`` at the top, then one entry per host in inventory order.

    ``host_errors`` maps an unreachable host to its cause; ``demand`` and
    ``supply`` are :func:`demand_json` / :func:`supply_json` results (a host
    missing from them, or mapped to None, gets ``null``). Records keep their
    order within a host. A record of a host that is not in ``host_names`` is a
    bug in the caller and raises ``ValueError``.

    >>> s = build_summary(host_names=["c1", "c0"],
    ...     records=[CheckRecord("c0", "reachable", None, "passed", ""),
    ...              CheckRecord("c1", "reachable", None, "error", "c1: connection refused")],
    ...     host_errors={"c1": "connection refused"}, demand={}, supply={}, meta={"exit_status": 1})
    >>> list(s["hosts"]), s["hosts"]["c1"]["verdict"], s["hosts"]["c1"]["error"], s["verdict"]
    (['c1', 'c0'], 'error', 'connection refused', 'error')
    >>> s["hosts"]["c0"]["checks"], s["hosts"]["c0"]["demand"]
    ([{'id': 'reachable', 'node': None, 'outcome': 'passed', 'message': ''}], None)
    """
    if len(set(host_names)) != len(host_names):
        raise ValueError(f"duplicate host names: {list(host_names)}")
    reserved = {"hosts", "schema_version", "verdict"} & set(meta)
    if reserved:
        raise ValueError(f"meta may not set {sorted(reserved)}: the summary computes them")
    by_host: dict[str, list[CheckRecord]] = {name: [] for name in host_names}
    for record in records:
        if record.host not in by_host:
            raise ValueError(f"record of {record.check_id} for host {record.host!r}, which is not in this run")
        by_host[record.host].append(record)
    hosts: dict[str, Any] = {}
    for name in host_names:
        host_records = by_host[name]
        error = host_errors.get(name)
        demand_of = demand.get(name)
        supply_of = supply.get(name)
        hosts[name] = {
            "verdict": host_verdict(host_records, unreachable=error is not None),
            "error": error,
            "counts": _counts(host_records),
            "checks": [record.to_json() for record in host_records],
            "demand": None if demand_of is None else dict(demand_of),
            "supply": None if supply_of is None else dict(supply_of),
        }
    return {
        "schema_version": SCHEMA_VERSION,
        **meta,
        "verdict": overall_verdict([host["verdict"] for host in hosts.values()]),
        "hosts": hosts,
    }


def demand_json(blocks_by_order: Mapping[int, int], hugepages_needed: Mapping[int, int]) -> dict[str, Any]:
    """What vRouter needs: free blocks per buddy order, hugepages per page size (KiB).

    Orders become string keys, highest first; page sizes are written as the
    kernel's ``hugepagesz=`` would (``1G``, ``2M``), largest first.

    >>> demand_json({8: 1, 10: 44, 9: 2}, {1048576: 2, 2048: 0})
    {'buddy_blocks': {'10': 44, '9': 2, '8': 1}, 'hugepages': {'1G': 2, '2M': 0}}
    """
    for order, count in blocks_by_order.items():
        if order < 0 or count < 0:
            raise ValueError(f"buddy demand order {order}: {count} blocks; neither may be negative")
    for size_kib, pages in hugepages_needed.items():
        if size_kib <= 0 or pages < 0:
            raise ValueError(f"hugepage demand {size_kib} KiB: {pages} pages; want a positive size, pages >= 0")
    return {
        "buddy_blocks": {str(order): blocks_by_order[order] for order in sorted(blocks_by_order, reverse=True)},
        "hugepages": {format_kib(size): hugepages_needed[size] for size in sorted(hugepages_needed, reverse=True)},
    }


def _pool_json(pool: HugepagePool, *, full: bool) -> dict[str, int | None]:
    counts: dict[str, int | None] = {"total": pool.nr, "free": pool.free, "surplus": pool.surplus}
    if full:
        counts.update(resv=pool.resv, overcommit=pool.overcommit)
    return counts


def supply_json(buddyinfo: BuddyInfo | None, hugepage_pools: HugepagePools | None) -> dict[str, Any]:
    """What the host has: free blocks per node and zone, hugepage pools per size and node.

    Node keys are strings; hugepage size keys are the KiB number as sysfs names
    it (``"1048576"``). A fact that could not be read is ``null``, and so is a
    pool count whose file was not captured: absent is never zero.
    ``hugepages`` holds the per-node pools (a size with only a global pool maps
    to ``{}``); ``hugepages_global`` the global ones.

    >>> from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
    >>> buddy = parse_buddyinfo("Node 0, zone Normal 5 4 3\\nNode 1, zone Normal 0 0 1\\n")
    >>> pools = HugepagePools((HugepagePool(2048, None, 8, 8, 0, 0, 8, 0), HugepagePool(2048, 0, 8, 8, 0)))
    >>> s = supply_json(buddy, pools)
    >>> s["free_blocks"], s["hugepages"]
    ({'0': {'Normal': [5, 4, 3]}, '1': {'Normal': [0, 0, 1]}}, {'2048': {'0': {'total': 8, 'free': 8, 'surplus': 0}}})
    >>> s["hugepages_global"]
    {'2048': {'total': 8, 'free': 8, 'surplus': 0, 'resv': 0, 'overcommit': 0}}
    >>> supply_json(None, None)
    {'free_blocks': None, 'hugepages': None, 'hugepages_global': None}
    """
    free_blocks: dict[str, dict[str, list[int]]] | None = None
    if buddyinfo is not None:
        free_blocks = {}
        for zone in buddyinfo.zones:
            free_blocks.setdefault(str(zone.node), {})[zone.zone] = list(zone.free_blocks)
    per_node: dict[str, dict[str, dict[str, int | None]]] | None = None
    global_pools: dict[str, dict[str, int | None]] | None = None
    if hugepage_pools is not None:
        per_node = {}
        global_pools = {}
        for size in hugepage_pools.sizes_kib:
            per_node[str(size)] = {
                str(pool.node): _pool_json(pool, full=False) for pool in hugepage_pools.node_pools(size)
            }
            global_pool = hugepage_pools.global_pool(size)
            if global_pool is not None:
                global_pools[str(size)] = _pool_json(global_pool, full=True)
    return {"free_blocks": free_blocks, "hugepages": per_node, "hugepages_global": global_pools}


def write_summary(path: str | os.PathLike[str], summary: Mapping[str, Any]) -> Path:
    """Write ``summary`` as JSON atomically: a temporary file in the same directory, then a rename.

    Parent directories are created. A reader never sees a half-written file,
    and a value JSON cannot represent (NaN, a set) raises before anything is
    replaced. Returns the path written.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_summary(Path(d, "reports", "summary.json"), {"verdict": "pass", "hosts": {}})
    ...     try:
    ...         write_summary(path, {"verdict": float("nan")})
    ...     except ValueError:
    ...         print("NaN refused")
    ...     print(path.read_text(encoding="utf-8"), end="")
    ...     os.listdir(path.parent)  # no temporary file left behind
    NaN refused
    {
      "verdict": "pass",
      "hosts": {}
    }
    ['summary.json']
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
