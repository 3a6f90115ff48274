"""Errors the engine reports to an operator.

Every error carries a message meant to be shown as it is: it names the host
(or file) and the cause, never a traceback.
"""

from __future__ import annotations


class PreflightError(Exception):
    """Base of every error the suite reports as one clear message.

    >>> str(PreflightError("compute-0: connection refused"))
    'compute-0: connection refused'
    """


class InventoryError(PreflightError):
    """The inventory cannot be used; raised before any connection is made.

    >>> str(InventoryError("inventory/x.yaml: host 'c0': key 'port': expected an integer"))
    "inventory/x.yaml: host 'c0': key 'port': expected an integer"
    """


class HostError(PreflightError):
    """A problem reaching or using one host; other hosts carry on.

    ``host`` is the inventory name, ``address`` where it was reached (may be
    empty for local/snapshot hosts) and ``cause`` a short human reason.

    >>> e = HostError("compute-0", "192.0.2.10:22", "connection refused")
    >>> str(e)
    'compute-0 (192.0.2.10:22): connection refused'
    """

    def __init__(self, host: str, address: str, cause: str) -> None:
        self.host = host
        self.address = address
        self.cause = cause
        where = f"{host} ({address})" if address else host
        super().__init__(f"{where}: {cause}")


class HostUnreachable(HostError):
    """Connecting or authenticating failed (refused, timeout, host key, auth)."""


class CommandTimeout(HostError):
    """A command did not finish within its wall-clock timeout."""


class CommandFailed(HostError):
    """A command ran but exited non-zero where success was required."""


class NotLiveError(HostError):
    """An action needs a live host but the host is a snapshot."""
