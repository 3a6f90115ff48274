"""The inventory: which computes to check and how to reach each one.

Loaded from YAML (see README "Inventory"). Validation is strict: a bad file
stops the run before any connection with one :class:`InventoryError` naming
the file, the host and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TransportName = Literal["ssh", "local", "snapshot"]
BecomeMethod = Literal["none", "sudo"]
HostKeyPolicy = Literal["strict", "accept-new"]


@dataclass(frozen=True)
class JumpHost:
    """One bastion hop, parsed from ``[user@]host[:port]``.

    >>> JumpHost(address="undercloud", user="stack", port=22).display
    'stack@undercloud:22'
    """

    address: str
    user: str | None = None
    port: int | None = None

    @property
    def display(self) -> str:
        """How the hop is shown in messages (never holds a secret)."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.address}{port}"


@dataclass(frozen=True)
class HostSpec:
    """Everything the engine knows about one inventory host.

    ``None`` means "not set in the inventory": the SSH transport then takes
    the value from ``~/.ssh/config`` or the OpenSSH default.

    >>> HostSpec(name="compute-0", address="192.0.2.10").display_address
    '192.0.2.10'
    """

    name: str
    transport: TransportName = "ssh"
    address: str | None = None
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    jump: tuple[JumpHost, ...] = ()
    known_hosts: str | None = None
    host_key_policy: HostKeyPolicy = "strict"
    ssh_config: str | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 60.0
    become: BecomeMethod = "none"
    sudo_password_env: str | None = None
    path: str | None = None
    page_size: int | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)

    @property
    def display_address(self) -> str:
        """Where the host is reached, for messages: address, path or 'local'."""
        if self.transport == "local":
            return "local"
        if self.transport == "snapshot":
            return self.path or ""
        address = self.address or self.name
        return f"{address}:{self.port}" if self.port else address


@dataclass(frozen=True)
class Inventory:
    """A loaded inventory: its file and its hosts, in file order."""

    path: str
    hosts: tuple[HostSpec, ...]

    def host(self, name: str) -> HostSpec:
        """The host called ``name``; KeyError when absent."""
        for spec in self.hosts:
            if spec.name == name:
                return spec
        raise KeyError(name)
