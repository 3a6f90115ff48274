"""Lean Allure fixtures: a container only for a fixture that failed or broke.

allure-pytest follows every fixture of every test: before the setup it opens a
container and a "before" record per fixture, wraps the fixture's finalizers,
and after each phase walks all of the test's fixtures to link them to it. With
the suite's inputs as fixtures (the host, its demand, its supply, the verdict
…) that is about 26 fixtures per host, and the bookkeeping costs more of a
run's CPU than writing the results (measured: about 2.5 ms of the 7 ms Allure
costs per host). A fixture that passed says nothing its test's result does not,
and one that skipped the check (a check that does not apply) says what the
check's skipped result says; so for the suite's runs allure-pytest is told to
follow no fixture, and a fixture whose setup failed or broke (a check that
could not judge: its ERROR) gets its container, with its error, linked to the
test, as allure-pytest would have written it. What a fixture attaches, or a
step it opens, lands on its test's result.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import allure_commons
import pytest
from allure_commons import utils as commons_utils
from allure_commons.model2 import Status, TestBeforeResult, TestResult, TestResultContainer
from allure_pytest import utils as pytest_utils

# allure's helpers, untyped: the clock and uuids its files use, and its outcome -> status mapping.
_allure_commons: Any = commons_utils
_allure_pytest: Any = pytest_utils

ALLURE_LISTENER = "allure_listener"

#: allure-pytest's hooks that follow fixtures (its listener's attributes), and the method that links them.
FIXTURE_HOOKS = ("pytest_fixture_setup", "pytest_fixture_post_finalizer")
LINK_FIXTURES = "_update_fixtures_children"


def failed_fixture_container(name: str, test_uuid: str, outcome: Any, start: int) -> TestResultContainer | None:
    """The container allure-pytest writes for a fixture whose setup ended with ``outcome``; None when the
    fixture passed or skipped its test (the test's own result says so).

    >>> from types import SimpleNamespace
    >>> passed = SimpleNamespace(excinfo=None)
    >>> failed_fixture_container("host", "t1", passed, 1) is None
    True
    >>> try:
    ...     raise RuntimeError("no buddyinfo")
    ... except RuntimeError as error:
    ...     broken = SimpleNamespace(excinfo=(RuntimeError, error, error.__traceback__))
    >>> container = failed_fixture_container("demand", "t1", broken, 1)
    >>> container.children, container.befores[0].name, container.befores[0].status
    (['t1'], 'demand', 'broken')
    >>> container.befores[0].statusDetails.message
    'RuntimeError: no buddyinfo\\n'
    """
    status = _allure_pytest.get_outcome_status(outcome)
    if status in (Status.PASSED, Status.SKIPPED):
        return None
    stop = _allure_commons.now()
    before = TestBeforeResult(
        name=name,
        status=status,
        statusDetails=_allure_pytest.get_outcome_status_details(outcome),
        start=start,
        stop=stop,
    )
    return TestResultContainer(
        uuid=_allure_commons.uuid4(), children=[test_uuid], befores=[before], start=start, stop=stop
    )


class FailedFixtures:
    """Stands in for allure-pytest's fixture hooks: writes a container only for a fixture that failed or
    broke, linked to the test being set up."""

    def __init__(self, reporter: Any) -> None:
        self._reporter = reporter

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, None]:
        """Set the fixture up; when it raised, report its container (see :func:`failed_fixture_container`)."""
        start = _allure_commons.now()
        outcome = yield
        if outcome.excinfo is None:
            return
        test = self._reporter.get_last_item(TestResult)
        name = getattr(fixturedef.func, "__allure_display_name__", fixturedef.argname)
        container = None if test is None else failed_fixture_container(name, test.uuid, outcome, start)
        if container is not None:
            allure_commons.plugin_manager.hook.report_container(container=container)


def follow_failed_fixtures_only(config: pytest.Config) -> bool:
    """While allure-pytest records, make it follow no fixture but a failed one (see the module); True when done.

    When allure-pytest is not recording, or its listener is not the one allure-pytest 2 registers, nothing
    changes and every fixture is followed as before.

    >>> from types import SimpleNamespace
    >>> no_allure = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    >>> follow_failed_fixtures_only(no_allure)  # a stand-in for pytest's config without --alluredir
    False
    """
    manager = config.pluginmanager
    listener: Any = manager.get_plugin(ALLURE_LISTENER)
    reporter = getattr(listener, "allure_logger", None)
    if reporter is None or not all(hasattr(listener, name) for name in (*FIXTURE_HOOKS, LINK_FIXTURES)):
        return False
    manager.unregister(listener)
    # Instance attributes shadow the listener's methods; pytest reads hooks from the instance when registering.
    listener.pytest_fixture_setup = FailedFixtures(reporter).pytest_fixture_setup
    listener.pytest_fixture_post_finalizer = None
    setattr(listener, LINK_FIXTURES, _link_no_fixture)
    manager.register(listener, ALLURE_LISTENER)
    return True


def _link_no_fixture(item: Any) -> None:
    """allure-pytest's link of a test to its fixtures' containers: there are none to link."""
