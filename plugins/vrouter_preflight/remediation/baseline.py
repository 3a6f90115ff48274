"""What the journal's records hold: the host's reconnect essentials and its memory state (pure).

>>> from vrouter_preflight.inventory import HostSpec
>>> essentials = JournalHost.from_spec(HostSpec(name="c0", address="192.0.2.10", port=2222, user="heat-admin",
...                                              sudo_password_env="SECRET_VAR"))
>>> essentials.as_record()
{'name': 'c0', 'transport': 'ssh', 'address': '192.0.2.10', 'port': 2222, 'user': 'heat-admin', 'become': 'none'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import BecomeMethod, HostSpec, TransportName

TRANSPORTS: tuple[TransportName, ...] = ("ssh", "local", "snapshot")
BECOME_METHODS: tuple[BecomeMethod, ...] = ("none", "sudo")
MAX_FIELD_CHARS = 255
"""The longest name, address or user a journal may hold."""


@dataclass(frozen=True)
class JournalHost:
    """How to reach the host again, as the journal keeps it: never a secret, nor the name of one."""

    name: str
    transport: TransportName
    address: str | None
    port: int | None
    user: str | None
    become: BecomeMethod

    @classmethod
    def from_spec(cls, spec: HostSpec) -> JournalHost:
        """The essentials of an inventory host."""
        return cls(spec.name, spec.transport, spec.address, spec.port, spec.user, spec.become)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> JournalHost:
        """Read back from a ``begin`` record; a field of the wrong kind is a ValueError naming it.

        >>> JournalHost.from_record({"name": "c0", "transport": "local"}).transport
        'local'
        >>> JournalHost.from_record({"name": "c0", "port": "22; reboot"})
        Traceback (most recent call last):
        ...
        ValueError: port '22; reboot' is not a port number
        """
        transport = data.get("transport", "ssh")
        become = data.get("become", "none")
        if transport not in TRANSPORTS:
            raise ValueError(f"transport {transport!r:.40} is not one of {', '.join(TRANSPORTS)}")
        if become not in BECOME_METHODS:
            raise ValueError(f"become {become!r:.40} is not one of {', '.join(BECOME_METHODS)}")
        port = data.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise ValueError(f"port {port!r:.40} is not a port number")
        for key in ("name", "address", "user"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_FIELD_CHARS):
                raise ValueError(f"{key} {value!r:.40} is not a string of at most {MAX_FIELD_CHARS} characters")
        return cls(
            name=str(data.get("name", "")),
            transport=transport,
            address=data.get("address"),
            port=port,
            user=data.get("user"),
            become=become,
        )

    def as_record(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)

    def to_spec(self) -> HostSpec:
        """A HostSpec with these essentials (everything else default; prefer the inventory's entry).

        >>> JournalHost("c0", "local", None, None, None, "none").to_spec().transport
        'local'
        """
        return HostSpec(
            name=self.name,
            transport=self.transport,
            address=self.address,
            port=self.port,
            user=self.user,
            become=self.become,
        )


def pools_record(facts: HostFacts) -> list[dict[str, Any]]:
    """Every hugepage pool, global (``node: null``) and per node: ``nr``, ``free``, ``resv``, ``surplus``.

    >>> from vrouter_preflight.capture import Capture
    >>> p = "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
    >>> pools_record(HostFacts("c0", {p: Capture(p, "ok", "4\\n")}))
    [{'node': 0, 'size_kib': 1048576, 'nr': 4, 'free': None, 'resv': None, 'surplus': None}]
    """
    return [
        {"node": p.node, "size_kib": p.size_kib, "nr": p.nr, "free": p.free, "resv": p.resv, "surplus": p.surplus}
        for p in facts.hugepages.pools
    ]


def buddy_record(facts: HostFacts) -> list[dict[str, Any]]:
    """``/proc/buddyinfo`` as records: node, zone, free blocks per order (empty when absent).

    >>> from vrouter_preflight.capture import Capture
    >>> buddy = Capture("/proc/buddyinfo", "ok", "Node 0, zone   Normal   1043    541     96\\n")
    >>> buddy_record(HostFacts("c0", {buddy.path: buddy}))
    [{'node': 0, 'zone': 'Normal', 'free_blocks': [1043, 541, 96]}]
    >>> buddy_record(HostFacts("c0", {}))
    []
    """
    buddy = facts.buddyinfo
    if buddy is None:
        return []
    return [{"node": z.node, "zone": z.zone, "free_blocks": list(z.free_blocks)} for z in buddy.zones]


def state_record(facts: HostFacts) -> dict[str, Any]:
    """The memory state the journal keeps: pools, buddy state, ``vm.*`` values (those the stage touches too).

    ``vm.drop_caches`` and ``vm.compact_memory`` are write-only triggers with
    no value to restore; ``vm.nr_hugepages`` changes with the per-node writes.

    >>> from vrouter_preflight.capture import Capture
    >>> p = "/proc/sys/vm/min_free_kbytes"
    >>> state = state_record(HostFacts("c0", {p: Capture(p, "ok", "67584\\n")}))
    >>> state["pools"], state["buddy"], state["vm"]["min_free_kbytes"], state["vm"]["nr_hugepages"]
    ([], [], 67584, None)
    """
    return {"pools": pools_record(facts), "buddy": buddy_record(facts), "vm": dict(facts.vm_sysctls)}
