"""Transports: how commands and files reach a host (local, ssh, snapshot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vrouter_preflight.inventory import HostSpec
    from vrouter_preflight.transport.base import Transport


def open_transport(spec: HostSpec) -> Transport:
    """Create the transport named by ``spec.transport`` (lazily imported).

    Connecting is lazy too: nothing touches the network until the first
    command.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> open_transport(HostSpec(name="me", transport="local")).spec.name
    'me'
    """
    if spec.transport == "local":
        from vrouter_preflight.transport.local import LocalTransport

        return LocalTransport(spec)
    if spec.transport == "snapshot":
        from vrouter_preflight.transport.snapshot import SnapshotTransport

        return SnapshotTransport(spec)
    if spec.transport == "ssh":
        from vrouter_preflight.transport.ssh import SshTransport

        return SshTransport(spec)
    raise ValueError(f"unknown transport {spec.transport!r}")
