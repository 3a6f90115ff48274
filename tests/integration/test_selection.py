"""A host the operator's ``-k``/``-m``/``--deselect`` left without a check is left out of the reports
(:mod:`vrouter_preflight.wiring.selection`); an unreachable host never is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gate_snapshots import field_report_node
from tests.suite_runs import run_suite


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three snapshot hosts (one failing) and one unreachable SSH host."""
    root = tmp_path_factory.mktemp("selection")
    hosts: dict[str, Any] = {"gone": {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3}}
    for name, order10 in (("alpha", (60, 60)), ("bravo", (60, 60)), ("charlie", (2, 1))):
        field_report_node(root / name, normal_order10=order10)
        hosts[name] = {"transport": "snapshot", "path": name}
    path = root / "fleet.yaml"
    path.write_text(json.dumps({"hosts": hosts}))
    return path


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "two workers"])
def test_hosts_left_without_a_check_by_k_are_not_reported(
    fleet: Path, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    summary_path = tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet), "--summary-json", str(summary_path), "-k", "alpha", *workers)
    summary = json.loads(summary_path.read_text())
    # alpha was asked for; gone could not be reached, which a selection never hides; bravo and charlie
    # had nothing asked of them (charlie, which fails, does not fail this run).
    assert list(summary["hosts"]) == ["gone", "alpha"], run.stdout[-3000:]
    assert summary["hosts"]["alpha"]["verdict"] == "pass"
    assert summary["hosts"]["gone"]["verdict"] == "error"
    # ... and the exit status says what the summary says: not a green pipeline next to an ERROR host.
    assert run.returncode == 1 and summary["exit_status"] == 1
    assert "2 host(s) had no check selected (-k, -m or --deselect): left out of the reports" in run.stdout
    table = run.stdout.split("vrouter-preflight: per-host result", 1)[1]
    assert "bravo" not in table and "charlie" not in table


def test_a_host_with_a_selected_check_is_reported_whatever_else_was_deselected(fleet: Path, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet), "--summary-json", str(summary_path), "-k", "contiguous_blocks")
    summary = json.loads(summary_path.read_text())
    assert list(summary["hosts"]) == ["gone", "alpha", "bravo", "charlie"]
    assert summary["hosts"]["charlie"]["verdict"] == "fail"
    assert run.returncode == 1
    assert "had no check selected" not in run.stdout


def test_a_selection_of_checks_that_all_skip_does_not_exit_0(fleet: Path, tmp_path: Path) -> None:
    """alpha's only selected check does not apply to it (a buddy-mode host): nothing judged alpha, its
    verdict is ERROR, and the exit status agrees."""
    summary_path = tmp_path / "summary.json"
    run = run_suite(
        "--inventory", str(fleet), "--summary-json", str(summary_path), "--limit", "alpha", "-k", "hugepage_backing"
    )
    summary = json.loads(summary_path.read_text())
    assert list(summary["hosts"]) == ["alpha"]
    assert [check["outcome"] for check in summary["hosts"]["alpha"]["checks"]] == ["skipped"], run.stdout[-3000:]
    assert summary["hosts"]["alpha"]["verdict"] == "error"
    assert run.returncode == 1 and summary["exit_status"] == 1


def test_collect_only_judges_nothing_and_exits_0(fleet: Path, tmp_path: Path) -> None:
    """Listing the checks (``--collect-only``) is not a run that reports hosts: its exit status stays 0."""
    run = run_suite("--inventory", str(fleet), "--summary-json", str(tmp_path / "summary.json"), "--collect-only")
    assert run.returncode == 0, run.stdout[-3000:]
