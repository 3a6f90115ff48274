"""The JSON printed by ``ansible-inventory --list`` (and by inventory scripts).

Schema (ansible/ansible ``examples/inventory_script_schema.json``): each
top-level key but ``_meta`` is a group ``{"hosts": [...], "vars": {...},
"children": [...]}``; ``_meta.hostvars`` maps a host to its variables. As in
Ansible's ``script`` plugin: a group written as a list is its hosts; a group
mapping with none of the three keys is a host of that name with those
variables; a host listed only under ``_meta.hostvars`` belongs to no group and
is ignored. ``--list`` output carries the variables already merged per host;
``--export`` output keeps group variables on the groups, merged here with
Ansible's precedence.

Values tagged by Ansible's JSON encoder are read back: ``{"__ansible_unsafe":
s}`` is the string ``s``; ``{"__ansible_vault": ...}`` a
:class:`~vrouter_preflight.inventory_sources.hidden.VaultedValue`.
"""

from __future__ import annotations

from collections.abc import Mapping

from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.graph import InventoryBuilder
from vrouter_preflight.inventory_sources.hidden import VaultedValue

META = "_meta"


def looks_like_list_json(data: object) -> bool:
    """Whether a parsed document is ``--list`` output rather than a YAML-style inventory.

    >>> looks_like_list_json({"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped"]}})
    True
    >>> looks_like_list_json({"all": {"hosts": {"c0": None}}}), looks_like_list_json({"web": ["w1"]})
    (False, True)
    """
    if not isinstance(data, Mapping):
        return False
    if META in data:
        return True
    return any(
        isinstance(group, list) or (isinstance(group, Mapping) and isinstance(group.get("hosts"), list))
        for group in data.values()
    )


def untag(value: object) -> object:
    """A value with Ansible's JSON tags read back (unsafe strings, vaulted values).

    >>> untag({"a": {"__ansible_unsafe": "{{ x }}"}, "b": [{"__ansible_vault": "$ANSIBLE_VAULT;1.1"}]})
    {'a': '{{ x }}', 'b': ['<vaulted>']}
    """
    if isinstance(value, Mapping):
        if len(value) == 1:
            if "__ansible_unsafe" in value:
                return str(value["__ansible_unsafe"])
            if "__ansible_vault" in value:
                return VaultedValue(str(value["__ansible_vault"]))
        return {key: untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untag(item) for item in value]
    return value


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _read_group(name: str, data: object, builder: InventoryBuilder, members: dict[str, None]) -> None:
    shown = builder.shown
    group = builder.add_group(name)
    if not isinstance(data, Mapping):
        data = {"hosts": data}
    elif not any(key in data for key in ("hosts", "vars", "children")):
        data = {"hosts": [group], "vars": data}
    hosts = data.get("hosts", [])
    if not isinstance(hosts, list):
        raise SourceError(f"{shown}: group {group!r}: 'hosts' must be a list, got {_kind(hosts)}")
    for host in hosts:
        builder.add_host(host, group)
        members[host] = None
    variables = data.get("vars", {})
    if not isinstance(variables, Mapping):
        raise SourceError(f"{shown}: group {group!r}: 'vars' must be a mapping, got {_kind(variables)}")
    for key, value in variables.items():
        builder.set_group_var(group, key, untag(value))
    children = data.get("children", [])
    if not isinstance(children, list):
        raise SourceError(f"{shown}: group {group!r}: 'children' must be a list, got {_kind(children)}")
    for child in children:
        builder.add_child(group, builder.add_group(child))


def read_list_json(data: object, builder: InventoryBuilder) -> None:
    """Add the groups, hosts and variables of ``ansible-inventory --list`` output to ``builder``.

    >>> b = InventoryBuilder("list.json")
    >>> read_list_json({"_meta": {"hostvars": {"c0": {"ansible_host": "192.0.2.10"}}},
    ...                 "all": {"children": ["ungrouped", "compute"]},
    ...                 "compute": {"hosts": ["c0"]}}, b)
    >>> b.host_vars("c0"), b.direct_groups("c0")
    ({'ansible_host': '192.0.2.10'}, ('compute',))
    """
    shown = builder.shown
    if not isinstance(data, Mapping):
        raise SourceError(f"{shown}: expected a JSON object of groups, got {_kind(data)}")
    members: dict[str, None] = {}
    hostvars: Mapping[object, object] = {}
    for name, group_data in data.items():
        if name == META:
            if not isinstance(group_data, Mapping):
                raise SourceError(f"{shown}: '_meta' must be an object, got {_kind(group_data)}")
            found = group_data.get("hostvars", {})
            if not isinstance(found, Mapping):
                raise SourceError(f"{shown}: '_meta.hostvars' must be an object, got {_kind(found)}")
            hostvars = found
        else:
            _read_group(name, group_data, builder, members)
    for host in members:
        own = hostvars.get(host) or {}
        if not isinstance(own, Mapping):
            raise SourceError(f"{shown}: '_meta.hostvars' of host {host!r} must be an object, got {_kind(own)}")
        for key, value in own.items():
            builder.set_host_var(host, key, untag(value))
