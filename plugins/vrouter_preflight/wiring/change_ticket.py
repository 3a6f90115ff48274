"""The change ticket a run belongs to (``--change-ticket``), for the change board.

``--change-ticket CHG0012345`` puts the ticket on every Allure result as the
label ``change_ticket``; with ``--change-ticket-url
'https://jira.example.com/browse/{}'`` (the same idea as allure-pytest's
``--allure-link-pattern``) also as a link of Allure's type ``issue`` to the
ticket (:class:`~vrouter_preflight.wiring.allure_attach.ChangeTicketOnResults`).
:func:`environment_entries` and :func:`summary_fields` give what the report's
Environment block and the JSON summary's top level say of it.

Both options are checked where they are parsed: a ticket is 1 to
:data:`MAX_TICKET` characters of letters, digits and ``. _ : # / -`` (an empty
one means no ticket, so a pipeline may pass an unset variable); a pattern is an
``http``/``https`` URL of at most :data:`MAX_PATTERN` characters holding ``{}``
exactly once after the host, where the ticket goes, percent-encoded.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import allure_commons
import pytest

from vrouter_preflight.wiring.allure_attach import ChangeTicketOnResults

MAX_TICKET = 64
MAX_PATTERN = 512
_TICKET = re.compile(r"[A-Za-z0-9#][A-Za-z0-9._:#/-]*")
_NOT_IN_PATTERN = frozenset('"<>\\`^|')


@dataclass(frozen=True)
class ChangeTicket:
    """A change ticket and, when a link pattern was given, its URL.

    >>> ChangeTicket("CHG0012345").url is None
    True
    """

    id: str
    url: str | None = None


def ticket_id(text: str) -> str:
    """An argparse type: a change ticket id, or ``""`` (no ticket).

    >>> ticket_id("OPS-1234"), ticket_id("CHG0012345"), ticket_id("")
    ('OPS-1234', 'CHG0012345', '')
    >>> ticket_id("OPS 1234; rm -rf /")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a ticket id (letters, digits, '.', '_', ':', '#', '/', '-'; at most 64 \
characters), got 'OPS 1234; rm -rf /'
    """
    if text == "" or (len(text) <= MAX_TICKET and _TICKET.fullmatch(text) and any(c.isalnum() for c in text)):
        return text
    shown = text if len(text) <= 2 * MAX_TICKET else text[: 2 * MAX_TICKET] + "..."
    raise argparse.ArgumentTypeError(
        f"expected a ticket id (letters, digits, '.', '_', ':', '#', '/', '-'; at most {MAX_TICKET} characters), "
        f"got {shown!r}"
    )


def ticket_url(ticket: str, pattern: str) -> str:
    """The ticket's URL: ``pattern`` with ``{}`` replaced by the ticket, percent-encoded.

    >>> ticket_url("OPS-1234", "https://jira.example.com/browse/{}")
    'https://jira.example.com/browse/OPS-1234'
    >>> ticket_url("group/app#12", "https://tracker.example.com/t/{}")
    'https://tracker.example.com/t/group%2Fapp%2312'
    """
    return pattern.replace("{}", quote(ticket, safe=""))


def link_pattern(text: str) -> str:
    """An argparse type: a URL pattern with ``{}`` once, where the ticket goes.

    >>> link_pattern("https://jira.example.com/browse/{}")
    'https://jira.example.com/browse/{}'
    >>> link_pattern("https://jira.example.com/browse/")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an http(s) URL with {} once where the ticket goes, got \
'https://jira.example.com/browse/'
    >>> link_pattern("javascript:alert({})")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an http(s) URL with {} once where the ticket goes, got 'javascript:...
    """
    braces_ok = text.count("{}") == 1 and text.count("{") == 1 and text.count("}") == 1
    clean = not any(c.isspace() or not c.isprintable() or c in _NOT_IN_PATTERN for c in text)
    parts = urlsplit(text) if braces_ok and clean else None
    if (
        parts is None
        or len(text) > MAX_PATTERN
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or "{}" in parts.netloc  # the ticket goes after the host, never into it
    ):
        shown = text if len(text) <= 120 else text[:120] + "..."
        raise argparse.ArgumentTypeError(f"expected an http(s) URL with {{}} once where the ticket goes, got {shown!r}")
    return text


def change_ticket_of(config: Any) -> ChangeTicket | None:
    """The run's change ticket from its options (``config`` is pytest's Config); None without one.

    >>> from types import SimpleNamespace
    >>> given = {"change_ticket": "OPS-7", "change_ticket_url": "https://jira.example.com/browse/{}"}
    >>> change_ticket_of(SimpleNamespace(getoption=given.get))
    ChangeTicket(id='OPS-7', url='https://jira.example.com/browse/OPS-7')
    >>> change_ticket_of(SimpleNamespace(getoption={"change_ticket": ""}.get)) is None
    True
    """
    ticket = config.getoption("change_ticket")
    if not ticket:
        return None
    pattern = config.getoption("change_ticket_url")
    return ChangeTicket(str(ticket), ticket_url(str(ticket), str(pattern)) if pattern else None)


def environment_entries(ticket: ChangeTicket | None) -> dict[str, str]:
    """What the report's Environment block says of the ticket (Allure shows a URL there as a link).

    >>> environment_entries(ChangeTicket("OPS-7", "https://jira.example.com/browse/OPS-7"))
    {'change_ticket': 'OPS-7', 'change_ticket_url': 'https://jira.example.com/browse/OPS-7'}
    >>> environment_entries(None)
    {}
    """
    if ticket is None:
        return {}
    entries = {"change_ticket": ticket.id}
    if ticket.url is not None:
        entries["change_ticket_url"] = ticket.url
    return entries


def summary_fields(ticket: ChangeTicket | None) -> dict[str, Any]:
    """The JSON summary's optional top-level ``change_ticket`` (``docs/summary.schema.json``).

    >>> summary_fields(ChangeTicket("OPS-7")), summary_fields(None)
    ({'change_ticket': {'id': 'OPS-7', 'url': None}}, {})
    """
    return {} if ticket is None else {"change_ticket": {"id": ticket.id, "url": ticket.url}}


def pytest_configure(config: pytest.Config) -> None:
    """While Allure records (``--alluredir``), every result of this process carries the ticket."""
    ticket = change_ticket_of(config)
    if ticket is None or not getattr(config.option, "allure_report_dir", None):
        return
    plugin = ChangeTicketOnResults(ticket.id, ticket.url)
    allure_commons.plugin_manager.register(plugin)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(plugin))
