"""Allure while a check runs: its title, parameters and labels, links, attachments and steps.

Checks (through their :class:`~vrouter_preflight.wiring.verdict.Verdict`) call
:func:`describe_check` and the ``attach_*`` helpers; each is a no-op that costs
nothing when Allure is not recording (pytest without ``--alluredir``).
:class:`ChangeTicketOnResults` puts the change ticket (``--change-ticket``) on
every result Allure writes. What is written after the run (environment,
categories) is in :mod:`vrouter_preflight.reporting.allure_report`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import html
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import allure
import allure_commons
from allure_commons.model2 import Label, Link

from vrouter_preflight.remediation import StepFigures
from vrouter_preflight.text_table import render_table

# allure_commons ships py.typed but leaves Dynamic's methods unannotated.
_dynamic: Any = allure.dynamic

SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
#: The label that carries the change ticket on every result (``--change-ticket``).
CHANGE_TICKET_LABEL = "change_ticket"
#: Allure's link type of the change ticket: a ticket in a tracker, not the test case in a test management
#: system (``tms``, which Allure's TMS integrations read as the id of the check itself).
CHANGE_TICKET_LINK_TYPE = "issue"


def allure_active() -> bool:
    """True while allure-pytest records results (pytest ran with ``--alluredir``).

    >>> allure_active()
    False
    """
    return bool(allure_commons.plugin_manager.hook.add_title.get_hookimpls())


class _Shown:
    """A parameter value Allure shows as the text itself.

    allure-pytest writes ``repr()`` of parameter values, so a host name would
    read ``'compute-0'`` with quotes; this object's repr is the bare text.

    >>> repr(_Shown("compute-0"))
    'compute-0'
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def host_parameter(host: str, node: int | None = None) -> None:
    """Set the ``host`` (and ``node``) parameters of the running test, shown without quotes.

    Call it from the ``host`` fixture so that a test that errors before its
    body runs still has a readable host parameter.

    >>> host_parameter("compute-0", node=1)  # not recording: nothing happens
    >>> class Recorder:  # stands in for allure-pytest while it records
    ...     seen: list[str] = []
    ...     @allure_commons.hookimpl
    ...     def add_title(self, test_title: str) -> None: ...
    ...     @allure_commons.hookimpl
    ...     def add_parameter(self, name: str, value: object, excluded: object, mode: object) -> None:
    ...         self.seen.append(f"{name}={value!r}")
    >>> recorder = Recorder()
    >>> _ = allure_commons.plugin_manager.register(recorder)
    >>> try:
    ...     host_parameter("compute-0", node=1)
    ... finally:
    ...     _ = allure_commons.plugin_manager.unregister(recorder)
    >>> recorder.seen
    ['host=compute-0', 'node=1']
    """
    if not allure_active():
        return
    _dynamic.parameter("host", _Shown(host))
    if node is not None:
        _dynamic.parameter("node", node)


def describe_check(
    *,
    title: str,
    host: str,
    node: int | None = None,
    severity: str = "critical",
    check_id: str,
    feature: str | None = None,
) -> None:
    """Give the running check its Allure title, parameters and labels.

    ``host`` and ``node`` become parameters (the report groups a check's
    hosts and nodes under one test case); ``check_id`` becomes the label
    ``check_id`` and the story (Behaviors tab: feature, then check, then one
    result per host); ``severity`` is one of :data:`SEVERITIES`, checked even
    when Allure is not recording so that a typo fails in every run.

    >>> describe_check(title="Free 4 MiB blocks on c0", host="c0", check_id="contiguous_blocks")
    >>> describe_check(title="x", host="c0", check_id="x", severity="high")
    Traceback (most recent call last):
    ...
    ValueError: severity 'high' is not one of ('blocker', 'critical', 'normal', 'minor', 'trivial')
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")
    if not allure_active():
        return
    _dynamic.title(title)
    host_parameter(host, node)
    _dynamic.severity(allure.severity_level(severity))
    _dynamic.label("check_id", check_id)
    _dynamic.story(check_id)
    if feature is not None:
        _dynamic.feature(feature)


def retitle(title: str, *, severity: str | None = None) -> None:
    """Replace the running check's title (and severity), once its result is known.

    >>> retitle("c0: node 1 has 0 free 1G pages, needs 1")
    """
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")
    if not allure_active():
        return
    _dynamic.title(title)
    if severity is not None:
        _dynamic.severity(allure.severity_level(severity))


@contextlib.contextmanager
def figure_step(title: str, before: Mapping[str, Any]) -> Iterator[Any]:
    """One step of the destructive stage as an Allure step, with its before/after figures attached.

    Matches the remediation engine's step hook: it yields the figures object
    whose ``after`` the engine fills.

    >>> with figure_step("release 1G pages", {"node 0 nr": 4}) as figures:
    ...     figures.after["node 0 nr"] = 3
    """
    figures = StepFigures(title, before)
    if not allure_active():
        yield figures
        return
    with allure.step(title):
        try:
            yield figures
        finally:
            attach_html("before → after", figures_table_html(figures.before, figures.after))
            attach_json("before", dict(figures.before))
            attach_json("after", dict(figures.after))


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return to_json_text(value) if isinstance(value, (dict, list, tuple)) else str(value)


def figures_table_html(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """A step's figures as a small HTML table: one row per figure, its value before and after.

    Changed values are bold, so "node 0 nr 170 → 169" stands out for a reader who is no engineer.

    >>> table = figures_table_html({"node 0 nr": 170}, {"node 0 nr": 169, "rc": 0})
    >>> print(table.replace("</tr>", "</tr>\\n"))  # doctest: +ELLIPSIS
    <table ...><tr><th>figure</th><th>before</th><th>after</th></tr>
    <tr><td>node 0 nr</td><td>170</td><td><b>169</b></td></tr>
    <tr><td>rc</td><td>—</td><td><b>0</b></td></tr>
    </table>
    """
    style = 'style="border-collapse:collapse;font:13px sans-serif" border="1" cellpadding="4"'
    rows = ["<tr><th>figure</th><th>before</th><th>after</th></tr>"]
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        shown_new = html.escape(_cell(new)).replace("\n", "<br>")
        if key in after and old != new:
            shown_new = f"<b>{shown_new}</b>"
        rows.append(
            f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(_cell(old)).replace(chr(10), '<br>')}</td>"
            f"<td>{shown_new}</td></tr>"
        )
    return f"<table {style}>{''.join(rows)}</table>"


def attach_text(name: str, text: str) -> None:
    """Attach plain text to the running check.

    >>> attach_text("buddyinfo", "Node 0, zone Normal 1 2 3")
    """
    if allure_active():
        allure.attach(text, name=name, attachment_type=allure.attachment_type.TEXT)


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json_text(obj: object) -> str:
    """Indented JSON; dataclasses (the typed facts), sets and paths are converted.

    >>> from vrouter_preflight.facts.buddyinfo import BuddyZone
    >>> print(to_json_text({"zone": BuddyZone(0, "Normal", (1, 2))}))
    {
      "zone": {
        "node": 0,
        "zone": "Normal",
        "free_blocks": [
          1,
          2
        ]
      }
    }
    """
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, default=_jsonable)


def attach_json(name: str, obj: object) -> None:
    """Attach ``obj`` as JSON (see :func:`to_json_text`) to the running check.

    >>> attach_json("demand", {"buddy_blocks": {"10": 44}})
    """
    if allure_active():
        allure.attach(to_json_text(obj), name=name, attachment_type=allure.attachment_type.JSON)


def table_text(header: Sequence[str], rows: Sequence[Sequence[object]], fmt: str = "text") -> str:
    """A small table as aligned text (``fmt="text"``) or CSV (``fmt="csv"``).

    >>> print(table_text(["node", "free"], [[0, 12], [1, 3]]), end="")
    node  free
    ----  ----
    0     12
    1     3
    >>> table_text(["zone", "note"], [["Normal", "a, b"]], fmt="csv")
    'zone,note\\r\\nNormal,"a, b"\\r\\n'
    """
    cells = [[str(cell) for cell in row] for row in rows]
    for row in cells:
        if len(row) != len(header):
            raise ValueError(f"table row has {len(row)} cells, header has {len(header)}: {row}")
    if fmt == "text":
        return "\n".join(render_table(list(header), cells, max_width=200)) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(cells)
        return out.getvalue()
    raise ValueError(f"table format {fmt!r} is not 'text' or 'csv'")


def attach_table(name: str, header: Sequence[str], rows: Sequence[Sequence[object]], fmt: str = "text") -> None:
    """Attach a small table (see :func:`table_text`) to the running check.

    >>> attach_table("free blocks", ["node", "order 10"], [[0, 44]])
    """
    if fmt not in ("text", "csv"):
        raise ValueError(f"table format {fmt!r} is not 'text' or 'csv'")
    if allure_active():
        kind = allure.attachment_type.CSV if fmt == "csv" else allure.attachment_type.TEXT
        allure.attach(table_text(header, rows, fmt), name=name, attachment_type=kind)


def attach_png(name: str, data: bytes) -> None:
    """Attach a PNG picture (a chart from :mod:`vrouter_preflight.reporting.charts`) to the running check.

    >>> attach_png("chart", b"\\x89PNG\\r\\n\\x1a\\n")
    >>> attach_png("chart", b"GIF89a")
    Traceback (most recent call last):
    ...
    ValueError: attachment 'chart' is not a PNG
    """
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"attachment {name!r} is not a PNG")
    if allure_active():
        allure.attach(data, name=name, attachment_type=allure.attachment_type.PNG)


def attach_html(name: str, html: str) -> None:
    """Attach an HTML fragment (a small table for the board) to the running check.

    >>> attach_html("overview", "<table></table>")
    """
    if allure_active():
        allure.attach(html, name=name, attachment_type=allure.attachment_type.HTML)


class ChangeTicketOnResults:
    """An allure-commons plugin: every result Allure writes carries the change ticket.

    The label :data:`CHANGE_TICKET_LABEL` always; with a URL (``--change-ticket-url``)
    also a link of type :data:`CHANGE_TICKET_LINK_TYPE` named by the ticket. It acts
    when the result is reported, so a check that errored in its setup, or was
    skipped, carries it too; the URL is added as it is (allure-pytest's own
    ``--allure-link-pattern`` does not rewrite it).

    >>> from allure_commons.model2 import TestResult
    >>> result = TestResult(name="c0: reachable")
    >>> ChangeTicketOnResults("CHG0012345", "https://sn.example.com/change/CHG0012345").report_result(result)
    >>> [(label.name, label.value) for label in result.labels], [(link.type, link.name) for link in result.links]
    ([('change_ticket', 'CHG0012345')], [('issue', 'CHG0012345')])
    """

    def __init__(self, ticket: str, url: str | None = None) -> None:
        self.ticket = ticket
        self.url = url

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        """Add the label and link to ``result`` (an ``allure_commons.model2.TestResult``) before it is written."""
        if not any(label.name == CHANGE_TICKET_LABEL and label.value == self.ticket for label in result.labels):
            result.labels.append(Label(name=CHANGE_TICKET_LABEL, value=self.ticket))
        if self.url is not None and not any(link.url == self.url for link in result.links):
            result.links.append(Link(type=CHANGE_TICKET_LINK_TYPE, url=self.url, name=self.ticket))
