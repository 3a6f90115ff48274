"""Groups, hosts and variables accumulated as Ansible does, then merged with its precedence.

Readers feed an :class:`InventoryBuilder` (groups, hosts, children, variables,
in file order); :func:`build_inventory` then applies Ansible's rules:

* every group without a parent is a child of ``all``; a host in no group is in
  ``ungrouped`` (and leaves it once it is in another group);
* a group's depth is its longest path from ``all``; the groups of a host are
  merged by (depth, ``ansible_group_priority``, name), so a child group beats
  its parent and ``all`` comes first;
* the merge order (Ansible's default ``VARIABLE_PRECEDENCE``): ``all``'s
  inventory vars, other groups' inventory vars, ``group_vars/all``, other
  ``group_vars/*``, the host's inventory vars, ``host_vars/*``; a later value
  replaces an earlier one whole (``hash_behaviour = replace``).

A loop among groups is an error naming the groups. Everything is linear in the
size of the inventory except the per-host sort of its own groups.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import HostVars
from vrouter_preflight.inventory_sources.model import (
    InventoryGroup,
    InventoryHost,
    OperatorInventory,
    SourceFormat,
    VrouterMode,
)

ALL = "all"
UNGROUPED = "ungrouped"
PRIORITY_VAR = "ansible_group_priority"
MAX_HOSTS = 100_000
MAX_GROUPS = 100_000

# One layer of group_vars/ (or host_vars/) files: entity name -> its variables.
VarsLayer = Mapping[str, Mapping[str, object]]


class _GroupDraft:
    __slots__ = ("children", "hosts", "name", "parents", "priority", "variables")

    def __init__(self, name: str) -> None:
        self.name = name
        self.hosts: dict[str, None] = {}
        self.children: dict[str, None] = {}
        self.parents: dict[str, None] = {}
        self.variables: dict[str, object] = {}
        self.priority = 1


class InventoryBuilder:
    """Groups, hosts and variables in the order a reader meets them (Ansible's ``InventoryData``).

    ``shown`` names the source in messages. A host met twice keeps its first
    place; a variable set twice keeps the last value.

    >>> b = InventoryBuilder("hosts.ini")
    >>> b.add_host("compute01", "compute", port=2222)
    >>> b.set_host_var("compute01", "ansible_user", "kolla")
    >>> b.host_vars("compute01")
    {'ansible_port': 2222, 'ansible_user': 'kolla'}
    """

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self._groups: dict[str, _GroupDraft] = {}
        self._hosts: dict[str, dict[str, object]] = {}
        self._host_groups: dict[str, dict[str, None]] = {}
        self.notes: list[str] = []
        self.add_group(ALL)
        self.add_group(UNGROUPED)
        self.add_child(ALL, UNGROUPED)

    def has_group(self, name: str) -> bool:
        """Whether ``name`` is a group already."""
        return name in self._groups

    def group_names(self) -> list[str]:
        """Every group name, in the order first met."""
        return list(self._groups)

    def host_vars(self, host: str) -> dict[str, object]:
        """A copy of the variables set on ``host`` itself."""
        return dict(self._hosts[host])

    def add_group(self, name: object) -> str:
        """Create group ``name`` unless it exists; returns the name."""
        if not isinstance(name, str) or not name:
            raise SourceError(f"{self.shown}: a group name must be a non-empty string, got {name!r}")
        if name not in self._groups:
            if len(self._groups) >= MAX_GROUPS:
                raise SourceError(f"{self.shown}: more than {MAX_GROUPS} groups; is this really an inventory?")
            self._groups[name] = _GroupDraft(name)
        return name

    def add_host(self, name: object, group: str | None = None, port: int | None = None) -> None:
        """Add host ``name`` (first sight sets ``ansible_port`` from ``port``), to ``group`` if given."""
        if not isinstance(name, str) or not name:
            raise SourceError(f"{self.shown}: a host name must be a non-empty string, got {name!r}")
        if name not in self._hosts:
            if len(self._hosts) >= MAX_HOSTS:
                raise SourceError(f"{self.shown}: more than {MAX_HOSTS} hosts; is this really an inventory?")
            self._hosts[name] = {} if port is None else {"ansible_port": port}
            self._host_groups[name] = {}
        if group is not None:
            self._groups[self.add_group(group)].hosts[name] = None
            self._host_groups[name][group] = None

    def set_host_var(self, host: str, key: object, value: object) -> None:
        """Set one variable on a host already added."""
        self._hosts[host][_var_name(key)] = value

    def set_group_var(self, group: str, key: object, value: object) -> None:
        """Set one variable on a group (``ansible_group_priority`` sets its priority instead)."""
        draft = self._groups[self.add_group(group)]
        name = _var_name(key)
        if name == PRIORITY_VAR:
            draft.priority = _priority(value, group, self.shown)
        else:
            draft.variables[name] = value

    def add_child(self, parent: str, child: str) -> None:
        """Make ``child`` a child group of ``parent`` (both created if needed)."""
        self.add_group(parent)
        self.add_group(child)
        if parent == child:
            raise SourceError(f"{self.shown}: group {parent!r} cannot be a child of itself")
        self._groups[parent].children[child] = None
        self._groups[child].parents[parent] = None

    def drafts(self) -> Mapping[str, _GroupDraft]:
        """The groups as drafted (read-only view, for :func:`build_inventory`)."""
        return MappingProxyType(self._groups)

    def hosts(self) -> Mapping[str, dict[str, object]]:
        """The hosts and their own variables (read-only view)."""
        return MappingProxyType(self._hosts)

    def direct_groups(self, host: str) -> tuple[str, ...]:
        """The groups ``host`` was put in directly."""
        return tuple(self._host_groups[host])

    def reconcile(self) -> None:
        """Ansible's closing rules: orphan groups under ``all``, group-less hosts in ``ungrouped``."""
        for draft in list(self._groups.values()):
            if draft.name != ALL and not draft.parents:
                self.add_child(ALL, draft.name)
        ungrouped = self._groups[UNGROUPED]
        for host, groups in self._host_groups.items():
            others = [g for g in groups if g not in (ALL, UNGROUPED)]
            if others:
                ungrouped.hosts.pop(host, None)
                groups.pop(UNGROUPED, None)
            elif UNGROUPED not in groups:
                ungrouped.hosts[host] = None
                groups[UNGROUPED] = None


def _var_name(key: object) -> str:
    if isinstance(key, bool) or not isinstance(key, (str, int, float)):
        raise SourceError(f"a variable name must be a string, got {key!r}")
    return str(key)


def _priority(value: object, group: str, shown: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]  # Ansible takes whatever int() takes
    except (TypeError, ValueError):
        raise SourceError(f"{shown}: group {group!r}: {PRIORITY_VAR} must be an integer, got {value!r}") from None


def group_depths(drafts: Mapping[str, _GroupDraft], shown: str) -> dict[str, int]:
    """Each group's longest path from ``all`` (Kahn's order); a loop is an error naming its groups."""
    waiting = {name: len(draft.parents) for name, draft in drafts.items()}
    depth = {name: 0 for name in drafts}
    ready = deque(name for name, count in waiting.items() if count == 0)
    done = 0
    while ready:
        name = ready.popleft()
        done += 1
        for child in drafts[name].children:
            depth[child] = max(depth[child], depth[name] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if done != len(drafts):
        looped = sorted(name for name, count in waiting.items() if count > 0)
        shown_loop = ", ".join(looped[:10]) + (" ..." if len(looped) > 10 else "")
        raise SourceError(f"{shown}: groups are children of each other in a loop: {shown_loop}")
    return depth


def _ancestors(drafts: Mapping[str, _GroupDraft], depth: Mapping[str, int]) -> dict[str, frozenset[str]]:
    """Each group's ancestors (parents, their parents...), built top-down by depth."""
    result: dict[str, frozenset[str]] = {}
    for name in sorted(drafts, key=depth.__getitem__):
        parents = drafts[name].parents
        acc: set[str] = set(parents)
        for parent in parents:
            acc |= result[parent]
        result[name] = frozenset(acc)
    return result


def _layered(layers: Sequence[VarsLayer], names: Iterable[str]) -> dict[str, object]:
    merged: dict[str, object] = {}
    name_list = list(names)
    for layer in layers:
        for name in name_list:
            found = layer.get(name)
            if found:
                merged.update(found)
    return merged


def build_inventory(
    builder: InventoryBuilder,
    *,
    sources: Sequence[str],
    source_format: SourceFormat,
    group_vars: Sequence[VarsLayer] = (),
    host_vars: Sequence[VarsLayer] = (),
    vrouter_modes: Mapping[str, VrouterMode] | None = None,
    host_problems: Mapping[str, Sequence[str]] | None = None,
    notes: Sequence[str] = (),
) -> OperatorInventory:
    """Close the builder and merge each host's variables with Ansible's precedence.

    ``group_vars`` / ``host_vars`` are the layers read from each source's
    ``group_vars/`` and ``host_vars/`` directories, in source order.

    >>> b = InventoryBuilder("inv")
    >>> b.add_host("c0", "compute")
    >>> b.add_child("openstack", "compute")
    >>> b.set_group_var("openstack", "ansible_user", "heat-admin")
    >>> b.set_group_var("compute", "ansible_user", "tripleo-admin")
    >>> b.set_group_var("all", "ansible_user", "root")
    >>> inv = build_inventory(b, sources=["inv"], source_format="ansible-yaml")
    >>> inv.hosts["c0"].variables["ansible_user"], inv.hosts["c0"].groups
    ('tripleo-admin', ('compute', 'openstack'))
    >>> inv.groups["all"].children
    ('ungrouped', 'openstack')
    """
    builder.reconcile()
    drafts = builder.drafts()
    depth = group_depths(drafts, builder.shown)
    ancestors = _ancestors(drafts, depth)
    modes = vrouter_modes or {}
    problems = host_problems or {}
    all_vars = drafts[ALL].variables
    hosts: dict[str, InventoryHost] = {}
    for name, own in builder.hosts().items():
        member: set[str] = set()
        for group in builder.direct_groups(name):
            member.add(group)
            member |= ancestors[group]
        member.discard(ALL)
        ordered = sorted(member, key=lambda g: (depth[g], drafts[g].priority, g))
        merged: dict[str, object] = dict(all_vars)
        for group in ordered:
            merged.update(drafts[group].variables)
        merged.update(_layered(group_vars, [ALL]))
        merged.update(_layered(group_vars, ordered))
        merged.update(own)
        merged.update(_layered(host_vars, [name]))
        hosts[name] = InventoryHost(
            name=name,
            variables=HostVars(merged),
            groups=tuple(sorted(member)),
            vrouter_mode=modes.get(name),
            problems=tuple(problems.get(name, ())),
        )
    groups = {
        name: InventoryGroup(
            name=name,
            hosts=tuple(draft.hosts),
            children=tuple(draft.children),
            variables=HostVars({**draft.variables, **_layered(group_vars, [name])}),
            priority=draft.priority,
            depth=depth[name],
        )
        for name, draft in drafts.items()
    }
    return OperatorInventory(
        sources=tuple(sources),
        format=source_format,
        hosts=MappingProxyType(hosts),
        groups=MappingProxyType(groups),
        notes=(*builder.notes, *notes),
    )
