"""Ansible's rolling-change rules, as pure functions: ``serial`` batches and when to stop.

Operators already know these from Ansible (``serial``, ``max_fail_percentage``,
``any_errors_fatal``), so the words and the arithmetic are Ansible's:

- ``serial`` is a number of hosts, a percentage of the whole fleet, or a list of
  those: successive batch sizes, the last one repeating until every host is in
  a batch. A percentage is rounded down but is never less than one host; ``0``
  means every remaining host in one batch.
- A batch stops the rollout when its failed share EXCEEDS
  ``max_fail_percentage`` ("set 49, not 50, to stop on 2 of 4"), on its first
  failure with ``any_errors_fatal``, and always when every host of the batch
  failed. Unreachable hosts count as failed.

Nothing here does I/O; :mod:`vrouter_preflight.rollout.coordinator` applies these rules
across processes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from vrouter_preflight.errors import PreflightError

_STEP = re.compile(r"^(\d+)(%?)$")


class RolloutError(PreflightError):
    """A rollout cannot be set up or used as asked; the message says why.

    >>> str(RolloutError("serial 'x': expected a number of hosts or a percentage like 25%"))
    "serial 'x': expected a number of hosts or a percentage like 25%"
    """


@dataclass(frozen=True)
class SerialStep:
    """One item of ``serial``: ``value`` hosts, or ``value`` percent of the fleet.

    >>> SerialStep(30, percent=True).size(10)
    3
    >>> str(SerialStep(5))
    '5'
    """

    value: int
    percent: bool = False

    def size(self, total: int) -> int:
        """Hosts in a batch of a fleet of ``total`` hosts; 0 means "all that remain".

        A percentage is rounded down and is at least 1 (Ansible's ``pct_to_int``,
        in integer arithmetic, so 29% of 100 hosts is 29, not 28).

        >>> SerialStep(25, percent=True).size(10)
        2
        >>> SerialStep(1, percent=True).size(10)
        1
        >>> SerialStep(0).size(10)
        0
        """
        if not self.percent:
            return self.value
        return max(1, self.value * total // 100)

    def __str__(self) -> str:
        return f"{self.value}{'%' if self.percent else ''}"


@dataclass(frozen=True)
class SerialSpec:
    """Successive batch sizes; the last step repeats until every host has a batch.

    >>> spec = parse_serial("1,5,25%")
    >>> spec.steps
    (SerialStep(value=1, percent=False), SerialStep(value=5, percent=False), SerialStep(value=25, percent=True))
    >>> str(spec)
    '1,5,25%'
    """

    steps: tuple[SerialStep, ...]

    def __str__(self) -> str:
        return ",".join(str(step) for step in self.steps)


def parse_serial(value: str | int | Sequence[str | int]) -> SerialSpec:
    """``--serial`` (or an inventory ``serial:``) as a :class:`SerialSpec`.

    Accepts what Ansible accepts: an integer, ``"N%"``, or a list of those,
    given as a Python list or as one comma-separated string.

    >>> [str(parse_serial(v)) for v in ("2", "25%", "1,5,25%", 3, [1, 5, "25%"])]
    ['2', '25%', '1,5,25%', '3', '1,5,25%']
    >>> parse_serial("-1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.rollout.batching.RolloutError: serial '-1': expected a number of hosts (0 = all) or a perc...
    >>> parse_serial("150%")
    Traceback (most recent call last):
    ...
    vrouter_preflight.rollout.batching.RolloutError: serial '150%': a percentage must be between 0% and 100%
    """
    if isinstance(value, bool):
        raise RolloutError(f"serial {value!r}: expected a number of hosts or a percentage like 25%")
    if isinstance(value, int):
        items: list[str] = [str(value)]
    elif isinstance(value, str):
        items = value.split(",")
    else:
        items = [str(item) for item in value]
    if not items or items == [""]:
        raise RolloutError("serial is empty: expected a number of hosts or a percentage like 25%")
    steps = []
    for raw in items:
        match = _STEP.match(raw.strip())
        if match is None:
            raise RolloutError(f"serial {raw.strip()!r}: expected a number of hosts (0 = all) or a percentage like 25%")
        step = SerialStep(int(match.group(1)), percent=bool(match.group(2)))
        if step.percent and step.value > 100:
            raise RolloutError(f"serial {raw.strip()!r}: a percentage must be between 0% and 100%")
        steps.append(step)
    return SerialSpec(tuple(steps))


def batches(hosts: Sequence[str], spec: SerialSpec) -> list[list[str]]:
    """The hosts in batches, in inventory order (Ansible's ``_get_serialized_batches``).

    Percentages are of the whole fleet, not of the hosts still left.

    >>> hosts = [f"c{i}" for i in range(6)]
    >>> batches(hosts, parse_serial("3"))
    [['c0', 'c1', 'c2'], ['c3', 'c4', 'c5']]
    >>> batches(hosts, parse_serial("1,2,50%"))
    [['c0'], ['c1', 'c2'], ['c3', 'c4', 'c5']]
    >>> batches(hosts, parse_serial("0"))
    [['c0', 'c1', 'c2', 'c3', 'c4', 'c5']]
    """
    duplicates = sorted(host for host, count in Counter(hosts).items() if count > 1)
    if duplicates:
        raise RolloutError(f"hosts listed more than once in the rollout: {', '.join(duplicates)}")
    remaining = list(hosts)
    total = len(remaining)
    result: list[list[str]] = []
    index = 0
    while remaining:
        size = spec.steps[index].size(total)
        if size <= 0:
            result.append(remaining)
            break
        result.append(remaining[:size])
        remaining = remaining[size:]
        index = min(index + 1, len(spec.steps) - 1)
    return result


def _percent(value: float) -> str:
    return f"{value:g}"


def stop_reason(
    failed_in_batch: int, batch_size: int, max_fail_percentage: float | None, any_errors_fatal: bool
) -> str | None:
    """Why a batch with ``failed_in_batch`` failed (or unreachable) hosts stops the rollout, or None.

    >>> stop_reason(2, 4, 25, False)
    '2 of 4 hosts failed, more than max_fail_percentage 25'
    >>> stop_reason(1, 4, 25, False) is None
    True
    >>> stop_reason(1, 4, None, True)
    '1 of 4 hosts failed and any_errors_fatal is set'
    >>> stop_reason(2, 2, None, False)
    '2 of 2 hosts failed: the whole batch'
    """
    if batch_size <= 0:
        raise RolloutError(f"a batch has at least one host, not {batch_size}")
    if not 0 <= failed_in_batch <= batch_size:
        raise RolloutError(f"{failed_in_batch} failed hosts in a batch of {batch_size}")
    if failed_in_batch == 0:
        return None
    counted = f"{failed_in_batch} of {batch_size} hosts failed"
    if any_errors_fatal:
        return f"{counted} and any_errors_fatal is set"
    if max_fail_percentage is not None and failed_in_batch * 100 > max_fail_percentage * batch_size:
        return f"{counted}, more than max_fail_percentage {_percent(max_fail_percentage)}"
    if failed_in_batch == batch_size:
        return f"{counted}: the whole batch"
    return None


def should_stop(
    failed_in_batch: int, batch_size: int, max_fail_percentage: float | None, any_errors_fatal: bool
) -> bool:
    """True when a batch's failures end the rollout (see :func:`stop_reason` for the words).

    The failed share must EXCEED ``max_fail_percentage``; ``None`` (not set)
    stops only when the whole batch failed, as Ansible does.

    >>> should_stop(2, 4, 50, False), should_stop(2, 4, 49, False)
    (False, True)
    >>> should_stop(1, 10, 0, False)
    True
    >>> should_stop(1, 10, None, any_errors_fatal=True)
    True
    """
    return stop_reason(failed_in_batch, batch_size, max_fail_percentage, any_errors_fatal) is not None
