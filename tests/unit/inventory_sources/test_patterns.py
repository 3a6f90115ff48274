"""Host patterns (--limit): Ansible's order of union, intersection, exclusion; typed errors."""

from __future__ import annotations

import pytest

from tests.unit.inventory_sources.samples import KOLLA
from vrouter_preflight.inventory_sources import PatternError, read_operator_inventory, select_hosts, universe_of
from vrouter_preflight.inventory_sources.patterns import split_pattern, universe_from_labels

SUITE = universe_from_labels(
    [
        ("compute-0", ["compute", "rack1"]),
        ("compute-1", ["compute", "rack2"]),
        ("dpdk-0", ["dpdk", "rack1"]),
        ("spare", []),
    ]
)


@pytest.mark.parametrize(
    ("pattern", "hosts"),
    [
        ("all", ("compute-0", "compute-1", "dpdk-0", "spare")),
        ("*", ("compute-0", "compute-1", "dpdk-0", "spare")),
        ("compute", ("compute-0", "compute-1")),
        ("rack1:!dpdk", ("compute-0",)),
        ("!rack1", ("compute-1", "spare")),
        ("&rack1", ("compute-0", "dpdk-0")),
        ("!rack1:compute", ("compute-1",)),  # exclusions apply after unions, wherever written
        ("rack1,&compute,dpdk-0", ("compute-0",)),  # with commas, ':' does not split
        ("compute-*", ("compute-0", "compute-1")),
        ("~.*-0$", ("compute-0", "dpdk-0")),
        ("ungrouped", ("spare",)),
        ("spare , dpdk", ("dpdk-0", "spare")),  # inventory order, not pattern order
        ("compute[1]", ("compute-1",)),
        ("compute[0:]", ("compute-0", "compute-1")),
    ],
)
def test_suite_inventory_groups_labels(pattern: str, hosts: tuple[str, ...]) -> None:
    assert select_hosts(pattern, SUITE) == hosts


def test_an_exact_host_name_wins_over_a_group_of_the_same_name() -> None:
    universe = universe_from_labels([("web", ["db"]), ("db", ["web"])])
    assert select_hosts("web", universe) == ("web",)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("comptue", "--limit 'comptue': no group or host matches 'comptue'; did you mean 'compute'?"),
        ("compute:!spar", "--limit 'compute:!spar': no group or host matches 'spar'; did you mean 'spare'?"),
        ("compute:!compute", "--limit 'compute:!compute' leaves no host to check"),
        ("rack2:&dpdk", "--limit 'rack2:&dpdk' leaves no host to check"),
        ("~(", "--limit '~(': '~(' is not a valid pattern (missing ), unterminated subpattern at position 0)"),
        ("compute[5]", "--limit 'compute[5]': 'compute[5]' asks for host 5 of 2 (counted from 0)"),
        ("  ", "--limit '  ': an empty or oversized pattern selects nothing"),
    ],
)
def test_errors_are_typed_and_name_the_pattern(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as info:
        select_hosts(pattern, SUITE)
    assert str(info.value) == message


def test_split_follows_ansible() -> None:
    assert split_pattern("a:b:&c:!d") == ["a", "b", "&c", "!d"]
    assert split_pattern("web[0:2]:db") == ["web[0:2]", "db"]
    assert split_pattern("2001:db8::1") == ["2001:db8::1"]
    assert split_pattern("host.example.com:2222") == ["host.example.com:2222"]


def test_kolla_compute_without_compute02_style_limit() -> None:
    """The issue's example: --limit 'compute:!compute02' on a Kolla INI selects one host."""
    inv = read_operator_inventory(KOLLA)
    assert select_hosts("baremetal:!control:!network:!storage:!monitoring", universe_of(inv)) == ("compute01",)
