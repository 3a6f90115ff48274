"""The certificate: built from the certification checks' records (never a silent pass), written atomically;
which ``-m`` expressions make a certification run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vrouter_preflight.certification.certificate import build_certificate, expected_findings, write_certificate
from vrouter_preflight.records import CheckRecord
from vrouter_preflight.wiring.certification import certification_selected

ALL_PASSED = [
    CheckRecord("c0", f"certify_{name}", node, "passed", f"c0: {name} ok", {"evidence": {"seen": name}})
    for name, node in expected_findings([0, 1])
]


def certificate(records: list[CheckRecord], **overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "host": "c0",
        "nodes": [0, 1],
        "records": records,
        "not_run": {},
        "host_error": None,
        "issued_at": "2026-01-01T00:00:00Z",
        "run": {"cert_cycles": 3},
    }
    arguments.update(overrides)
    return build_certificate(**arguments)  # type: ignore[arg-type]


def test_every_finding_passed_is_certified() -> None:
    cert = certificate(ALL_PASSED)
    assert cert["certified"] is True
    assert cert["verdict"] == "certified"
    assert cert["reasons"] == []
    findings = cert["findings"]
    assert [(f["id"], f["node"]) for f in findings] == [  # type: ignore[attr-defined]
        ("identity", None),
        ("cpu_1g_pages", None),
        ("numa_layout", None),
        ("boot_hugepages", None),
        ("trial", 0),
        ("trial", 1),
        ("destructive_cycles", None),
    ]
    assert findings[0] == {  # type: ignore[index]
        "id": "identity",
        "node": None,
        "status": "passed",
        "message": "identity ok",
        "evidence": {"seen": "identity"},
    }
    assert cert["identity"] == {"seen": "identity"}


@pytest.mark.parametrize("outcome", ["failed", "error", "skipped"])
def test_any_other_outcome_is_not_certified(outcome: str) -> None:
    records = [
        r if r.check_id != "certify_numa_layout" else CheckRecord("c0", r.check_id, None, outcome, "c0: no")
        for r in ALL_PASSED
    ]
    cert = certificate(records)
    assert cert["certified"] is False
    assert cert["reasons"] == [f"numa_layout: {outcome}: no"]


def test_a_missing_node_trial_is_not_run_never_a_pass() -> None:
    records = [r for r in ALL_PASSED if not (r.check_id == "certify_trial" and r.node == 1)]
    cert = certificate(records)
    assert cert["certified"] is False
    assert cert["reasons"] == ["trial node 1: not run: not run in this run"]


def test_deselected_destructive_cycles_carry_the_reason() -> None:
    records = [r for r in ALL_PASSED if r.check_id != "certify_destructive_cycles"]
    cert = certificate(records, not_run={"destructive_cycles": "needs --destructive on the command line"})
    assert cert["reasons"] == ["destructive_cycles: not run: needs --destructive on the command line"]


def test_an_unreachable_host_is_not_certified() -> None:
    cert = certificate([], nodes=None, host_error="connection refused")
    assert cert["certified"] is False
    reasons = cert["reasons"]
    assert reasons[0] == "unreachable: connection refused"  # type: ignore[index]
    assert "trial: not run: the host was not reached: connection refused" in reasons  # type: ignore[operator]
    assert cert["identity"] is None


def test_records_of_other_hosts_and_checks_are_ignored() -> None:
    other = [
        CheckRecord("c1", "certify_identity", None, "failed", "c1: x"),
        CheckRecord("c0", "reachable", None, "failed", "x"),
    ]
    assert certificate(ALL_PASSED + other)["certified"] is True


def test_write_is_atomic_json(tmp_path: Path) -> None:
    directory = tmp_path / "certificates"
    path = write_certificate(directory, certificate(ALL_PASSED))
    assert path == directory / "c0.json"
    assert json.loads(path.read_text())["certified"] is True
    assert sorted(os.listdir(directory)) == ["c0.json"]
    with pytest.raises(ValueError, match="JSON compliant"):
        write_certificate(directory, {**certificate(ALL_PASSED), "certified": float("nan")})
    assert json.loads(path.read_text())["certified"] is True
    assert sorted(os.listdir(directory)) == ["c0.json"]


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("certification", True),
        ("certification and not destructive", True),
        ("certification or reachability", True),
        ("not certification", False),
        ("reachability", False),
        ("", False),
    ],
)
def test_which_marker_expressions_are_a_certification_run(expression: str, selected: bool) -> None:
    assert certification_selected(expression) is selected
