"""One transport per host per process, shared by the gather and every check."""

from __future__ import annotations

import contextlib
import threading

from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport import open_transport
from vrouter_preflight.transport.base import Transport


class TransportPool:
    """Hands out one lazily opened transport per host and closes them all at the end.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> pool = TransportPool()
    >>> spec = HostSpec(name="me", transport="local")
    >>> pool.get(spec) is pool.get(spec)
    True
    >>> pool.close_all()
    """

    def __init__(self) -> None:
        self._transports: dict[str, Transport] = {}
        self._lock = threading.Lock()

    def get(self, spec: HostSpec) -> Transport:
        """The transport for ``spec`` (created on first use)."""
        with self._lock:
            transport = self._transports.get(spec.name)
            if transport is None:
                transport = open_transport(spec)
                self._transports[spec.name] = transport
            return transport

    def open_count(self) -> int:
        """How many transports are open now.

        >>> TransportPool().open_count()
        0
        """
        with self._lock:
            return len(self._transports)

    def close(self, name: str) -> None:
        """Close host ``name``'s transport, if open (the next :meth:`get` opens a new one); errors are ignored.

        >>> from vrouter_preflight.inventory import HostSpec
        >>> pool = TransportPool()
        >>> first = pool.get(HostSpec(name="me", transport="local"))
        >>> pool.close("me")
        >>> pool.open_count(), pool.get(HostSpec(name="me", transport="local")) is first
        (0, False)
        """
        with self._lock:
            transport = self._transports.pop(name, None)
        if transport is not None:
            with contextlib.suppress(Exception):
                transport.close()

    def close_all(self) -> None:
        """Close every transport; errors while closing are ignored (the run is over)."""
        with self._lock:
            transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            # Closing must never mask the run's result.
            with contextlib.suppress(Exception):
                transport.close()
