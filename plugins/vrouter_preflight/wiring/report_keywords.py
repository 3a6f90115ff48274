"""A check's test reports carry the names of its marks as keywords, not every name above it in the tree.

pytest copies all of an item's keywords into each of its three reports: the
test's name, its parameter id, its module, every directory from the run's
directory down to the installed package (``site-packages``, ``lib``, ``.venv``
…) and the check function's attributes. With ``-n N`` every report travels
from its worker to the main process, so a host's 7 checks × 3 reports moved
some 5 KB of those names (a third of the reports' size) that no reporter reads.
What reporters do read stays: the marks (terminal's folded skips look for
``skip`` and ``pytestmark``, ``-m`` users for the mark names). Items that are
not checks of an inventory host (an operator's own tests in the same run) are
left as pytest makes them.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from vrouter_preflight.wiring.items import host_of

#: A keyword pytest puts on items of a module with a ``pytestmark``; terminal's skip folding reads it.
MODULE_MARKS = "pytestmark"


def mark_keywords(item: Any) -> dict[str, int]:
    """The keywords a check's report keeps: its marks' names (and ``pytestmark`` when its module has one).

    >>> from types import SimpleNamespace
    >>> marks = [pytest.mark.xdist_group("c0").mark, pytest.mark.live_only.mark]
    >>> item = SimpleNamespace(iter_markers=lambda: iter(marks), keywords={"test_x[c0]": 1, "pytestmark": 1, "lib": 1})
    >>> mark_keywords(item)
    {'xdist_group': 1, 'live_only': 1, 'pytestmark': 1}
    """
    keywords = dict.fromkeys((mark.name for mark in item.iter_markers()), 1)
    if MODULE_MARKS in item.keywords:
        keywords[MODULE_MARKS] = 1
    return keywords


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if host_of(item) is not None:
        report.keywords = mark_keywords(item)
    return report
