"""The certificate of one host: built from the certification checks' records (pure), then written.

A host is certified only when every finding it should have passed. A finding
that failed, errored, was skipped or did not run at all (no ``--destructive``,
a snapshot, an unreachable host) makes it *not certified*, and the certificate
says which and why — never a silent pass::

    {"schema_version": 1, "host": "compute-7", "certified": false,
     "verdict": "not certified", "reasons": ["destructive_cycles: not run: needs --destructive ..."],
     "issued_at": "2026-11-26T14:18:00Z",
     "identity": {"dmi": {...}, "kernel_release": "...", "vrouter_module": null, "suite_version": "...", ...},
     "run": {"inventory": "...", "run_by": "...", "destructive": false, "cert_cycles": 3, ...},
     "findings": [{"id": "cpu_1g_pages", "node": null, "status": "passed", "message": "...",
                   "evidence": {...}}, ...]}

Only :func:`write_certificate` touches the disk (atomically: a temporary file
in the same directory, then a rename).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vrouter_preflight.atomic_files import write_json_atomic
from vrouter_preflight.check_ids import CERTIFICATION_CHECKS, CheckId, Scope
from vrouter_preflight.records import CheckRecord

SCHEMA_VERSION = 1
#: The findings of every certificate, in the order they are written (the registry's certification checks).
FINDINGS = tuple(str(check.finding) for check in CERTIFICATION_CHECKS)
#: The findings recorded once per NUMA node (``trial``).
PER_NODE = frozenset(str(check.finding) for check in CERTIFICATION_CHECKS if check.scope is Scope.NUMA_NODE)


def finding_of(check_id: str) -> str | None:
    """The finding a check id records, or None for a check that is not a certification check.

    >>> finding_of(CheckId.CERTIFY_TRIAL.id), finding_of(CheckId.TRIAL_ALLOCATION.id), PER_NODE
    ('trial', None, frozenset({'trial'}))
    """
    check = CheckId.named(check_id)
    return None if check is None else check.finding


def expected_findings(nodes: Sequence[int] | None) -> list[tuple[str, int | None]]:
    """Every (finding, node) a certificate must hold; the trial once per node (``None`` when nodes are unknown).

    >>> expected_findings([0, 1])[4:]
    [('trial', 0), ('trial', 1), ('destructive_cycles', None)]
    """
    wanted: list[tuple[str, int | None]] = []
    for name in FINDINGS:
        if name in PER_NODE:
            per_node: list[int | None] = list(nodes) if nodes else [None]
            wanted.extend((name, node) for node in per_node)
        else:
            wanted.append((name, None))
    return wanted


def _label(name: str, node: int | None) -> str:
    return name if node is None else f"{name} node {node}"


def _without_host(message: str, host: str) -> str:
    return message.removeprefix(f"{host}: ")


def build_certificate(
    *,
    host: str,
    nodes: Sequence[int] | None,
    records: Sequence[CheckRecord],
    not_run: Mapping[str, str],
    host_error: str | None,
    issued_at: str,
    run: Mapping[str, Any],
) -> dict[str, Any]:
    """The certificate of ``host`` from its certification records.

    ``not_run`` maps a finding to why it was not run (deselected); a finding
    with neither a record nor a reason is "not run in this run". An
    unreachable host (``host_error``) is not certified, whatever else.

    >>> rec = CheckRecord("c0", CheckId.CERTIFY_CPU_1G_PAGES.id, None, "passed", "c0: the CPU supports 1G pages",
    ...                   {"evidence": {"pdpe1gb": True}})
    >>> cert = build_certificate(host="c0", nodes=[0], records=[rec], not_run={"destructive_cycles": "needs X"},
    ...                          host_error=None, issued_at="2026-01-01T00:00:00Z", run={})
    >>> cert["certified"], cert["findings"][1]["status"], cert["findings"][1]["message"]
    (False, 'passed', 'the CPU supports 1G pages')
    >>> cert["reasons"][-1]
    'destructive_cycles: not run: needs X'
    """
    by_key: dict[tuple[str, int | None], CheckRecord] = {}
    for record in records:
        name = finding_of(record.check_id)
        if record.host == host and name is not None:
            by_key[(name, record.node if name in PER_NODE else None)] = record
    findings: list[dict[str, Any]] = []
    for name, node in expected_findings(nodes):
        found = by_key.get((name, node))
        if found is not None:
            details = found.details or {}
            findings.append(
                {
                    "id": name,
                    "node": node,
                    "status": found.outcome,
                    "message": _without_host(found.message, host),
                    "evidence": details.get("evidence"),
                }
            )
            continue
        if host_error is not None:
            why = f"the host was not reached: {host_error}"
        elif name in PER_NODE and node is None:
            why = "the host's NUMA nodes are unknown (no /sys/devices/system/node)"
        else:
            why = not_run.get(name) or "not run in this run"
        findings.append({"id": name, "node": node, "status": "not_run", "message": why, "evidence": None})
    reasons = [
        f"{_label(f['id'], f['node'])}: {f['status'].replace('_', ' ')}: {f['message']}"
        for f in findings
        if f["status"] != "passed"
    ]
    if host_error is not None:
        reasons.insert(0, f"unreachable: {host_error}")
    certified = not reasons
    recorded = CheckId.CERTIFY_IDENTITY.finding
    identity = next((f["evidence"] for f in findings if f["id"] == recorded and f["evidence"] is not None), None)
    return {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "certified": certified,
        "verdict": "certified" if certified else "not certified",
        "reasons": reasons,
        "issued_at": issued_at,
        "identity": identity,
        "run": dict(run),
        "findings": findings,
    }


def certificate_path(directory: str | Path, host: str) -> Path:
    """Where ``host``'s certificate goes: ``<directory>/<host>.json`` (host names are file-name safe).

    >>> str(certificate_path("reports/certificates", "compute-7"))
    'reports/certificates/compute-7.json'
    """
    return Path(directory) / f"{host}.json"


def write_certificate(directory: str | Path, certificate: Mapping[str, Any]) -> Path:
    """Write ``certificate`` atomically to ``<directory>/<host>.json``; returns the path.

    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = write_certificate(directory, {"host": "compute-7", "certified": False})
    ...     print(path.name, json.loads(path.read_text()))
    compute-7.json {'host': 'compute-7', 'certified': False}
    """
    return write_json_atomic(certificate_path(directory, str(certificate["host"])), certificate)
