"""A check's record, read from pytest's report of its test: host, check id, node, outcome, message.

The JSON summary, the terminal table and the certificates all read check
results this way, from the ``user_properties`` the wiring puts on every check
item and the one-line message of a failure.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.check_ids import FAILURES
from vrouter_preflight.records import CheckRecord

#: Worse outcomes replace better ones when a check reports more than once (a teardown error after a pass).
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
#: Exception types pytest writes before a failure's message; the records keep the operator's message alone.
_FAILURE_TYPES = frozenset({"AssertionError", "Failed", *(f"{t.__module__}.{t.__qualname__}" for t in FAILURES)})


def outcome_of(report: pytest.TestReport) -> str | None:
    """passed/failed for the call, error for a failed setup or teardown, skipped; None for a passing setup.

    >>> def report(when, outcome):
    ...     return pytest.TestReport("checks/test_reach.py::test_reachable[c0]", ("x", 0, "x"), {}, outcome, None, when)
    >>> [outcome_of(report(w, o)) for w, o in [("setup", "passed"), ("call", "failed"), ("teardown", "failed")]]
    [None, 'failed', 'error']
    >>> outcome_of(report("setup", "skipped"))
    'skipped'
    """
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    return None


def first_line(report: pytest.TestReport) -> str:
    """The one-line message of a failed, erroring or skipped report, without the failure's type.

    >>> def report(outcome, longrepr):
    ...     return pytest.TestReport("checks/test_memory.py::test_x[c0]", ("x", 0, "x"), {}, outcome, longrepr, "call")
    >>> first_line(report("failed", "AssertionError: c0: node 1 has 0 free 1G pages, needs 1\\nassert 0 >= 1"))
    'c0: node 1 has 0 free 1G pages, needs 1'
    >>> first_line(report("failed", "vrouter_preflight.check_ids.HugepageMisconfigured: c0: node 1: 0 free 1G"))
    'c0: node 1: 0 free 1G'
    >>> first_line(report("skipped", ("checks/test_memory.py", 40, "Skipped: vrouter not loaded")))
    'vrouter not loaded'
    """
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, "Skipped: reason")
        text = str(longrepr[2]).removeprefix("Skipped: ")
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", None) or longrepr or "")
    lines = text.strip().splitlines()
    if not lines:
        return ""
    kind, separator, message = lines[0].partition(": ")
    return message if separator and kind in _FAILURE_TYPES else lines[0]


def record_of(report: pytest.TestReport) -> CheckRecord | None:
    """The check record a report carries (host, check id, node, outcome, message, details), or None.

    >>> props = [("host", "c0"), ("check", "hugepages_per_node"), ("node", 1), ("message", "14 free 1G pages")]
    >>> def report(when):
    ...     return pytest.TestReport("t[c0-1]", ("x", 0, "x"), {}, "passed", None, when, user_properties=props)
    >>> record_of(report("call"))  # doctest: +NORMALIZE_WHITESPACE
    CheckRecord(host='c0', check_id='hugepages_per_node', node=1, outcome='passed',
                message='14 free 1G pages', details=None)
    >>> record_of(report("setup")) is None  # a passing setup carries no outcome
    True
    """
    props = dict(report.user_properties)
    host, check = props.get("host"), props.get("check")
    outcome = outcome_of(report)
    if not isinstance(host, str) or not isinstance(check, str) or outcome is None:
        return None
    node = props.get("node")
    message = str(props.get("message", "")) if outcome == "passed" else first_line(report)
    details = props.get("details")
    return CheckRecord(
        host,
        check,
        node if isinstance(node, int) else None,
        outcome,
        message,
        details if isinstance(details, dict) else None,
    )


def keep_worse(records: dict[str, CheckRecord], nodeid: str, record: CheckRecord) -> None:
    """Store ``record`` unless the test already reported a worse outcome (a teardown error after a pass).

    >>> records: dict[str, CheckRecord] = {}
    >>> for outcome in ("passed", "error", "passed"):  # call passed, teardown errored, a later pass
    ...     keep_worse(records, "t[c0]", CheckRecord("c0", "reachable", None, outcome, ""))
    >>> records["t[c0]"].outcome
    'error'
    """
    previous = records.get(nodeid)
    if previous is None or _RANK[record.outcome] > _RANK[previous.outcome]:
        records[nodeid] = record
