"""The run's long-lived objects are taken out of the cycle collector's scans (``gc.freeze``).

What a run builds before its first check — the imported modules, every host's
gathered files and parsed facts, the collected check items — lives to the end
of the run. CPython's cycle collector nevertheless walks all of it at every
full collection: a process checking 500 snapshot hosts spent 8-10 % of its
CPU in full collections (timed with ``gc.callbacks``). Freezing once the
session has started and once collection has finished moves those objects to
the permanent generation:
reference counting still frees them, the cycle collector no longer rescans
them. They are not unfrozen: the run ends with them, and unfreezing would buy
one more full scan at exit.
"""

from __future__ import annotations

import gc

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """After the plugins' set-up (and, in an xdist worker, its gather): freeze what exists now."""
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """After collection (a process without xdist gathers before it): freeze the items and facts too."""
    gc.freeze()
