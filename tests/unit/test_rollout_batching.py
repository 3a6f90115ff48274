"""The pure rollout rules against Ansible's documented examples (playbooks_strategies.rst,
playbooks_error_handling.rst) and ``_get_serialized_batches`` / ``pct_to_int``."""

from __future__ import annotations

import pytest

from vrouter_preflight.rollout.batching import RolloutError, SerialStep, batches, parse_serial, should_stop, stop_reason


def hosts(n: int) -> list[str]:
    return [f"compute-{i}" for i in range(n)]


def sizes(n: int, serial: str | int | list[str | int]) -> list[int]:
    return [len(batch) for batch in batches(hosts(n), parse_serial(serial))]


# -- parse_serial ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "steps"),
    [
        ("1", [SerialStep(1)]),
        (3, [SerialStep(3)]),
        ("30%", [SerialStep(30, percent=True)]),
        ("1,5,25%", [SerialStep(1), SerialStep(5), SerialStep(25, percent=True)]),
        (" 1, 5 ,25% ", [SerialStep(1), SerialStep(5), SerialStep(25, percent=True)]),
        ([1, 5, "25%"], [SerialStep(1), SerialStep(5), SerialStep(25, percent=True)]),
        ("0", [SerialStep(0)]),
        ("100%", [SerialStep(100, percent=True)]),
    ],
)
def test_parse_serial_accepts_ansible_forms(raw: str | int | list[str | int], steps: list[SerialStep]) -> None:
    assert list(parse_serial(raw).steps) == steps


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "serial is empty"),
        ("-1", "serial '-1': expected a number of hosts (0 = all) or a percentage like 25%"),
        ("two", "serial 'two': expected a number of hosts"),
        ("12.5%", "serial '12.5%': expected a number of hosts"),
        ("1,,2", "serial '': expected a number of hosts"),
        ("101%", "serial '101%': a percentage must be between 0% and 100%"),
        (True, "serial True: expected a number of hosts"),
    ],
)
def test_parse_serial_rejects_with_the_offending_item(raw: str | int, message: str) -> None:
    with pytest.raises(RolloutError) as caught:
        parse_serial(raw)
    assert str(caught.value).startswith(message)


def test_spec_prints_as_given() -> None:
    assert str(parse_serial([1, 5, "25%"])) == "1,5,25%"


# -- batches -----------------------------------------------------------------------------------------


def test_serial_1_is_one_host_at_a_time_in_inventory_order() -> None:
    assert batches(["c", "a", "b"], parse_serial("1")) == [["c"], ["a"], ["b"]]


def test_serial_3_of_6_hosts_is_two_batches_of_3() -> None:
    # "the first 3 hosts ... then the next 3 hosts" (playbooks_strategies.rst)
    assert batches(hosts(6), parse_serial(3)) == [hosts(6)[:3], hosts(6)[3:]]


def test_serial_3_leaves_the_remainder_to_the_last_batch() -> None:
    assert sizes(7, 3) == [3, 3, 1]


def test_serial_30_percent_of_10_hosts_is_batches_of_3() -> None:
    assert sizes(10, "30%") == [3, 3, 3, 1]


def test_serial_list_1_5_10_then_the_last_size_repeats() -> None:
    # "the first batch would contain a single host, the next would contain 5 hosts, and ...
    # every following batch would contain either 10 hosts or all the remaining hosts"
    assert sizes(30, [1, 5, 10]) == [1, 5, 10, 10, 4]


def test_serial_list_with_a_percentage_of_the_whole_fleet() -> None:
    # 25% of 20 hosts is 5, computed on the whole fleet, not on the hosts left
    assert sizes(20, [1, 5, "25%"]) == [1, 5, 5, 5, 4]


def test_serial_percent_list_10_20_100() -> None:
    assert sizes(20, ["10%", "20%", "100%"]) == [2, 4, 14]


@pytest.mark.parametrize(
    ("total", "serial", "expected"),
    [
        (10, "25%", [2, 2, 2, 2, 2]),  # 2.5 rounds down to 2
        (3, "10%", [1, 1, 1]),  # 0.3 would be 0: at least one host
        (3, "1%", [1, 1, 1]),
        (7, "50%", [3, 3, 1]),  # 3.5 rounds down to 3
        (100, "29%", [29, 29, 29, 13]),  # exact arithmetic (float 0.29 * 100 would give 28)
        (4, "100%", [4]),
        (4, "0%", [1, 1, 1, 1]),
    ],
)
def test_percentages_round_down_but_never_below_one(total: int, serial: str, expected: list[int]) -> None:
    assert sizes(total, serial) == expected


def test_serial_0_means_all_hosts_in_one_batch() -> None:
    assert sizes(5, 0) == [5]
    assert sizes(6, [1, 0]) == [1, 5]


def test_more_serial_than_hosts_is_one_batch() -> None:
    assert sizes(2, 5) == [2]


def test_no_hosts_no_batches() -> None:
    assert batches([], parse_serial("2")) == []


def test_a_host_listed_twice_is_refused() -> None:
    with pytest.raises(RolloutError, match="hosts listed more than once in the rollout: a"):
        batches(["a", "b", "a"], parse_serial("1"))


# -- should_stop / stop_reason -------------------------------------------------------------------------


def test_no_failure_never_stops() -> None:
    assert not should_stop(0, 4, 0, True)


def test_max_fail_percentage_must_be_exceeded() -> None:
    # "if serial is set to 4 and you want the task to abort the play when 2 of the hosts
    # have failed, set the max_fail_percentage at 49 rather than 50"
    assert not should_stop(2, 4, 50, False)
    assert should_stop(2, 4, 49, False)
    assert stop_reason(2, 4, 49, False) == "2 of 4 hosts failed, more than max_fail_percentage 49"


def test_max_fail_percentage_0_stops_on_any_failure() -> None:
    assert not should_stop(0, 10, 0, False)
    assert should_stop(1, 10, 0, False)


def test_max_fail_percentage_25_of_4_stops_at_the_second_failure() -> None:
    assert not should_stop(1, 4, 25, False)
    assert stop_reason(2, 4, 25, False) == "2 of 4 hosts failed, more than max_fail_percentage 25"


def test_fractional_max_fail_percentage() -> None:
    assert not should_stop(1, 3, 33.4, False)
    assert should_stop(1, 3, 33.3, False)
    assert stop_reason(1, 3, 33.3, False) == "1 of 3 hosts failed, more than max_fail_percentage 33.3"


def test_max_fail_percentage_100_is_never_exceeded_but_a_whole_failed_batch_still_stops() -> None:
    assert not should_stop(3, 4, 100, False)
    assert stop_reason(4, 4, 100, False) == "4 of 4 hosts failed: the whole batch"


def test_without_max_fail_percentage_only_a_whole_failed_batch_stops() -> None:
    assert not should_stop(3, 4, None, False)
    assert should_stop(4, 4, None, False)
    assert stop_reason(1, 1, None, False) == "1 of 1 hosts failed: the whole batch"


def test_any_errors_fatal_stops_on_the_first_failure() -> None:
    assert should_stop(1, 10, None, True)
    assert should_stop(1, 10, 90, True)
    assert stop_reason(1, 10, 90, True) == "1 of 10 hosts failed and any_errors_fatal is set"


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(RolloutError, match="3 failed hosts in a batch of 2"):
        should_stop(3, 2, None, False)
    with pytest.raises(RolloutError, match="at least one host"):
        should_stop(0, 0, None, False)
