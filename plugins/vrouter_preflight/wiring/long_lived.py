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

While the checks run, what they keep (reports, results, the JUnit tree,
pytest's terminal statistics: about 40 objects per check) piles up after the
last freeze, and each full collection walks the pile again: at 1000 hosts
without xdist, seven full collections during the checks and pytest's own two
at exit took 1.05 s of a run's 17 s of CPU (0.14 s with the freezes below;
timed with ``gc.callbacks``). So from collection's end to the
run's end every full collection is followed by a freeze of what survived it;
the next walks only what came since. What a check still holds at that moment
and drops later as a cycle is kept to the end: at most one check's worth per
full collection, a handful per run.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """After the plugins' set-up (and, in an xdist worker, its gather): freeze what exists now."""
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """After collection (a process without xdist gathers before it): freeze the items and facts too, and from
    now on what survives each full collection."""
    gc.freeze()
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The run is over: collections are the interpreter's own again."""
    if freeze_survivors in gc.callbacks:
        gc.callbacks.remove(freeze_survivors)


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A ``gc.callbacks`` callback: once a full collection (generation 2) has ended, freeze what survived it.

    >>> import gc
    >>> before = gc.get_freeze_count()
    >>> gc.callbacks.append(freeze_survivors)
    >>> try:
    ...     _ = gc.collect()
    ... finally:
    ...     gc.callbacks.remove(freeze_survivors)
    >>> gc.get_freeze_count() > before
    True
    >>> gc.unfreeze()  # a doctest leaves the interpreter as it found it
    """
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()
