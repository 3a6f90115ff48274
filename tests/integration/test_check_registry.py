"""Check ids come from the registry in real runs: every id is collected, and a renamed check keeps its id.

The runs use this machine (local transport, read only): a full collection
(certification and the destructive stage included, with ``--plan``) and small
runs of a copy of ``checks/test_host.py`` whose functions were renamed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId, Scope
from vrouter_preflight.wiring.hosts import CHECKS_DIR
from vrouter_preflight.wiring.items import check_of

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.timeout(300)

HOST = "this-host"


def local_inventory(path: Path, **entry: object) -> Path:
    """An inventory of this machine alone (JSON is YAML)."""
    path.write_text(json.dumps({"hosts": {HOST: {"transport": "local", **entry}}}))
    return path


def test_a_full_collection_has_every_registered_check_each_with_its_scope(pytester: pytest.Pytester) -> None:
    inventory = local_inventory(pytester.path / "inventory.yaml", certify=True, destructive=True)
    recorder = pytester.inline_run(
        str(CHECKS_DIR),
        "--collect-only",
        "--inventory",
        str(inventory),
        "--plan",
        "-m",
        "certification or not certification",
        "-p",
        "no:cacheprovider",
    )
    (finished,) = recorder.getcalls("pytest_collection_finish")
    items = finished.session.items
    assert items, "nothing collected"
    collected = {check_of(item) for item in items}
    assert collected == set(CheckId), f"never collected: {set(CheckId) - collected}"
    for item in items:
        check = check_of(item)
        properties = dict(item.user_properties)
        assert properties["check"] == check.id, item.nodeid
        per_node = "node" in item.fixturenames
        per_trial_node = "trial_node" in item.fixturenames
        assert (per_node, per_trial_node) == (check.scope is Scope.NUMA_NODE, check.scope is Scope.TRIAL_NODES), (
            f"{item.nodeid}: {check} is registered {check.scope.value}"
        )


def renamed_host_checks(directory: Path) -> Path:
    """``checks/test_host.py`` with both of its functions renamed."""
    source = (CHECKS_DIR / "test_host.py").read_text(encoding="utf-8")
    for old, new in (
        ("def test_reachable(", "def test_the_host_answers("),
        ("def test_facts_parse(", "def test_files_read("),
    ):
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    path = directory / "test_renamed_host.py"
    path.write_text(source, encoding="utf-8")
    return path


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


def test_renaming_a_check_function_keeps_its_id_in_every_report(tmp_path: Path) -> None:
    renamed = renamed_host_checks(tmp_path)
    inventory = local_inventory(tmp_path / "inventory.yaml")
    run = run_pytest(
        tmp_path,
        str(CHECKS_DIR / "test_boot.py"),
        renamed.name,
        "--inventory",
        str(inventory),
        "--summary-json=summary.json",
        "--junitxml=junit.xml",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    checks = load_summary(tmp_path / "summary.json")["hosts"][HOST]["checks"]
    assert sorted(c["id"] for c in checks) == sorted(
        [CheckId.CMDLINE_HUGEPAGES.id, CheckId.REACHABLE.id, CheckId.FACTS_PARSE.id]
    )
    cases = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ET.parse(tmp_path / "junit.xml").iter("testcase")
    }
    assert cases[f"test_the_host_answers[{HOST}]"]["check"] == CheckId.REACHABLE.id
    assert cases[f"test_files_read[{HOST}]"]["check"] == CheckId.FACTS_PARSE.id


def test_a_check_that_names_no_id_stops_the_run_with_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "test_unnamed.py").write_text(
        "def test_unnamed(host, verdict):\n    verdict.conclude(True, 'judged without an id')\n", encoding="utf-8"
    )
    inventory = local_inventory(tmp_path / "inventory.yaml")
    run = run_pytest(tmp_path, str(CHECKS_DIR / "test_boot.py"), "test_unnamed.py", "--inventory", str(inventory))
    assert run.returncode == 4, run.stdout + run.stderr
    unnamed = f"{tmp_path / 'test_unnamed.py'}::test_unnamed[{HOST}]: a check names its id with @check(CheckId.…)"
    assert unnamed in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
