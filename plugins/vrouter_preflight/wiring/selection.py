"""Hosts the operator's own selection left without a check are not reported (``-k``, ``-m``, ``--deselect``).

``--limit`` and ``--shard`` choose hosts before anything is gathered; pytest's
``-k``, ``-m`` and ``--deselect`` choose test items, which can leave a host with
no check at all (``-k compute-17`` re-checks one host of a region). Nothing was
asked of such a host, so it is left out of the JSON summary, the per-host table
and the metrics, like a host ``--limit`` leaves out — not an
ERROR that nothing caused, next to an exit status of 0. Two kinds of host are
never left out: one that could not be gathered (unreachable stays ERROR whatever
was selected), and one whose checks were selected but never reported (``-x``, an
interrupt, a crashed xdist worker: those stay ERROR too). Only hosts that the
process which collected them knows to have no check are left out; an xdist
worker sends its list to the main process with its hosts' results.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from vrouter_preflight.wiring.items import host_of
from vrouter_preflight.wiring.stash import FLEET, UNSELECTED_HOSTS


def hosts_without_a_check(host_names: Iterable[str], selected: Iterable[str], unreachable: Iterable[str]) -> set[str]:
    """The hosts with no selected check, except those that could not be gathered.

    >>> sorted(hosts_without_a_check(["c0", "c1", "c2", "gone"], selected=["c1"], unreachable=["gone"]))
    ['c0', 'c2']
    """
    kept = set(selected) | set(unreachable)
    return {name for name in host_names if name not in kept}


def unselected_hosts(config: pytest.Config) -> set[str]:
    """The hosts this process (or, in the main process of ``-n N``, a worker) found without a check."""
    return config.stash.get(UNSELECTED_HOSTS, set())


def reported_host_names(config: pytest.Config) -> tuple[str, ...]:
    """The inventory's hosts, in its order, that the end-of-run reports show: all but the unselected ones."""
    unselected = unselected_hosts(config)
    return tuple(name for name in config.stash[FLEET].host_names if name not in unselected)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Once every deselection is done (the operator's and the suite's): which hosts kept no check."""
    fleet = session.config.stash[FLEET]
    selected = {name for name in map(host_of, session.items) if name is not None}
    unreachable = [name for name in fleet.host_names if fleet.error_of(name) is not None]
    session.config.stash[UNSELECTED_HOSTS] = hosts_without_a_check(fleet.host_names, selected, unreachable)
