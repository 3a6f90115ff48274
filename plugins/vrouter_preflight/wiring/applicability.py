"""A check that does not apply to a host is SKIPPED before its inputs are set up.

A check names why it may not apply with ``@check(…, not_applicable=…)``
(:func:`~vrouter_preflight.wiring.items.check`); a check that judges the kernel
module's tables asks for the ``kernel_vrouter`` input, which does not apply to a
DPDK vRouter. Both used to be found only once the check's inputs were set up,
its fixtures each a hook call and an Allure record: on a fleet where three of a
host's seven checks do not apply that was most of what those three cost. Here
the reason is asked for first, from the host's facts, and the check is skipped
with exactly the message, title and labels its own code gives it.

Nothing changes in what is reported: the same functions decide in the check
(or its input) when they are reached there. An input that cannot be had (a
check that cannot judge: ERROR) is never hidden by a skip: when a reason
cannot be computed, no early decision is made and the check's inputs report
the error as before. A destructive check is left to its inputs: a DPDK host
still takes its turn in the rollout.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.errors import PreflightError
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.wiring.check_inputs import KERNEL_VROUTER, dpdk_not_applicable
from vrouter_preflight.wiring.hosts import describe_host_check
from vrouter_preflight.wiring.items import host_of, node_of, not_applicable_of
from vrouter_preflight.wiring.stash import FLEET
from vrouter_preflight.wiring.verdict import Verdict


def why_not_applicable(item: pytest.Item, host: HostUnderTest) -> str | None:
    """Why check ``item`` does not apply to ``host``, in the order its inputs would find it; None when it
    applies or when the reason cannot be computed (its inputs then report why, as an ERROR).

    >>> from types import SimpleNamespace
    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.pool import TransportPool
    >>> dpdk = HostUnderTest(HostSpec(name="c0", transport="local", vrouter_mode="dpdk"), {}, TransportPool())
    >>> item = SimpleNamespace(fixturenames=["host", "kernel_vrouter", "verdict"], own_markers=[])
    >>> why_not_applicable(item, dpdk)[:40]
    'not applicable: vRouter runs in DPDK mod'
    """
    reason = dpdk_not_applicable(host) if KERNEL_VROUTER in getattr(item, "fixturenames", ()) else None
    decide = not_applicable_of(item)
    if reason is None and decide is not None:
        try:
            reason = decide(host)
        except (PreflightError, FactParseError, ValueError):
            return None  # the check's inputs raise it again, and report it
    return reason


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a check that does not apply before pytest sets up its inputs."""
    name = host_of(item)
    if name is None or item.get_closest_marker("destructive") is not None:
        return
    fleet = item.config.stash[FLEET]
    if fleet.error_of(name) is not None:
        return
    reason = why_not_applicable(item, fleet.host(name))
    if reason is not None:
        __tracebackhide__ = True
        describe_host_check(item, name)
        Verdict(item, name, node_of(item)).not_applicable(reason)
