"""The neutral model every reader produces: hosts with their merged variables, and groups.

Whatever the source (Ansible YAML, INI, a directory, ``ansible-inventory
--list`` JSON, Tungsten Fabric's ``instances.yaml``), the result is one
:class:`OperatorInventory`. Host variables are already merged with Ansible's
precedence, so ``hosts[name].variables`` is what ``ansible-inventory --list``
shows under ``_meta.hostvars``. Nothing here prints a variable's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from vrouter_preflight.inventory_sources.hidden import HostVars

SourceFormat = Literal[
    "ansible-yaml",
    "ansible-ini",
    "ansible-directory",
    "ansible-list-json",
    "ansible-inventory",
    "tf-instances",
]
VrouterMode = Literal["kernel", "dpdk"]


@dataclass(frozen=True)
class InventoryGroup:
    """One group: its direct hosts and child groups (file order), its own variables, priority and depth.

    ``depth`` is the group's longest path from ``all`` (``all`` is 0): a host's
    groups are merged by ``(depth, priority, name)``, see :attr:`merge_order`.

    >>> InventoryGroup("Compute", hosts=("compute-0",)).children
    ()
    """

    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    variables: HostVars = field(default_factory=HostVars)
    priority: int = 1
    depth: int = 0

    @property
    def merge_order(self) -> tuple[int, int, str]:
        """Where the group's settings go when a host's groups are merged: later ones win (Ansible's order).

        >>> sorted([InventoryGroup("Compute", depth=1), InventoryGroup("overcloud_Compute", depth=2),
        ...         InventoryGroup("all")], key=lambda g: g.merge_order)[-1].name
        'overcloud_Compute'
        """
        return self.depth, self.priority, self.name


@dataclass(frozen=True)
class InventoryHost:
    """One host: its variables merged as Ansible does, and every group it belongs to.

    ``groups`` holds the direct groups and their ancestors, sorted, without
    ``all`` (Ansible's ``group_names``). ``vrouter_mode`` is known only from
    sources that say it (``instances.yaml``: ``dpdk`` runs no kernel module, so the
    suite's kernel-table checks do not apply); ``problems`` are what the reader
    found wrong with this host alone (each becomes an ERROR for it).

    >>> InventoryHost("kvm1", vrouter_mode="dpdk").vrouter_mode, InventoryHost("compute-0").vrouter_mode
    ('dpdk', None)
    """

    name: str
    variables: HostVars = field(default_factory=HostVars)
    groups: tuple[str, ...] = ()
    vrouter_mode: VrouterMode | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperatorInventory:
    """An operator's inventory read into the neutral model.

    ``hosts`` and ``groups`` keep the order Ansible would (first seen first);
    ``all`` and ``ungrouped`` are always present. ``notes`` say what was read
    but left out (for instance TF instances without a ``vrouter`` role); they
    never hold a variable's value.

    >>> inv = OperatorInventory(sources=("hosts.ini",), format="ansible-ini")
    >>> list(inv.hosts), inv.host_names
    ([], ())
    """

    sources: tuple[str, ...]
    format: SourceFormat
    hosts: Mapping[str, InventoryHost] = field(default_factory=lambda: MappingProxyType({}))
    groups: Mapping[str, InventoryGroup] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()

    @property
    def host_names(self) -> tuple[str, ...]:
        """Every host name, in inventory order."""
        return tuple(self.hosts)

    @property
    def shown(self) -> str:
        """How the sources are named in messages."""
        return ", ".join(self.sources)
