"""What the trial helper reports, as typed records, and how pools compare. Pure: no I/O.

The helper prints one JSON document (see ``remote_trial.py``); :func:`parse_report`
checks every field and raises :class:`TrialProtocolError` naming the first
one that is missing or of the wrong type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from vrouter_preflight.facts.lines import is_plain_number
from vrouter_preflight.facts.sizes import format_kib

Status = Literal["ok", "short", "failed", "error", "timeout", "interrupted"]
STATUSES: tuple[Status, ...] = ("ok", "short", "failed", "error", "timeout", "interrupted")
COUNTER_FILES = {
    "nr": "nr_hugepages",
    "free": "free_hugepages",
    "resv": "resv_hugepages",
    "surplus": "surplus_hugepages",
}


class TrialProtocolError(ValueError):
    """The helper's output is not the document it should print.

    >>> str(TrialProtocolError("trials[0].status", "expected one of ok, short, got 'maybe'"))
    "trial report: trials[0].status: expected one of ok, short, got 'maybe'"
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"trial report: {where}: {problem}")


@dataclass(frozen=True)
class PoolCounters:
    """One pool's counters; ``None`` where sysfs has no such file (per-node pools have no ``resv``).

    >>> PoolCounters(nr=100, free=13, resv=0, surplus=0).free
    13
    """

    nr: int | None
    free: int | None
    resv: int | None = None
    surplus: int | None = None


@dataclass(frozen=True)
class SizePools:
    """The pools of one page size: the global one and one per NUMA node."""

    size_kib: int
    whole: PoolCounters
    nodes: Mapping[int, PoolCounters]


PoolState = Mapping[int, SizePools]


@dataclass(frozen=True)
class Supply:
    """What the helper found before trying: free and reserved pages (global), free on the bound node."""

    free: int
    resv: int
    available: int
    node_free: int | None = None


@dataclass(frozen=True)
class SizeTrial:
    """The trial of one page size.

    ``status``: ``ok`` (mapped, touched, released), ``short`` (refused without
    allocating: too few pages), ``failed`` (tried and the kernel did not give
    the pages), ``error`` (could not try, e.g. node binding unsupported),
    ``timeout`` / ``interrupted`` (stopped while holding them).
    """

    size_kib: int
    need_flow: int
    need_bridge: int
    status: Status
    reason: str
    supply: Supply
    before: PoolState
    during: PoolState | None
    after: PoolState
    settle_seconds: float

    @property
    def need(self) -> int:
        """Pages the two tables take together.

        >>> t = SizeTrial(2048, 77, 10, "ok", "", Supply(100, 0, 100), {}, None, {}, 0.0)
        >>> t.need, t.size_name
        (87, '2M')
        """
        return self.need_flow + self.need_bridge

    @property
    def size_name(self) -> str:
        """``2M`` or ``1G``."""
        return format_kib(self.size_kib)


@dataclass(frozen=True)
class TrialReport:
    """The helper's one document: the interpreter it ran under and one trial per page size."""

    python: str
    machine: str
    node: int | None
    marker: str
    error: str | None
    trials: tuple[SizeTrial, ...]


@dataclass(frozen=True)
class PoolChange:
    """One counter that reads differently after the trial than before.

    >>> PoolChange(2048, 0, "free", 100, 99).describe()
    '2M node 0 free_hugepages: 100 before, 99 after'
    """

    size_kib: int
    node: int | None
    counter: str
    before: int | None
    after: int | None

    def describe(self) -> str:
        """One line naming the pool, the counter and both values."""
        where = "global" if self.node is None else f"node {self.node}"
        shown = ("absent" if v is None else str(v) for v in (self.before, self.after))
        old, new = shown
        return f"{format_kib(self.size_kib)} {where} {COUNTER_FILES[self.counter]}: {old} before, {new} after"


def _counter_changes(
    size: int, node: int | None, before: PoolCounters | None, after: PoolCounters | None
) -> list[PoolChange]:
    changes = []
    for name in COUNTER_FILES:
        old = None if before is None else getattr(before, name)
        new = None if after is None else getattr(after, name)
        if old != new:
            changes.append(PoolChange(size, node, name, old, new))
    return changes


def pool_changes(before: PoolState, after: PoolState) -> tuple[PoolChange, ...]:
    """Every counter of every pool that differs between two readings (a pool that vanished counts).

    >>> a = {2048: SizePools(2048, PoolCounters(100, 100, 0, 0), {0: PoolCounters(100, 100, None, 0)})}
    >>> b = {2048: SizePools(2048, PoolCounters(100, 99, 0, 0), {0: PoolCounters(100, 99, None, 0)})}
    >>> [c.describe() for c in pool_changes(a, b)]
    ['2M global free_hugepages: 100 before, 99 after', '2M node 0 free_hugepages: 100 before, 99 after']
    >>> pool_changes(a, a)
    ()
    """
    changes: list[PoolChange] = []
    for size in sorted(set(before) | set(after)):
        old, new = before.get(size), after.get(size)
        changes += _counter_changes(size, None, None if old is None else old.whole, None if new is None else new.whole)
        old_nodes = {} if old is None else old.nodes
        new_nodes = {} if new is None else new.nodes
        for node in sorted(set(old_nodes) | set(new_nodes)):
            changes += _counter_changes(size, node, old_nodes.get(node), new_nodes.get(node))
    return tuple(changes)


def taken_by_node(trial: SizeTrial) -> dict[int, int]:
    """Pages of the trial's size each node gave while the worker held them (free before − free during).

    >>> before = {2048: SizePools(2048, PoolCounters(100, 100), {0: PoolCounters(60, 60), 1: PoolCounters(40, 40)})}
    >>> during = {2048: SizePools(2048, PoolCounters(100, 13), {0: PoolCounters(60, 0), 1: PoolCounters(40, 13)})}
    >>> taken_by_node(SizeTrial(2048, 77, 10, "ok", "", Supply(100, 0, 100), before, during, before, 0.0))
    {0: 60, 1: 27}
    """
    if trial.during is None:
        return {}
    old, new = trial.before.get(trial.size_kib), trial.during.get(trial.size_kib)
    if old is None or new is None:
        return {}
    taken: dict[int, int] = {}
    for node, counters in sorted(old.nodes.items()):
        now = new.nodes.get(node)
        if counters.free is not None and now is not None and now.free is not None:
            taken[node] = counters.free - now.free
    return taken


# -- parsing ---------------------------------------------------------------------------------------


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise TrialProtocolError(f"{where}{key}", "missing")
    return data[key]


def _int(value: Any, where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrialProtocolError(where, f"expected an integer, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TrialProtocolError(where, f"expected text, got {value!r}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TrialProtocolError(where, f"expected an object, got {value!r}")
    return cast(Mapping[str, Any], value)


def _number_key(key: str, where: str) -> int:
    if not is_plain_number(key):
        raise TrialProtocolError(where, f"expected a number as key, got {key!r}")
    return int(key)


def _counters(value: Any, where: str) -> PoolCounters:
    data = _mapping(value, where)
    unknown = set(data) - set(COUNTER_FILES)
    if unknown:
        raise TrialProtocolError(where, f"unknown counters {sorted(unknown)}")
    found = {name: _int(data.get(name), f"{where}.{name}", optional=True) for name in COUNTER_FILES}
    return PoolCounters(**found)


def parse_pool_state(value: Any, where: str) -> PoolState:
    """``{"2048": {"global": {...}, "nodes": {"0": {...}}}}`` as :class:`SizePools` by size.

    >>> state = parse_pool_state({"2048": {"global": {"nr": 2, "free": 2}, "nodes": {"0": {"nr": 2}}}}, "before")
    >>> state[2048].whole.free, state[2048].nodes[0].nr, state[2048].nodes[0].free
    (2, 2, None)
    >>> parse_pool_state({"2048": {"global": {"free": "2"}, "nodes": {}}}, "before")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.trial.report.TrialProtocolError: trial report: before.2048.global.free: expected an intege...
    """
    state: dict[int, SizePools] = {}
    for key, pools in _mapping(value, where).items():
        size = _number_key(key, where)
        here = f"{where}.{key}"
        pool_map = _mapping(pools, here)
        whole = _counters(_field(pool_map, "global", here + "."), f"{here}.global")
        nodes_raw = _mapping(_field(pool_map, "nodes", here + "."), f"{here}.nodes")
        nodes = {_number_key(n, f"{here}.nodes"): _counters(c, f"{here}.nodes.{n}") for n, c in nodes_raw.items()}
        state[size] = SizePools(size, whole, nodes)
    return state


def _trial(value: Any, where: str) -> SizeTrial:
    data = _mapping(value, where)
    prefix = where + "."
    status = _field(data, "status", prefix)
    if status not in STATUSES:
        raise TrialProtocolError(f"{prefix}status", f"expected one of {', '.join(STATUSES)}, got {status!r}")
    need = _mapping(_field(data, "need", prefix), f"{prefix}need")
    supply = _mapping(_field(data, "supply", prefix), f"{prefix}supply")
    during = data.get("during")
    settle = _field(data, "settle_seconds", prefix)
    if isinstance(settle, bool) or not isinstance(settle, (int, float)):
        raise TrialProtocolError(f"{prefix}settle_seconds", f"expected a number, got {settle!r}")
    return SizeTrial(
        size_kib=_int(_field(data, "size_kib", prefix), f"{prefix}size_kib"),
        need_flow=_int(_field(need, "flow", f"{prefix}need."), f"{prefix}need.flow"),
        need_bridge=_int(_field(need, "bridge", f"{prefix}need."), f"{prefix}need.bridge"),
        status=cast(Status, status),
        reason=_text(_field(data, "reason", prefix), f"{prefix}reason"),
        supply=Supply(
            free=_int(supply.get("free", 0), f"{prefix}supply.free"),
            resv=_int(supply.get("resv", 0), f"{prefix}supply.resv"),
            available=_int(supply.get("available", 0), f"{prefix}supply.available"),
            node_free=_int(supply.get("node_free"), f"{prefix}supply.node_free", optional=True),
        ),
        before=parse_pool_state(_field(data, "before", prefix), f"{prefix}before"),
        during=None if during is None else parse_pool_state(during, f"{prefix}during"),
        after=parse_pool_state(_field(data, "after", prefix), f"{prefix}after"),
        settle_seconds=float(settle),
    )


def parse_report(stdout: str) -> TrialReport:
    """The helper's JSON document (its last line of output) as a :class:`TrialReport`.

    >>> r = parse_report('{"python": "2.7.5", "machine": "x86_64", "node": null, "marker": "m", '
    ...                  '"error": null, "trials": []}')
    >>> r.python, r.trials
    ('2.7.5', ())
    >>> parse_report("Traceback (most recent call last):")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.trial.report.TrialProtocolError: trial report: output: not JSON: 'Traceback (most recent c...
    """
    lines = stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    try:
        raw = json.loads(last)
    except ValueError:
        raise TrialProtocolError("output", f"not JSON: {last[:200]!r}") from None
    data = _mapping(raw, "report")
    error = _field(data, "error", "")
    trials = _field(data, "trials", "")
    if not isinstance(trials, list):
        raise TrialProtocolError("trials", f"expected a list, got {trials!r}")
    return TrialReport(
        python=_text(_field(data, "python", ""), "python"),
        machine=_text(_field(data, "machine", ""), "machine"),
        node=_int(_field(data, "node", ""), "node", optional=True),
        marker=_text(_field(data, "marker", ""), "marker"),
        error=None if error is None else _text(error, "error"),
        trials=tuple(_trial(item, f"trials[{index}]") for index, item in enumerate(trials)),
    )
