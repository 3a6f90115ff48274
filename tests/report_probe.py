"""A pytest plugin for tests of the suite's runs: what each process of a run saw (``-p tests.report_probe``).

``--report-probe DIR`` makes every process write ``DIR/<process>.json``: the keywords of each test report the
process handled (in the main process of ``-n N``: as received from the workers), the number of objects the
cycle collector had frozen when its first test ran, how many objects a full collection in its 8th check left
unfrozen, and which functions allure-pytest's listener had for the fixture hooks at its first test.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest

from vrouter_preflight.reporting.allure_lean import ALLURE_LISTENER, FIXTURE_HOOKS

_SEEN: dict[str, Any] = {
    "keywords": {},
    "checks_called": 0,
    "frozen_at_first_test": None,
    "unfrozen_after_full_collection": None,
    "allure_fixture_hooks": None,
}
#: The check (in the order the process runs them) in which the probe runs a full collection.
FULL_COLLECTION_AT_CALL = 8


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--report-probe", default=None, help="directory for what each process of the run saw")


def pytest_runtest_call(item: pytest.Item) -> None:
    _SEEN["checks_called"] += 1
    if _SEEN["checks_called"] == FULL_COLLECTION_AT_CALL:
        gc.collect()
        _SEEN["unfrozen_after_full_collection"] = sum(len(gc.get_objects(generation)) for generation in range(3))
    if _SEEN["frozen_at_first_test"] is None:
        _SEEN["frozen_at_first_test"] = gc.get_freeze_count()
        hooks = item.config.hook
        _SEEN["allure_fixture_hooks"] = {
            name: [
                impl.function.__qualname__
                for impl in getattr(hooks, name).get_hookimpls()
                if impl.plugin_name == ALLURE_LISTENER
            ]
            for name in FIXTURE_HOOKS
        }


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _SEEN["keywords"][f"{report.nodeid} {report.when}"] = sorted(report.keywords)


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.getoption("report_probe")
    if directory:
        process = getattr(config, "workerinput", {}).get("workerid", "main")
        Path(directory, f"{process}.json").write_text(json.dumps(_SEEN))
