"""Host checks: can each compute be reached, and does every kernel file parse?

Check ids: ``reachable``, ``facts_parse``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from plugins.fleet import HostUnderTest

# Files every later check stands on; the rest may be absent on some kernels.
REQUIRED_FILES = ("/proc/cmdline", "/proc/meminfo", "/proc/buddyinfo")


@pytest.mark.reachability
def test_reachable(host: HostUnderTest) -> None:
    """The host answered and its facts were gathered (an unreachable host is an ERROR here)."""
    facts = host.facts
    assert facts.kernel_release, f"{host.name}: /proc/sys/kernel/osrelease was not readable"


def test_facts_parse(host: HostUnderTest, record_property: Callable[[str, object], None]) -> None:
    """The files the gate needs exist, and every captured kernel file parses strictly.

    Files the host does not have or would not let us read (``/proc/pagetypeinfo``
    as non-root on Linux >= 5.4, ``/sys/module/vrouter`` without the module) are
    recorded in the JUnit properties as ``unavailable``, not counted as zero.
    """
    facts = host.facts
    record_property("unavailable", "; ".join(u.describe() for u in facts.unavailable))
    missing = [path for path in REQUIRED_FILES if facts.text(path) is None]
    problems = [f"{path}: {facts.captures[path].status if path in facts.captures else 'absent'}" for path in missing]
    problems += [str(error) for error in facts.parse_errors()]
    assert not problems, f"{host.name}: facts unusable: " + "; ".join(problems)
