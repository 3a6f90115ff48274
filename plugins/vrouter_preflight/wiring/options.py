"""Every command-line option of the suite, declared once (the entry point adds them to pytest).

Numbers are checked where they are parsed: a value out of its range is a usage
error (exit 4) naming the option, before any host is contacted.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import pytest

from vrouter_preflight.wiring.change_ticket import link_pattern, ticket_id
from vrouter_preflight.wiring.outputs import CERTIFICATES_DEFAULT, JOURNAL_DEFAULT, REPORTS_DIR, SUMMARY_DEFAULT

GROUP = "vrouter-preflight"
DESTRUCTIVE_GROUP = "vrouter-preflight destructive stage"
CERTIFICATION_GROUP = "vrouter-preflight certification"
#: Hosts gathered at once, and its bounds (each is a thread holding an SSH connection).
GATHER_WORKERS_DEFAULT = 32
GATHER_WORKERS_RANGE = (1, 512)
#: How long the rollout may make no progress (seconds), and its bounds.
ROLLOUT_WAIT_DEFAULT = 3600.0
ROLLOUT_WAIT_RANGE = (1.0, 7 * 24 * 3600.0)


def number_in(low: float, high: float, *, integer: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number within [low, high] (an integer when ``integer``).

    >>> percentage = number_in(0, 100)
    >>> percentage("25"), percentage("12.5")
    (25.0, 12.5)
    >>> percentage("200")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number from 0 to 100, got '200'
    >>> number_in(1, 512, integer=True)("1.5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer from 1 to 512, got '1.5'
    """
    kind = "an integer" if integer else "a number"

    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"expected {kind} from {low:g} to {high:g}, got {text!r}")
        return value

    return parse


def add_options(parser: pytest.Parser) -> None:
    """Add the suite's options to pytest's parser, in three groups shown first by ``vrouter-preflight --help``.

    >>> parser = pytest.Parser(_ispytest=True)
    >>> add_options(parser)
    >>> given = parser.parse_known_args(["--inventory", "fleet.yaml", "--max-fail-percentage", "25", "--limit", "c*"])
    >>> given.inventory, given.max_fail_percentage, given.gather_workers, given.summary_json, given.limit
    ('fleet.yaml', 25.0, 32, None, 'c*')
    >>> given = parser.parse_known_args(["--change-ticket", "OPS-7", "--change-ticket-url", "https://j/{}"])
    >>> given.change_ticket, given.change_ticket_url
    ('OPS-7', 'https://j/{}')
    """
    group = parser.getgroup(GROUP, "vrouter-preflight: which computes, what to write")
    group.addoption(
        "--inventory",
        default=None,
        metavar="PATH",
        help="inventory of the computes to check; alone (no test paths) it runs the installed checks "
        "(default in a checkout or with the vrouter-preflight command: the local machine)",
    )
    group.addoption(
        "--limit",
        default=None,
        metavar="PATTERN",
        help="check only the hosts an Ansible host pattern selects (groups, hosts, wildcards, a:b, a:&b, a:!b, "
        "comma lists) over the inventory's Ansible groups or `groups` labels; matching nothing is an error",
    )
    group.addoption(
        "--hosts",
        default=None,
        metavar="NAME[,NAME...]",
        help="check only these inventory hosts (with --limit: the hosts both select)",
    )
    group.addoption(
        "--gather-workers",
        type=number_in(*GATHER_WORKERS_RANGE, integer=True),
        default=GATHER_WORKERS_DEFAULT,
        metavar="N",
        help=f"hosts gathered at once (default: {GATHER_WORKERS_DEFAULT}; 1-{GATHER_WORKERS_RANGE[1]})",
    )
    group.addoption(
        "--shard",
        default=None,
        metavar="I/N",
        help="run only the I-th of N stable slices of the selected hosts (a hash of each name), for CI runners "
        "that split a region; merge their summaries with `vrouter-preflight merge`",
    )
    group.addoption(
        "--summary-json",
        default=None,
        metavar="PATH",
        help=f"write the JSON summary here (default: {REPORTS_DIR}/{SUMMARY_DEFAULT} where the run starts)",
    )

    group.addoption(
        "--metrics",
        default=None,
        metavar="PATH",
        help="also write the run's figures for Prometheus (node_exporter's textfile collector), atomically",
    )
    group.addoption(
        "--change-ticket",
        type=ticket_id,
        default=None,
        metavar="ID",
        help="the change ticket this run belongs to: a label on every Allure result (a link with "
        "--change-ticket-url), in the report's Environment; empty means none",
    )
    group.addoption(
        "--change-ticket-url",
        type=link_pattern,
        default=None,
        metavar="URL",
        help="the ticket's URL with {} where the ticket goes, e.g. 'https://jira.example.com/browse/{}' "
        "(as allure-pytest's --allure-link-pattern); the Allure results then link to the ticket",
    )

    stage = parser.getgroup(DESTRUCTIVE_GROUP)
    stage.addoption(
        "--destructive",
        action="store_true",
        help="allow the remediation stage on hosts with destructive: true (it changes them, then rolls back)",
    )
    stage.addoption(
        "--plan",
        action="store_true",
        help="print, per host, the commands and numbers the destructive stage would use; change nothing",
    )
    stage.addoption(
        "--rollback-journal",
        action="append",
        default=[],
        metavar="PATH",
        help="replay the rollback recorded in a journal of an interrupted run (repeatable), then stop",
    )
    stage.addoption(
        "--journal-dir",
        default=None,
        metavar="DIR",
        help=f"where journals are written (default: {REPORTS_DIR}/{JOURNAL_DEFAULT})",
    )
    stage.addoption("--serial", default="1", metavar="N|N%|LIST", help="hosts changed at once (Ansible serial)")
    stage.addoption(
        "--max-fail-percentage",
        type=number_in(0, 100),
        default=None,
        metavar="P",
        help="stop the rollout when MORE than P%% of a batch failed (Ansible max_fail_percentage; 0-100)",
    )
    stage.addoption("--any-errors-fatal", action="store_true", help="stop the rollout at the first failed host")
    stage.addoption(
        "--rollout-wait-timeout",
        type=number_in(*ROLLOUT_WAIT_RANGE),
        default=ROLLOUT_WAIT_DEFAULT,
        metavar="SECONDS",
        help=f"give up when the rollout makes no progress for this long (default {ROLLOUT_WAIT_DEFAULT:g})",
    )

    certification = parser.getgroup(CERTIFICATION_GROUP)
    certification.addoption(
        "--certificate-dir",
        default=None,
        metavar="DIR",
        help=f"where a certification run (-m certification) writes <host>.json "
        f"(default: {REPORTS_DIR}/{CERTIFICATES_DEFAULT})",
    )
