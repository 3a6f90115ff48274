"""Stable slices of a fleet, for CI runners that split a region (``--shard I/N``).

A host belongs to the slice its name hashes to, not to a position in the
inventory: adding or removing a host never moves another one to a different
slice, so a GitLab ``parallel:`` job or a Jenkins matrix keeps its hosts from
one run to the next.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The most slices a region may be split into.
MAX_SHARDS = 1000
_SHARD_RE = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class Shard:
    """Slice ``index`` (1-based) of ``count``.

    >>> Shard(2, 3).takes("compute-17"), str(Shard(2, 3))
    (True, '2/3')
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (1 <= self.count <= MAX_SHARDS and 1 <= self.index <= self.count):
            raise ValueError(f"shard {self.index}/{self.count}: want 1 <= I <= N <= {MAX_SHARDS}")

    def takes(self, host: str) -> bool:
        """True when ``host`` belongs to this slice."""
        return shard_of(host, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``I/N`` (1 <= I <= N) → :class:`Shard`; anything else raises ValueError naming the value.

    >>> parse_shard("2/3")
    Shard(index=2, count=3)
    >>> parse_shard("4/3")
    Traceback (most recent call last):
    ...
    ValueError: shard 4/3: want 1 <= I <= N <= 1000
    >>> parse_shard("half")
    Traceback (most recent call last):
    ...
    ValueError: shard 'half': expected I/N, e.g. 2/3 for the second of three slices
    """
    match = _SHARD_RE.match(text)
    if match is None:
        raise ValueError(f"shard {text!r}: expected I/N, e.g. 2/3 for the second of three slices")
    return Shard(int(match.group(1)), int(match.group(2)))


def shard_of(host: str, count: int) -> int:
    """The 1-based slice of ``count`` that ``host`` belongs to: a hash of the name (SHA-256), not its position.

    >>> [shard_of(name, 3) for name in ("compute-0", "compute-1", "compute-2")]
    [2, 3, 1]
    """
    digest = hashlib.sha256(host.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def hosts_of_shard(hosts: Iterable[str], shard: Shard) -> list[str]:
    """The hosts of ``hosts`` (in their order) that belong to ``shard``.

    >>> hosts_of_shard([f"compute-{n}" for n in range(6)], Shard(1, 3))
    ['compute-2', 'compute-3']
    """
    return [host for host in hosts if shard.takes(host)]
