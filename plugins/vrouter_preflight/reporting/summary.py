"""The JSON summary of a run: one verdict, the checks, demand and supply per host.

Pipelines read this file (``--summary-json``, default ``reports/summary.json``),
so its shape is a contract, published as a JSON Schema (draft 2020-12) in
``docs/summary.schema.json``; :data:`SCHEMA_VERSION` changes with every
breaking change of it (a field removed, renamed or retyped; README "JSON
summary"). In short::

    {"schema_version": 1, "suite_version": "...", "inventory": "...",
     "generated_at": "2026-11-26T14:18:00Z", "exit_status": 1, "verdict": "fail",
     "hosts": {"<name>": {
        "verdict": "pass|fail|error",
        "error": null,
        "counts": {"passed": 3, "failed": 1, "error": 0, "skipped": 0},
        "checks": [{"id": "<check id>", "node": null,
                    "outcome": "passed|failed|error|skipped", "message": "..."}],
        "demand": {"buddy_blocks": {"10": 44, "9": 2}, "hugepages": {"1G": 2}},
        "supply": {"free_blocks": {"<node>": {"<zone>": [n0, n1, ...]}},
                   "hugepages": {"<size kB>": {"<node>": {"total": 0, "free": 0, "surplus": 0}}},
                   "hugepages_global": {"<size kB>": {"total": 0, "free": 0, ...}}},
        "not_run": [{"id": "<check id>", "reason": "..."}]}},
     "rollout": {...}}

``rollout`` is there only when the destructive stage ran. Everything here but
:func:`write_summary` is a pure function of its arguments. The records are
:mod:`vrouter_preflight.records`; demand and supply figures :mod:`vrouter_preflight.figures`;
the check ids :class:`vrouter_preflight.check_ids.CheckId`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from vrouter_preflight.atomic_files import write_text_atomic
from vrouter_preflight.records import OUTCOMES, CheckRecord, host_verdict, overall_verdict, utc_timestamp

SCHEMA_VERSION = 1


def run_meta(
    *, suite_version: str, inventory: str, exit_status: int, generated_at: datetime | None = None
) -> dict[str, Any]:
    """The top-level metadata of a summary.

    >>> from datetime import timezone
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
    not_run: Mapping[str, Mapping[str, str]] | None = None,
    rollout: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole summary: ``meta`` at the top, then one entry per host in inventory order.

    ``host_errors`` maps an unreachable host to its cause; ``demand`` and
    ``supply`` are :func:`demand_json` / :func:`supply_json` results (a host
    missing from them, or mapped to None, gets ``null``); ``not_run`` maps a
    host to the checks deselected on it and why; ``rollout`` is the destructive
    stage's report, when it ran. Records keep their order within a host. A
    record (or ``not_run`` entry) of a host that is not in ``host_names`` is a
    bug in the caller and raises ``ValueError``.

    >>> s = build_summary(host_names=["c1", "c0"],
    ...     records=[CheckRecord("c0", "reachable", None, "passed", ""),
    ...              CheckRecord("c1", "reachable", None, "error", "c1: connection refused")],
    ...     host_errors={"c1": "connection refused"}, demand={}, supply={}, meta={"exit_status": 1})
    >>> list(s["hosts"]), s["hosts"]["c1"]["verdict"], s["hosts"]["c1"]["error"], s["verdict"]
    (['c1', 'c0'], 'error', 'connection refused', 'error')
    >>> s["hosts"]["c0"]["checks"], s["hosts"]["c0"]["demand"], s["hosts"]["c0"]["not_run"]
    ([{'id': 'reachable', 'node': None, 'outcome': 'passed', 'message': ''}], None, [])
    """
    if len(set(host_names)) != len(host_names):
        raise ValueError(f"duplicate host names: {list(host_names)}")
    reserved = {"hosts", "schema_version", "verdict", "rollout"} & set(meta)
    if reserved:
        raise ValueError(f"meta may not set {sorted(reserved)}: the summary computes them")
    by_host: dict[str, list[CheckRecord]] = {name: [] for name in host_names}
    for record in records:
        if record.host not in by_host:
            raise ValueError(f"record of {record.check_id} for host {record.host!r}, which is not in this run")
        by_host[record.host].append(record)
    strangers = sorted(set(not_run or {}) - set(by_host))
    if strangers:
        raise ValueError(f"not_run names hosts that are not in this run: {strangers}")
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
            "not_run": [{"id": check, "reason": why} for check, why in (not_run or {}).get(name, {}).items()],
        }
    summary = {
        "schema_version": SCHEMA_VERSION,
        **meta,
        "verdict": overall_verdict([host["verdict"] for host in hosts.values()]),
        "hosts": hosts,
    }
    if rollout is not None:
        summary["rollout"] = dict(rollout)
    return summary


def summary_text(summary: Mapping[str, Any]) -> str:
    """The summary as indented JSON with each host's record on one line of its own.

    ``grep '"c0":' summary.json`` shows a host's whole record, and a thousand
    hosts are written by json's C encoder (indented JSON is encoded in Python,
    about ten times slower). A value JSON cannot represent (NaN) raises.

    >>> print(summary_text({"verdict": "fail", "hosts": {"c0": {"verdict": "fail", "checks": []}}}), end="")
    {
      "verdict": "fail",
      "hosts": {
        "c0": {"verdict": "fail", "checks": []}
      }
    }
    """

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    def indented(value: Any) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).replace("\n", "\n  ")

    members = []
    for key, value in summary.items():
        if key == "hosts" and isinstance(value, Mapping) and value:
            lines = ",\n".join(f"    {compact(name)}: {compact(record)}" for name, record in value.items())
            members.append(f"  {compact(key)}: {{\n{lines}\n  }}")
        else:
            members.append(f"  {compact(key)}: {indented(value)}")
    return "{\n" + ",\n".join(members) + "\n}\n" if members else "{}\n"


def write_summary(path: str | os.PathLike[str], summary: Mapping[str, Any]) -> Path:
    """Write :func:`summary_text` atomically (:func:`~vrouter_preflight.atomic_files.write_text_atomic`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     json.loads(write_summary(Path(d, "s.json"), {"verdict": "pass", "hosts": {}}).read_text(encoding="utf-8"))
    {'verdict': 'pass', 'hosts': {}}
    """
    return write_text_atomic(path, summary_text(summary))
