"""Fewer Allure files per host: a fixture's container is written only when it says something.

allure-pytest writes one ``*-container.json`` per fixture per test: with the
suite's inputs as fixtures (the host, its demand, its supply, the verdict …)
that is about 22 files per host next to its 7 results, and creating a file is
most of what Allure costs a run. A container whose fixtures all passed with no
step and no attachment carries only the fixture's name and timing; it is left
out, and so is one whose fixture skipped the check (a check that does not
apply): the check's own result is skipped with the same reason. A fixture that
failed or broke (a check that could not judge: its ERROR) or that attached
something keeps its container, so the report shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

ALLURE_LISTENER = "allure_listener"

#: A fixture's Allure status that says nothing its test's result does not: none yet, passed, skipped.
QUIET_STATUSES = (None, "passed", "skipped")


def informative(container: Any) -> bool:
    """True when a fixture container has something to show: a fixture that failed or broke, a step or an
    attachment. A fixture that skipped the check says what the check's skipped result says.

    >>> from allure_commons.model2 import TestBeforeResult, TestResultContainer
    >>> quiet = TestResultContainer(befores=[TestBeforeResult(name="host", status="passed")])
    >>> skipping = TestResultContainer(befores=[TestBeforeResult(name="trial_request", status="skipped")])
    >>> broken = TestResultContainer(befores=[TestBeforeResult(name="demand", status="broken")])
    >>> informative(quiet), informative(skipping), informative(broken)
    (False, False, True)
    """
    for fixture in [*container.befores, *container.afters]:
        if fixture.status not in QUIET_STATUSES or fixture.steps or fixture.attachments:
            return True
    return False


def lean_stop_group(reporter: Any) -> Callable[..., None]:
    """``reporter.stop_group`` that drops a container :func:`informative` says nothing of.

    >>> from allure_commons.model2 import TestBeforeResult, TestResultContainer
    >>> from allure_commons.reporter import AllureReporter
    >>> reporter = AllureReporter()
    >>> reporter.start_group("g1", TestResultContainer(uuid="g1", befores=[TestBeforeResult(status="passed")]))
    >>> lean_stop_group(reporter)("g1")   # nothing is reported, and the group is gone
    >>> reporter.get_item("g1") is None
    True
    """
    stop_group = reporter.stop_group

    def stop(uuid: str, **kwargs: Any) -> None:
        group = reporter.get_item(uuid)
        if group is not None and not informative(group):
            reporter._items.pop(uuid)
            return
        stop_group(uuid, **kwargs)

    return stop


def write_fewer_containers(config: pytest.Config) -> bool:
    """While allure-pytest records, leave out the containers of fixtures that only passed; True when done.

    When allure-pytest is not recording, or its reporter is not where allure-pytest 2 keeps it, nothing
    changes and every container is written as before.

    >>> from types import SimpleNamespace
    >>> no_allure = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    >>> write_fewer_containers(no_allure)  # a stand-in for pytest's config without --alluredir
    False
    """
    listener = config.pluginmanager.get_plugin(ALLURE_LISTENER)
    reporter = getattr(listener, "allure_logger", None)
    if reporter is None or not hasattr(reporter, "stop_group") or not hasattr(reporter, "_items"):
        return False
    reporter.stop_group = lean_stop_group(reporter)
    return True
