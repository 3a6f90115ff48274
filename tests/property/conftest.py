"""Hypothesis settings for the property tests, and the count of examples each test ran.

Two profiles, chosen with ``VRPF_HYPOTHESIS_PROFILE`` (default ``ci``):

* ``ci`` -- what ``make test`` and CI run: a fixed budget per test, derandomized (the same examples on every
  machine and every run, so a failure in CI fails the same way on a laptop), no example database.
* ``long`` -- the same properties with many more examples and a random seed, for a hunt by hand:
  ``VRPF_HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/property``.

The deadline is generous on purpose: it is there to turn a parse that takes seconds on one small input (a
regular expression that backtracks, a loop that never ends) into a failure naming that input, not to time
anything; the linear-time property (test_linear_time.py) counts work instead of timing it.

At the end of the session the number of examples Hypothesis ran for each test is printed (from Hypothesis's
own statistics: every test case, and the valid ones), with the totals. Under pytest-xdist (``-n``) each
worker counts its own tests and the table is not printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.statistics import collector as _collector

PROFILE_VARIABLE = "VRPF_HYPOTHESIS_PROFILE"
CI_EXAMPLES = 150
LONG_EXAMPLES = 5000

_COMMON: dict[str, Any] = {
    "database": None,
    "deadline": timedelta(seconds=5),
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=LONG_EXAMPLES, derandomize=False, **_COMMON)
_PROFILE = os.environ.get(PROFILE_VARIABLE, "ci")
if _PROFILE not in ("ci", "long"):
    raise pytest.UsageError(f"{PROFILE_VARIABLE}={_PROFILE!r}: expected 'ci' or 'long'")
settings.load_profile(_PROFILE)

#: Hypothesis hands each run's statistics to the callback this holds (typed for ``None`` only).
collector: Any = _collector

#: node id -> (test cases run, of which valid: the body ran to its end on data it accepted).
EXAMPLES_RUN: dict[str, tuple[int, int]] = {}


def examples_in(statistics: Any) -> tuple[int, int]:
    """The test cases one Hypothesis run called the test body with, over all its phases, and the valid ones.

    ``invalid`` and ``overrun`` cases stopped while drawing the input (a filter said no, the data ran out).

    >>> examples_in({"generate-phase": {"test-cases": [{"status": "valid"}, {"status": "overrun"}]},
    ...              "shrink-phase": {"test-cases": [{"status": "valid"}]}, "stopped-because": "done"})
    (3, 2)
    """
    cases = [case for key, phase in statistics.items() if key.endswith("-phase") for case in phase["test-cases"]]
    return len(cases), sum(case.get("status") == "valid" for case in cases)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Note the examples of a Hypothesis test; the statistics reach Hypothesis's own plugin as before."""
    passed_on: Callable[[Any], None] | None = collector.value

    def note(statistics: Any) -> None:
        run, valid = examples_in(statistics)
        before = EXAMPLES_RUN.get(item.nodeid, (0, 0))
        EXAMPLES_RUN[item.nodeid] = (before[0] + run, before[1] + valid)
        if passed_on is not None:
            passed_on(statistics)

    with collector.with_value(note):
        yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the examples per test and the total, so the figure can be quoted."""
    if not EXAMPLES_RUN:
        return
    terminalreporter.section(f"hypothesis examples (profile {_PROFILE}): run, valid")
    for nodeid, (run, valid) in sorted(EXAMPLES_RUN.items()):
        terminalreporter.write_line(f"{run:7d} {valid:7d}  {nodeid}")
    run = sum(counts[0] for counts in EXAMPLES_RUN.values())
    valid = sum(counts[1] for counts in EXAMPLES_RUN.values())
    terminalreporter.write_line(f"{run:7d} {valid:7d}  examples run, valid, in {len(EXAMPLES_RUN)} property tests")
