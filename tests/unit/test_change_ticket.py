"""``--change-ticket`` and ``--change-ticket-url``: what they accept, and the label and link every result gets."""

from __future__ import annotations

import argparse

import pytest
from allure_commons.model2 import Label, Link
from allure_commons.model2 import TestResult as AllureResult

from vrouter_preflight.wiring.allure_attach import CHANGE_TICKET_LABEL, ChangeTicketOnResults
from vrouter_preflight.wiring.change_ticket import MAX_PATTERN, MAX_TICKET, link_pattern, ticket_id, ticket_url


@pytest.mark.parametrize("ticket", ["CHG0012345", "OPS-1234", "INC0001", "ops/region#12", "7", "a" * MAX_TICKET])
def test_ticket_ids_change_boards_use(ticket: str) -> None:
    assert ticket_id(ticket) == ticket


@pytest.mark.parametrize(
    "ticket",
    [
        "OPS-1\x1b[2J",  # a terminal escape
        "OPS-1\nFAKE: approved",  # a second line in a log
        "OPS-1\x00",
        "OPS 1",
        "OPS-1;reboot",
        "$(reboot)",
        "a" * (MAX_TICKET + 1),
        "----",
        "-OPS-1",  # would read as an option
        "ÖPS-1",
    ],
)
def test_a_ticket_with_a_control_character_or_beyond_the_cap_is_refused(ticket: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        ticket_id(ticket)
    message = str(info.value)
    assert message.startswith("expected a ticket id (") and "\n" not in message and "\x1b" not in message


def test_an_empty_ticket_is_no_ticket_and_a_huge_one_is_shown_cut() -> None:
    assert ticket_id("") == ""
    with pytest.raises(argparse.ArgumentTypeError) as info:
        ticket_id("x" * 100_000)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize(
    ("pattern", "url"),
    [
        ("https://jira.example.com/browse/{}", "https://jira.example.com/browse/OPS-1234"),
        (
            "https://sn.example.com/change_request.do?number={}",
            "https://sn.example.com/change_request.do?number=OPS-1234",
        ),
        ("http://tracker.internal:8080/t/{}/view", "http://tracker.internal:8080/t/OPS-1234/view"),
    ],
)
def test_a_pattern_makes_the_tickets_url(pattern: str, url: str) -> None:
    assert ticket_url("OPS-1234", link_pattern(pattern)) == url


def test_the_ticket_is_percent_encoded_in_its_url() -> None:
    assert ticket_url("ops/region#12", "https://t.example.com/{}") == "https://t.example.com/ops%2Fregion%2312"


@pytest.mark.parametrize(
    "pattern",
    [
        "https://jira.example.com/browse/",  # no {}
        "https://jira.example.com/{}/{}",  # twice
        "https://jira.example.com/{0}",
        "javascript:alert({})",
        "file:///tmp/{}",
        "https://jira.example.com/browse/{} x",
        "https://jira.example.com/\x1b[2J{}",
        "https://{}",  # the ticket would be the host
        "https://jira.example.com/" + "a" * MAX_PATTERN + "{}",
    ],
)
def test_a_pattern_that_is_no_http_url_with_one_placeholder_is_refused(pattern: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected an http\(s\) URL with \{\} once"):
        link_pattern(pattern)


def test_every_result_gets_the_label_and_link_once() -> None:
    result = AllureResult(name="compute-0: reachable", labels=[Label(name="host", value="compute-0")])
    on_results = ChangeTicketOnResults("OPS-1234", "https://jira.example.com/browse/OPS-1234")
    on_results.report_result(result)
    on_results.report_result(result)  # a result reported twice keeps one label and one link
    assert [(label.name, label.value) for label in result.labels] == [
        ("host", "compute-0"),
        (CHANGE_TICKET_LABEL, "OPS-1234"),
    ]
    assert result.links == [Link(type="issue", url="https://jira.example.com/browse/OPS-1234", name="OPS-1234")]


def test_without_a_pattern_only_the_label() -> None:
    result = AllureResult(name="compute-0: reachable")
    ChangeTicketOnResults("CHG0012345").report_result(result)
    assert [(label.name, label.value) for label in result.labels] == [(CHANGE_TICKET_LABEL, "CHG0012345")]
    assert result.links == []
