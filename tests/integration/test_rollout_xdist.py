"""The rollout under ``pytest -n 2``: the wiring recommended for the destructive stage, end to end.

The controller makes the run id in ``pytest_configure`` and hands it to every
worker through ``workerinput``; items are sorted by batch and grouped per host
(``--dist loadgroup --no-loadscope-reorder``), so each worker meets its hosts in
batch order. With ``--serial 1`` the recorded intervals never overlap, even
though two workers run hosts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


# The suite's own plugin is installed (pytest11) and would add the same options: this test stands alone.
XDIST_ARGS: tuple[str, ...] = ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder", "-p", "no:cacheprovider")
XDIST_ARGS += ("-p", "no:vrouter_preflight")

CONFTEST = """
import json, os
from pathlib import Path
import pytest
from vrouter_preflight.rollout import Rollout, new_run_id, parse_serial

HOSTS = ["c0", "c1", "c2", "c3"]
WIRE = "vrouter_preflight_rollout"
KEY = pytest.StashKey[Rollout]()

def pytest_addoption(parser):
    parser.addoption("--serial", default="1")
    parser.addoption("--max-fail-percentage", type=float, default=None)

def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        wire = {"run_id": new_run_id(), "state_dir": str(Path(os.environ["ROLLOUT_DIR"]))}
        config._rollout_wire = wire
    else:
        wire = json.loads(workerinput[WIRE])
    config.stash[KEY] = Rollout(
        wire["state_dir"], wire["run_id"], HOSTS, parse_serial(config.getoption("serial")),
        config.getoption("max_fail_percentage"), wait_timeout=10, poll_interval=0.005,
    )

def pytest_configure_node(node):
    node.workerinput[WIRE] = json.dumps(node.config._rollout_wire)

def pytest_collection_modifyitems(config, items):
    rollout = config.stash[KEY]
    items.sort(key=lambda item: rollout.batch_of(item.callspec.params["host"]))

def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        wire = session.config._rollout_wire
        report = Rollout.open(wire["state_dir"], wire["run_id"]).report()  # the controller collected nothing
        Path(os.environ["ROLLOUT_DIR"], "report.json").write_text(json.dumps(report))

@pytest.fixture
def rollout(request):
    return request.config.stash[KEY]
"""

TEST_FILE = """
import json, os, time
from pathlib import Path
import pytest

HOSTS = ["c3", "c1", "c0", "c2"]  # collected out of order on purpose

@pytest.mark.parametrize("host", [pytest.param(h, marks=pytest.mark.xdist_group(h)) for h in HOSTS])
def test_destructive(rollout, host):
    with rollout.slot(host) as decision:
        if not decision.run:
            pytest.skip(decision.reason)
        start = time.time()
        time.sleep(0.15)
        Path(os.environ["ROLLOUT_DIR"], host + ".json").write_text(
            json.dumps({"host": host, "pid": os.getpid(), "start": start, "end": time.time()})
        )
        failed = host in os.environ.get("ROLLOUT_FAIL", "").split(",")
        rollout.finish(host, ok=not failed, reason="failed on purpose" if failed else "")
        assert not failed
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("ROLLOUT_DIR", str(tmp_path / "rollout"))
    (tmp_path / "rollout").mkdir()
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_hosts=TEST_FILE)
    return tmp_path / "rollout"


@pytest.mark.timeout(30)
def test_serial_1_with_two_xdist_workers_never_overlaps(pytester: pytest.Pytester, suite: Path) -> None:
    result = pytester.runpytest_subprocess(*XDIST_ARGS)
    result.assert_outcomes(passed=4)
    intervals = sorted((json.loads((suite / f"c{i}.json").read_text()) for i in range(4)), key=lambda i: i["start"])
    assert [i["host"] for i in intervals] == ["c0", "c1", "c2", "c3"]
    assert len({i["pid"] for i in intervals}) == 2, "both workers ran hosts"
    for before, after in zip(intervals, intervals[1:]):
        assert before["end"] <= after["start"], f"{before['host']} and {after['host']} overlapped"


@pytest.mark.timeout(30)
def test_hosts_after_a_stop_are_skipped_with_the_reason_and_reported(
    pytester: pytest.Pytester, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLLOUT_FAIL", "c1")
    result = pytester.runpytest_subprocess(
        *XDIST_ARGS, "-rs", "--serial", "2",
        "--max-fail-percentage", "49",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    reason = "not run: the rollout stopped after batch 1 (1 of 2 hosts failed, more than max_fail_percentage 49)"
    result.stdout.fnmatch_lines([f"SKIPPED*{reason}"])
    report = json.loads((suite / "report.json").read_text())
    assert report["not_run"] == {"c2": reason, "c3": reason}
    assert report["failed"] == ["c1"]
