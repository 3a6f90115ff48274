"""One check's result on one host, and how results roll up into a host's and a run's verdict.

Every report reads the same records: the JSON summary, the terminal table, the
certificates and the change-board overview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from vrouter_preflight.check_ids import CheckId

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

    @property
    def check(self) -> CheckId | None:
        """The registry's member for this record's id (None for an id this suite does not know).

        >>> CheckRecord("c0", CheckId.REMEDIATION.id, None, "passed", "").check
        <CheckId.REMEDIATION: 'remediation'>
        """
        return CheckId.named(self.check_id)

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


@dataclass(frozen=True)
class HostResult:
    """One host as the reports show it: how it was reached, its kernel and NUMA nodes, or why not;
    what a reload needs and what it has (the JSON summary's ``demand`` and ``supply``).

    >>> HostResult("c0", "ssh", "192.0.2.10", None, None, "connection refused", None, None).reached
    False
    """

    name: str
    transport: str
    address: str
    kernel: str | None
    numa_nodes: tuple[int, ...] | None
    error: str | None
    demand: Mapping[str, Any] | None
    supply: Mapping[str, Any] | None

    @property
    def reached(self) -> bool:
        """True when the host was gathered (its checks ran)."""
        return self.error is None

    def to_wire(self) -> dict[str, Any]:
        """A JSON-able form for xdist's ``workeroutput``.

        >>> r = HostResult("c0", "local", "local", "6.1.0", (0, 1), None, {"buddy_blocks": {"10": 44}}, None)
        >>> import json
        >>> HostResult.from_wire(json.loads(json.dumps(r.to_wire()))) == r
        True
        """
        return asdict(self)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> HostResult:
        """Rebuild a result from :meth:`to_wire` output."""
        nodes = data["numa_nodes"]
        return cls(
            str(data["name"]),
            str(data["transport"]),
            str(data["address"]),
            data["kernel"],
            None if nodes is None else tuple(int(n) for n in nodes),
            data["error"],
            data["demand"],
            data["supply"],
        )
