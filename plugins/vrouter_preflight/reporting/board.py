"""The change board's view of a run: per host a verdict, what failed and the recommended action.

Pure functions of the JSON summary (:mod:`vrouter_preflight.reporting.summary`):
:func:`host_overviews` reads it, :func:`overview_html` writes the page a
non-engineer reads, and :func:`overview_result` turns a host's overview into
one Allure result (suite "Host overview", a result per host, red when the host
is held back), built with allure-commons' own model, that ``make report`` adds
next to the checks' results.

The overview's message starts with :data:`HOST_VERDICT_PREFIX` so that
:data:`~vrouter_preflight.reporting.allure_report.CATEGORIES` files it under "Hosts held
back"; the checks' own categories match a failure's type, which no overview has.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from allure_commons import model2
from allure_commons.model2 import Status

from vrouter_preflight.check_ids import CheckId

#: How every overview's message (its headline) starts.
HOST_VERDICT_PREFIX = "Host verdict "
#: What a board member should have done, per check that did not pass (engineers find the detail in the message).
ACTIONS: Mapping[CheckId, str] = {
    CheckId.REACHABLE: (
        "Restore access to the host (network, SSH key, host key, sudo) and run the preflight again; "
        "nothing on this host was judged."
    ),
    CheckId.FACTS_PARSE: (
        "The host's kernel files could not be read or parsed: give the preflight access to them and run it again."
    ),
    CheckId.CMDLINE_HUGEPAGES: (
        "The boot-time hugepage reservation differs from the plan: correct the kernel command line "
        "and reboot the host before the upgrade."
    ),
    CheckId.HUGEPAGES_PER_NODE: (
        "Too few free 1G hugepages on a NUMA node: free them (stop what holds them) or reserve "
        "more at boot before the upgrade."
    ),
    CheckId.HUGEPAGE_BACKING: (
        "vRouter's tables cannot be put on hugepages: add the hugetlbfs mount or reserve the pages "
        "named in the message before the upgrade."
    ),
    CheckId.CONTIGUOUS_BLOCKS: (
        "Do not reload vRouter on this host yet: its memory is too fragmented for vRouter's tables. "
        "Release the 1G hugepages named below first (the preflight's destructive stage can do it and give them back) "
        "or reboot the host."
    ),
    CheckId.TRIAL_ALLOCATION: (
        "The kernel refused the trial allocation vRouter's reload would make: free hugepages as the "
        "message says before the upgrade."
    ),
    CheckId.REMEDIATION: (
        "The remediation did not prove a healthy reload: keep this host out of the change and have an "
        "engineer read its journal."
    ),
}
DEFAULT_ACTION = "Have an engineer read the message below and correct what it names before the upgrade."
PASS_ACTION = "No action: the host is ready for the change."
NEAR_ACTION = (
    "Ready for the change, but close to the limit: a busier day may leave too few free 4 MiB blocks for a "
    "reload; watch it (see the pictures) and run the preflight again right before the change."
)
ERROR_ACTION = "The check could not judge this host (this is not a pass): correct what it names and run again."

#: A passing host is "close to the limit" when the 4 MiB blocks a reload could take exceed what it needs by fewer
#: than this many blocks, or fewer than NEAR_FRACTION of the need: one reload of a busier day may not fit.
NEAR_BLOCKS = 8
NEAR_FRACTION = 0.25

STATUS = {"pass": Status.PASSED, "fail": Status.FAILED, "error": Status.BROKEN}
WORD = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}


@dataclass(frozen=True)
class Finding:
    """A check that did not pass on a host: what it is, the outcome, the operator's message and the action."""

    check: str
    node: int | None
    outcome: str
    message: str
    action: str

    @property
    def label(self) -> str:
        """The check id, with the NUMA node when the finding is per node: ``hugepages_per_node (node 1)``."""
        return self.check if self.node is None else f"{self.check} (node {self.node})"


@dataclass(frozen=True)
class HostOverview:
    """One host as the board sees it."""

    host: str
    verdict: str
    counts: Mapping[str, int]
    findings: tuple[Finding, ...]
    not_run: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    supply: Mapping[str, Any] | None = field(default=None, compare=False)
    demand: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def headroom(self) -> tuple[int, int] | None:
        """(spare, needed): the 4 MiB blocks a reload could take beyond what it needs, and what it needs;
        None when the summary does not say (no demand, no usable blocks).

        >>> HostOverview("c0", "pass", {}, (), supply={"usable_chunks": {"0": 30, "1": 20}},
        ...              demand={"chunk_order": 10, "buddy_blocks": {"10": 46}}).headroom
        (4, 46)
        """
        usable = (self.supply or {}).get("usable_chunks")
        order = (self.demand or {}).get("chunk_order")
        needed = ((self.demand or {}).get("buddy_blocks") or {}).get(str(order))
        if not usable or needed is None:
            return None
        return sum(int(n) for n in usable.values()) - int(needed), int(needed)

    @property
    def near(self) -> bool:
        """A passing host close to the limit (see :data:`NEAR_BLOCKS`, :data:`NEAR_FRACTION`).

        >>> def host(usable: int) -> HostOverview:
        ...     return HostOverview("c0", "pass", {}, (), supply={"usable_chunks": {"0": usable}},
        ...                         demand={"chunk_order": 10, "buddy_blocks": {"10": 46}})
        >>> host(50).near, host(200).near
        (True, False)
        """
        headroom = self.headroom
        if self.verdict != "pass" or headroom is None:
            return False
        spare, needed = headroom
        return spare < max(NEAR_BLOCKS, NEAR_FRACTION * needed)

    @property
    def pictured(self) -> bool:
        """The change board gets pictures of this host: it is held back, or close to the limit.

        >>> HostOverview("c0", "fail", {}, ()).pictured, HostOverview("c1", "pass", {}, ()).pictured
        (True, False)
        """
        return self.verdict != "pass" or self.near

    @property
    def headline(self) -> str:
        """One line: the verdict and what failed (or how close to the limit a passing host is).

        >>> HostOverview("c0", "pass", {"passed": 6}, ()).headline
        'Host verdict PASS: c0 passed all 6 checks'
        """
        word = WORD.get(self.verdict, self.verdict.upper())
        judged = sum(self.counts.get(o, 0) for o in ("passed", "failed", "error"))
        if self.error is not None:
            return f"{HOST_VERDICT_PREFIX}{word}: {self.host} could not be checked: {self.error}"
        if not self.findings:
            line = f"{HOST_VERDICT_PREFIX}{word}: {self.host} passed all {judged} checks"
            if self.near and self.headroom is not None:
                spare, needed = self.headroom
                line += f"; close to the limit: {spare} spare 4 MiB blocks beyond the {needed} a reload needs"
            return line
        failed = ", ".join(finding.label for finding in self.findings)
        return (
            f"{HOST_VERDICT_PREFIX}{word}: {self.host}: {len(self.findings)} of {judged} checks did not pass: {failed}"
        )

    @property
    def actions(self) -> tuple[str, ...]:
        """The recommended actions, each once, in the order of the findings."""
        if self.error is not None:
            return (ACTIONS[CheckId.REACHABLE],)
        if not self.findings:
            return (NEAR_ACTION,) if self.near else (PASS_ACTION,)
        return tuple(dict.fromkeys(finding.action for finding in self.findings))


_TO_FIX = re.compile(r"to fix: ([^;]+)")


def action_for(check: str, outcome: str, message: str) -> str:
    """The board's action for one check that did not pass, with the check's own "to fix" when it names one.

    >>> message = "c0: 41 find no block; to fix: free 1 × 1G page on node 0; per zone: …"
    >>> action_for(CheckId.CONTIGUOUS_BLOCKS.id, "failed", message).split(". ")[-1]
    'To fix: free 1 × 1G page on node 0.'
    >>> action_for(CheckId.REACHABLE.id, "error", "c0: connection refused") == ACTIONS[CheckId.REACHABLE]
    True
    """
    known = CheckId.named(check)
    if outcome == "error":
        base = ACTIONS[CheckId.REACHABLE] if known is CheckId.REACHABLE else ERROR_ACTION
    else:
        base = ACTIONS.get(known, DEFAULT_ACTION) if known is not None else DEFAULT_ACTION
    match = _TO_FIX.search(message)
    return f"{base} To fix: {match.group(1).strip()}." if match else base


def host_overviews(summary: Mapping[str, Any]) -> list[HostOverview]:
    """Every host of a summary, in inventory order, with the findings of its checks that did not pass.

    >>> s = {"hosts": {"c0": {"verdict": "fail", "error": None, "counts": {"passed": 1, "failed": 1},
    ...       "checks": [{"id": "reachable", "node": None, "outcome": "passed", "message": "ok"},
    ...                  {"id": "hugepages_per_node", "node": 1, "outcome": "failed", "message": "c0: node 1 …"}]}}}
    >>> [o.headline for o in host_overviews(s)]
    ['Host verdict FAIL: c0: 1 of 2 checks did not pass: hugepages_per_node (node 1)']
    """
    overviews = []
    for name, host in (summary.get("hosts") or {}).items():
        findings = tuple(
            Finding(
                str(check["id"]),
                check.get("node"),
                str(check["outcome"]),
                str(check.get("message") or ""),
                action_for(str(check["id"]), str(check["outcome"]), str(check.get("message") or "")),
            )
            for check in host.get("checks") or []
            if check.get("outcome") in ("failed", "error")
        )
        overviews.append(
            HostOverview(
                host=name,
                verdict=str(host.get("verdict")),
                counts=dict(host.get("counts") or {}),
                findings=findings,
                not_run=tuple((str(n["id"]), str(n["reason"])) for n in host.get("not_run") or []),
                error=host.get("error"),
                supply=host.get("supply"),
                demand=host.get("demand"),
            )
        )
    return overviews


_COLOUR = {"pass": "#1e8e3e", "near": "#f9ab00", "fail": "#d93025", "error": "#e37400"}


def overview_html(overview: HostOverview, *, inventory: str = "", generated_at: str = "") -> str:
    """The host's overview page: a verdict banner, the actions, a table of what did not pass.

    >>> page = overview_html(HostOverview("c0", "pass", {"passed": 6}, ()))
    >>> "PASS" in page and "No action" in page
    True
    """
    esc = html.escape
    colour = _COLOUR.get("near" if overview.near else overview.verdict, "#5f6368")
    counts = ", ".join(f"{n} {o}" for o, n in overview.counts.items() if n)
    parts = [
        '<div style="font:14px sans-serif;line-height:1.4">',
        f'<p style="font-size:18px;margin:0 0 6px"><b>{esc(overview.host)}</b> '
        f'<span style="background:{colour};color:#fff;padding:2px 8px;border-radius:3px">'
        f"{esc(WORD.get(overview.verdict, overview.verdict.upper()))}</span></p>",
        f"<p>{esc(counts or 'no checks recorded')}"
        + (f" · inventory {esc(inventory)}" if inventory else "")
        + (f" · run {esc(generated_at)}" if generated_at else "")
        + "</p>",
        "<h4>Recommended action</h4><ul>",
        *(f"<li>{esc(action)}</li>" for action in overview.actions),
        "</ul>",
    ]
    if overview.error is not None:
        parts.append(f"<p><b>Not reached:</b> {esc(overview.error)}</p>")
    if overview.findings:
        parts.append("<h4>What did not pass</h4><ul>")
        parts += [
            f"<li><b>{esc(f.label)}: {esc(f.outcome.upper())}</b> — {esc(f.message)}</li>" for f in overview.findings
        ]
        parts.append("</ul>")
    if overview.not_run:
        parts.append("<h4>Not run</h4><ul>")
        parts += [f"<li>{esc(check)}: {esc(why)}</li>" for check, why in overview.not_run]
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def _stable_id(*parts: str) -> str:
    return hashlib.md5("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


def overview_result(
    overview: HostOverview,
    *,
    uuid: str,
    start_ms: int,
    attachments: Sequence[model2.Attachment] = (),
    inventory: str = "",
    generated_at: str = "",
) -> model2.TestResult:
    """The Allure result of a host's overview, in allure-commons' model (its file logger writes it).

    ``historyId`` depends on the host only, so the report's history and
    trend follow a host from run to run.

    >>> r = overview_result(HostOverview("c0", "error", {}, (), error="connection refused"), uuid="u", start_ms=0)
    >>> r.status, r.name, r.statusDetails.message
    ('broken', 'c0: ERROR — could not be checked', 'Host verdict ERROR: c0 could not be checked: connection refused')
    """
    word = WORD.get(overview.verdict, overview.verdict.upper())
    if overview.error is not None:
        name = f"{overview.host}: {word} — could not be checked"
    elif overview.findings:
        name = f"{overview.host}: {word} — {', '.join(f.label for f in overview.findings)}"
    else:
        name = f"{overview.host}: {word} — ready for the change"
    status = STATUS.get(overview.verdict, Status.UNKNOWN)
    labels = {
        "parentSuite": "Change board",
        "suite": "Host overview",
        "feature": "Host overview",
        "story": "host_overview",
        "check_id": "host_overview",
        "severity": "blocker" if status != Status.PASSED else "normal",
    }
    return model2.TestResult(
        uuid=uuid,
        historyId=_stable_id("host_overview", overview.host),
        testCaseId=_stable_id("host_overview"),
        fullName=f"host_overview#{overview.host}",
        name=name,
        status=status,
        statusDetails=None
        if status == Status.PASSED
        else model2.StatusDetails(message=overview.headline, trace="\n".join(overview.actions)),
        stage="finished",
        descriptionHtml=overview_html(overview, inventory=inventory, generated_at=generated_at),
        start=start_ms,
        stop=start_ms,
        parameters=[model2.Parameter(name="host", value=overview.host)],
        attachments=list(attachments),
        labels=[model2.Label(name=key, value=value) for key, value in labels.items()],
    )
