"""Lean runs: what a run of the checks carries and keeps that it does not need.

* A check's test reports keep its marks' names as keywords, not every name above it in the tree (the test,
  its module, each directory down to the installed package): with ``-n N`` every report travels from its
  worker to the main process (:mod:`vrouter_preflight.wiring.report_keywords`).
* The objects a run keeps to its end are frozen out of the cycle collector's scans before the first check,
  in every process that runs checks, and so is what survives each full collection during the checks
  (:mod:`vrouter_preflight.wiring.long_lived`).
* allure-pytest follows only the fixtures that fail: a fixture that breaks gets its container, linked to
  its test's result; no other fixture gets one (:mod:`vrouter_preflight.reporting.allure_lean`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import labels, load_containers, load_results, parameters, validate_results
from tests.gate_snapshots import field_report_node
from tests.integration.test_implausible_buddyinfo import HOSTS as IMPLAUSIBLE
from tests.integration.test_implausible_buddyinfo import snapshot
from tests.suite_runs import run_suite
from vrouter_preflight.check_ids import CheckId


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four snapshot hosts (two healthy, two failing) and this machine."""
    root = tmp_path_factory.mktemp("lean")
    hosts: dict[str, Any] = {"this-machine": {"transport": "local"}}
    for n in range(4):
        field_report_node(root / f"c{n}", normal_order10=(60, 60) if n % 2 else (2, 1))
        hosts[f"compute-{n}"] = {"transport": "snapshot", "path": f"c{n}"}
    path = root / "fleet.yaml"
    path.write_text(json.dumps({"hosts": hosts}))
    return path


def probed_run(fleet: Path, out: Path, *args: str) -> dict[str, dict[str, Any]]:
    """Run the checks with the report probe (tests/report_probe.py); what each process saw, by process."""
    run = run_suite(
        "--inventory", str(fleet), "--summary-json", str(out / "summary.json"),
        "-p", "tests.report_probe", "--report-probe", str(out), *args,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]  # the failing snapshots
    return {path.stem: json.loads(path.read_text()) for path in out.glob("*.json") if path.stem != "summary"}


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "two workers"])
def test_a_checks_reports_keep_only_its_marks_as_keywords(
    fleet: Path, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    received = probed_run(fleet, tmp_path, *workers)["main"]["keywords"]
    assert len(received) >= 5 * 7 * 2, received  # 5 hosts, 7 checks or more, setup and teardown at least
    for report, keywords in received.items():
        test_name = report.split("::")[1].split(" ")[0]
        assert "xdist_group" in keywords, report
        assert not {"checks", "test_host.py", test_name, "vrouter_preflight_check_id"} & set(keywords), report
    reachable = [keywords for report, keywords in received.items() if "::test_reachable[" in report]
    assert reachable and all("reachability" in keywords for keywords in reachable)


@pytest.mark.parametrize(
    ("workers", "checking"), [((), {"main"}), (("-n", "2"), {"gw0", "gw1"})], ids=["one process", "two workers"]
)
def test_long_lived_objects_are_frozen_before_the_first_check(
    fleet: Path, tmp_path: Path, workers: tuple[str, ...], checking: set[str]
) -> None:
    seen = probed_run(fleet, tmp_path, *workers)
    ran = {process for process, what in seen.items() if what["frozen_at_first_test"] is not None}
    assert ran == checking
    for process in checking:
        # Imports, the gathered hosts and the collected items: tens of thousands of objects.
        assert seen[process]["frozen_at_first_test"] > 10_000, (process, seen[process]["frozen_at_first_test"])
        # a full collection in the 8th check (the probe's) leaves next to nothing for the next one to walk
        assert seen[process]["unfrozen_after_full_collection"] < 100, (
            process,
            seen[process]["unfrozen_after_full_collection"],
        )


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "two workers"])
def test_allure_writes_a_container_for_a_broken_fixture_only(
    fleet: Path, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    hosts = json.loads(fleet.read_text())["hosts"]
    for n in range(4):
        hosts[f"compute-{n}"]["path"] = str(fleet.parent / f"c{n}")
    replaced, cause = IMPLAUSIBLE["other-moment"]  # the supplies fixture cannot judge: buddyinfo and zoneinfo disagree
    snapshot(tmp_path / "other-moment", replaced)
    hosts["other-moment"] = {"transport": "snapshot", "path": "other-moment"}
    inventory = tmp_path / "fleet.json"
    inventory.write_text(json.dumps({"defaults": {"page_size": 4096}, "hosts": hosts}))
    alluredir = tmp_path / "allure"

    probes = tmp_path / "probes"
    probes.mkdir()

    run = run_suite(
        "--inventory", str(inventory), "--alluredir", str(alluredir),
        "-p", "tests.report_probe", "--report-probe", str(probes), *workers,
    )  # fmt: skip

    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    followed = {path.stem: json.loads(path.read_text())["allure_fixture_hooks"] for path in probes.glob("*.json")}
    checking = {process: hooks for process, hooks in followed.items() if hooks is not None}
    assert len(checking) == (len(workers) or 1), followed
    for hooks in checking.values():  # the listener's own fixture hooks are gone
        assert hooks == {"pytest_fixture_setup": ["FailedFixtures.pytest_fixture_setup"],
                         "pytest_fixture_post_finalizer": []}, hooks  # fmt: skip
    results = load_results(alluredir)
    validate_results(results, alluredir)
    by_uuid = {result["uuid"]: result for result in results}
    linked: dict[str, list[str]] = {}
    for container in load_containers(alluredir):  # 5 hosts, about 26 fixtures each
        (child,) = container["children"]
        (fixture,) = container["befores"]
        result = by_uuid[child]
        assert parameters(result)["host"] == "other-moment", result
        assert fixture["status"] == result["status"] == "broken", (fixture, result)
        assert fixture["statusDetails"]["message"].strip().endswith(result["statusDetails"]["message"].strip()), fixture
        linked[fixture["name"]] = labels(result, "story")
    # buddyinfo and zoneinfo disagree; the Ubuntu snapshot has no hugepage pools in sysfs
    assert linked == {
        "supplies": [CheckId.CONTIGUOUS_BLOCKS.id], "node_pools": [CheckId.HUGEPAGES_PER_NODE.id]
    }, linked  # fmt: skip
    (supplies,) = [c for c in load_containers(alluredir) if c["befores"][0]["name"] == "supplies"]
    assert cause.removeprefix("other-moment: ") in supplies["befores"][0]["statusDetails"]["message"]
