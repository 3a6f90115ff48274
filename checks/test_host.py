"""Host checks: can each compute be reached, and does every kernel file parse?

Check ids: ``reachable``, ``facts_parse``.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.wiring.allure_attach import table_text
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict

# Files every later check stands on; the rest may be absent on some kernels.
REQUIRED_FILES = ("/proc/cmdline", "/proc/meminfo", "/proc/buddyinfo")
# The raw files the gate judges from: attached once per host, to its reachable check.
RAW_FILES = ("/proc/cmdline", "/proc/buddyinfo", "/proc/zoneinfo")


@check(CheckId.REACHABLE)
@pytest.mark.reachability
def test_reachable(host: HostUnderTest, verdict: Verdict) -> None:
    """The host answered and its facts were gathered (an unreachable host is an ERROR here)."""
    facts = host.facts
    os_name = facts.os_release.pretty_name if facts.os_release is not None else None
    memory = facts.meminfo.kib("MemTotal") if facts.meminfo is not None else None
    rows: list[list[object]] = [
        ["kernel", facts.kernel_release],
        ["os", os_name],
        ["page size", facts.page_size],
        ["NUMA nodes", list(facts.numa_nodes)],
        ["MemTotal kB", memory],
        ["default hugepage kB", facts.default_hugepage_kib],
        ["vrouter module", facts.vrouter_version or "not loaded"],
        ["pdpe1gb (1G pages)", None if facts.cpu_flags is None else "pdpe1gb" in facts.cpu_flags],
    ]
    raw = "".join(f"\n==> {path} <==\n{facts.text(path) or facts.why_missing(path)}\n" for path in RAW_FILES)
    verdict.attach_text("facts and raw files", table_text(["fact", "value"], rows) + raw)
    verdict.conclude(
        facts.kernel_release is not None,
        f"reached over {host.spec.transport}: kernel {facts.kernel_release or 'unknown (osrelease unreadable)'}, "
        f"{os_name or 'unknown OS'}, NUMA nodes {list(facts.numa_nodes)}, page size {facts.page_size}",
    )


@check(CheckId.FACTS_PARSE)
def test_facts_parse(host: HostUnderTest, verdict: Verdict) -> None:
    """The files the gate needs exist, and every captured kernel file parses strictly.

    Files the host does not have or would not let us read (``/proc/pagetypeinfo``
    as non-root on Linux >= 5.4, ``/sys/module/vrouter`` without the module) are
    listed as ``unavailable`` in the report and the JUnit properties, not counted as zero.
    """
    facts = host.facts
    unavailable = "; ".join(u.describe() for u in facts.unavailable)
    verdict.item.user_properties.append(("unavailable", unavailable))
    missing = [path for path in REQUIRED_FILES if facts.text(path) is None]
    problems = [facts.why_missing(path) for path in missing]
    problems += [str(error) for error in facts.parse_errors()]
    if problems:
        if unavailable:  # a pass says them in its title; a failure's title says what is wrong
            verdict.attach_text("unavailable facts", unavailable)
        verdict.conclude(False, "facts unusable: " + "; ".join(problems))
    readable = sum(1 for capture in facts.captures.values() if capture.ok)
    verdict.conclude(
        True, f"{readable} captured files parse" + (f"; unavailable: {unavailable}" if unavailable else "")
    )
