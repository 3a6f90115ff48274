"""Gathering raw facts from a whole fleet: one command per host, hosts in parallel.

The result per host is either its captures or ONE :class:`HostError` that
names the host, the address and the cause. A bounded thread pool keeps
hundreds of hosts fast without opening hundreds of connections at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from vrouter_preflight import errors
from vrouter_preflight.capture import FACT_SOURCES, Capture, CaptureAnswerError, FactSource
from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.output_limits import excerpt
from vrouter_preflight.transport.pool import TransportPool


@dataclass(frozen=True)
class HostGather:
    """What gathering gave for one host: captures, or the error that stopped it.

    >>> HostGather("c0", captures=None, error=HostError("c0", "", "boom"), seconds=0.1).reached
    False
    """

    host: str
    captures: Mapping[str, Capture] | None
    error: HostError | None
    seconds: float

    @property
    def reached(self) -> bool:
        """True when the facts were read."""
        return self.error is None and self.captures is not None

    def to_wire(self) -> dict[str, Any]:
        """A JSON-able form, used to hand results to pytest-xdist workers.

        >>> g = HostGather("c0", {"/a": Capture("/a", "ok", "x")}, None, 0.5)
        >>> HostGather.from_wire(g.to_wire()) == g
        True
        """
        return {
            "host": self.host,
            "captures": None if self.captures is None else [asdict(c) for c in self.captures.values()],
            "error": None if self.error is None else {"type": type(self.error).__name__, **_error_fields(self.error)},
            "seconds": self.seconds,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> HostGather:
        """Rebuild a HostGather from :meth:`to_wire` output."""
        captures = None
        if data["captures"] is not None:
            captures = {c["path"]: Capture(**c) for c in data["captures"]}
        error = None
        if data["error"] is not None:
            error = _error_class(data["error"]["type"])(
                data["error"]["host"], data["error"]["address"], data["error"]["cause"]
            )
        return cls(data["host"], captures, error, data["seconds"])


def _error_fields(error: HostError) -> dict[str, str]:
    return {"host": error.host, "address": error.address, "cause": error.cause}


def _error_class(name: str) -> type[HostError]:
    found = getattr(errors, name, HostError)
    return found if isinstance(found, type) and issubclass(found, HostError) else HostError


def gather_host(spec: HostSpec, pool: TransportPool, sources: Sequence[FactSource] = FACT_SOURCES) -> HostGather:
    """Read every fact source of one host with one command; never raises.

    An answer that is not a capture (garbage, cut short, too large) is the
    host's one error, in the words :mod:`~vrouter_preflight.capture_answer` chose.
    A host its inventory describes in a way the suite cannot use (``spec.unusable``:
    an unsupported ``ansible_connection``, a Jinja template …) is never contacted:
    its error says why.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> pool = TransportPool()
    >>> gather_host(HostSpec(name="me", transport="local"), pool).reached
    True
    >>> str(gather_host(HostSpec(name="w1", unusable="not contacted: ansible_connection: 'winrm'"), pool).error)
    "w1: not contacted: ansible_connection: 'winrm'"
    >>> pool.close_all()
    """
    if spec.unusable is not None:
        return HostGather(spec.name, None, HostError(spec.name, "", spec.unusable), 0.0)
    started = time.monotonic()
    try:
        captures = pool.get(spec).capture(sources)
        return HostGather(spec.name, captures, None, time.monotonic() - started)
    except HostError as exc:
        return HostGather(spec.name, None, exc, time.monotonic() - started)
    except CaptureAnswerError as exc:  # what came back was not a whole answer: say what it was
        return HostGather(
            spec.name, None, HostError(spec.name, spec.display_address, str(exc)), time.monotonic() - started
        )
    except Exception as exc:  # one host's surprise must not stop the fleet
        error = HostError(spec.name, spec.display_address, f"unexpected {type(exc).__name__}: {excerpt(str(exc))}")
        return HostGather(spec.name, None, error, time.monotonic() - started)
    finally:
        pool.close(spec.name)  # an idle connection is a thread waking ten times a second: a check reopens it


#: Transports that read this machine (a capture tree, or the machine itself): no network to wait for.
LOCAL_TRANSPORTS = frozenset({"snapshot", "local"})


def gather_fleet(
    specs: Sequence[HostSpec],
    pool: TransportPool,
    *,
    workers: int = 32,
    sources: Sequence[FactSource] = FACT_SOURCES,
) -> dict[str, HostGather]:
    """Gather all hosts: the ones behind a network concurrently, at most ``workers`` in flight.

    Results come back in inventory order, keyed by host name. Snapshots (and this
    machine) are read by the calling thread: their work is all CPU, which threads
    only fight over for Python's lock (a 400-snapshot fleet spent 5 s in the
    kernel doing that, more than the reading itself).

    >>> from vrouter_preflight.inventory import HostSpec
    >>> pool = TransportPool()
    >>> sorted(gather_fleet([HostSpec(name="a", transport="local")], pool))
    ['a']
    >>> pool.close_all()
    """
    remote = [spec for spec in specs if spec.transport not in LOCAL_TRANSPORTS]
    gathered: dict[str, HostGather] = {}
    if remote:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(remote))), thread_name_prefix="gather") as threads:
            for result in threads.map(lambda spec: gather_host(spec, pool, sources), remote):
                gathered[result.host] = result
    for spec in specs:
        if spec.transport in LOCAL_TRANSPORTS:
            gathered[spec.name] = gather_host(spec, pool, sources)
    return {spec.name: gathered[spec.name] for spec in specs}
