"""A check that does not apply is SKIPPED before its inputs are set up, reported exactly as its own code
reports it; a check that cannot judge is still an ERROR, never hidden by a skip (wiring/applicability.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.allure_results import load_results
from tests.snapshot_trees import build_tree
from tests.suite_runs import run_suite
from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId

pytestmark = pytest.mark.timeout(300)

#: Not applicable on this machine (buddy mode, no hugepages on its command line), as test_runs says.
NOT_APPLICABLE_HERE = {
    CheckId.CMDLINE_HUGEPAGES: ("test_boot.py", "no hugepages on the kernel command line and no expect:"),
    CheckId.HUGEPAGE_BACKING: ("test_hugepages.py", "vRouter does not use hugepages for its tables (buddy mode:"),
    CheckId.TRIAL_ALLOCATION: ("test_trial.py", "(no hugepage size configured) and trial.sizes is empty"),
}


def checks_of(summary: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in summary["hosts"][host]["checks"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run: this machine, and a snapshot without /proc/cmdline whose vRouter module parameter is garbage."""
    tmp = tmp_path_factory.mktemp("applicability")
    build_tree(
        tmp / "blind",
        buddyinfo="ubuntu1204-3.2-8g.txt",
        meminfo="ubuntu1204-3.2-8g.txt",
        extra={"/proc/sys/kernel/osrelease": "3.2.0\n", "/sys/module/vrouter/parameters/vr_flow_entries": "lots\n"},
    )
    inventory = tmp / "inventory.yaml"
    inventory.write_text("hosts:\n  here:\n    transport: local\n  blind:\n    transport: snapshot\n    path: blind\n")
    out = {"summary": tmp / "summary.json", "junit": tmp / "junit.xml", "allure": tmp / "allure"}
    result = run_suite(
        "--inventory",
        str(inventory),
        "--setup-show",
        f"--summary-json={out['summary']}",
        f"--junitxml={out['junit']}",
        f"--alluredir={out['allure']}",
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return {**out, "result": result, "summary": load_summary(out["summary"])}


def test_a_check_that_does_not_apply_is_skipped_with_its_own_message(run: dict[str, Any]) -> None:
    here = checks_of(run["summary"], "here")
    for check, (_, reason) in NOT_APPLICABLE_HERE.items():
        assert here[check.id]["outcome"] == "skipped", here[check.id]
        assert here[check.id]["message"].startswith("here: ") and reason in here[check.id]["message"]


def test_its_inputs_are_never_set_up(run: dict[str, Any]) -> None:
    # The trial's input that found "nothing to try" used to be set up (and skip); now nothing is.
    out = run["result"].stdout
    assert "SETUP    F host" in out  # --setup-show is on: the checks that apply show theirs
    assert "F trial_request" not in out and "F trial_report" not in out


def test_junit_and_allure_name_the_check_and_the_host(run: dict[str, Any]) -> None:
    cases = {case.get("name"): case for case in ET.parse(run["junit"]).getroot().iter("testcase")}
    results = load_results(run["allure"])
    for check, (module, reason) in NOT_APPLICABLE_HERE.items():
        case = next(
            case
            for name, case in cases.items()
            if name and name.endswith("[here]") and check.id in str({p.get("value") for p in case.iter("property")})
        )
        skipped = case.find("skipped")
        assert skipped is not None and reason in skipped.get("message", "")
        assert f"checks/{module}:" in (skipped.text or "")  # reported at the check's own location
        result = next(
            r
            for r in results
            if {"name": "check_id", "value": check.id} in r["labels"]
            and {"name": "host", "value": "here"} in r.get("parameters", [])
        )
        assert result["status"] == "skipped" and result["name"].startswith("here: ") and reason in result["name"]


def test_a_check_that_cannot_judge_is_an_error_not_a_skip(run: dict[str, Any]) -> None:
    # vRouter's settings cannot be computed (a garbage module parameter), nor the command line read: the
    # reasons "buddy mode" and "no hugepages on the command line" are not known, the inputs' errors are.
    blind = checks_of(run["summary"], "blind")
    assert blind[CheckId.HUGEPAGE_BACKING.id]["outcome"] == "error", blind[CheckId.HUGEPAGE_BACKING.id]
    assert "vRouter settings: module parameter vr_flow_entries" in blind[CheckId.HUGEPAGE_BACKING.id]["message"]
    assert blind[CheckId.CMDLINE_HUGEPAGES.id]["outcome"] == "error", blind[CheckId.CMDLINE_HUGEPAGES.id]
    assert "/proc/cmdline" in blind[CheckId.CMDLINE_HUGEPAGES.id]["message"]
