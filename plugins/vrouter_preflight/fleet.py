"""The fleet under test: the inventory, what gathering gave per host, and the
object each check receives for its host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from vrouter_preflight.capture import Capture
from vrouter_preflight.errors import HostError
from vrouter_preflight.gather import HostGather
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec, Inventory
from vrouter_preflight.transport.base import Transport
from vrouter_preflight.transport.pool import TransportPool

T = TypeVar("T")


class HostUnderTest:
    """What a check gets as its ``host`` fixture.

    ``facts`` are the typed facts gathered once for the run; ``transport``
    opens (or reuses) this process's connection for checks that must run a
    command.

    >>> from vrouter_preflight.capture import Capture
    >>> from vrouter_preflight.inventory import HostSpec
    >>> h = HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool())
    >>> h.name, h.facts.kernel_release
    ('c0', None)
    """

    def __init__(self, spec: HostSpec, captures: Mapping[str, Capture], pool: TransportPool) -> None:
        self.spec = spec
        self._captures = captures
        self._pool = pool
        self._derived: dict[Callable[[HostUnderTest], Any], Any] = {}

    def derived(self, compute: Callable[[HostUnderTest], T]) -> T:
        """``compute(self)``, worked out once for this host and kept: an input several checks (and the
        summary) judge from. One that raises is not kept: it raises again, for each check that asks.

        >>> from vrouter_preflight.inventory import HostSpec
        >>> h = HostUnderTest(HostSpec(name="c0", transport="local"), {}, TransportPool())
        >>> calls = []
        >>> def kernel(host): calls.append(host.name); return host.facts.kernel_release
        >>> h.derived(kernel), h.derived(kernel), calls
        (None, None, ['c0'])
        """
        if compute not in self._derived:
            self._derived[compute] = compute(self)
        result: T = self._derived[compute]
        return result

    @property
    def name(self) -> str:
        """The inventory name."""
        return self.spec.name

    @cached_property
    def facts(self) -> HostFacts:
        """Typed facts, parsed lazily."""
        return HostFacts(self.spec.name, self._captures)

    @property
    def transport(self) -> Transport:
        """This process's transport to the host (a snapshot refuses commands)."""
        return self._pool.get(self.spec)

    def __repr__(self) -> str:
        return f"HostUnderTest({self.spec.name!r}, {self.spec.transport})"


@dataclass
class Fleet:
    """The hosts of this run and what gathering gave for each.

    >>> from vrouter_preflight.inventory import HostSpec, Inventory
    >>> inv = Inventory("x.yaml", (HostSpec(name="a", transport="local"),))
    >>> Fleet(inv, {}).host_names
    ('a',)
    """

    inventory: Inventory
    gathered: dict[str, HostGather]
    pool: TransportPool = field(default_factory=TransportPool)
    _hosts: dict[str, HostUnderTest] = field(default_factory=dict, repr=False)

    @property
    def host_names(self) -> tuple[str, ...]:
        """Host names in inventory order."""
        return tuple(spec.name for spec in self.inventory.hosts)

    def error_of(self, name: str) -> HostError | None:
        """The error that kept ``name`` from being gathered, if any."""
        result = self.gathered.get(name)
        return None if result is None else result.error

    def host(self, name: str) -> HostUnderTest:
        """The check-facing object for ``name``; raises its HostError when unreachable."""
        result = self.gathered[name]
        if result.error is not None:
            raise result.error
        if name not in self._hosts:
            self._hosts[name] = HostUnderTest(self.inventory.host(name), result.captures or {}, self.pool)
        return self._hosts[name]
