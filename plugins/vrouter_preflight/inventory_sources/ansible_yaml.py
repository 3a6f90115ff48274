"""Ansible's YAML inventory: top-level groups with ``hosts:``, ``children:`` and ``vars:``.

Read as Ansible's ``yaml`` inventory plugin does: a section written as a
string means ``{string: null}``; a group or host given as ``null`` (``Compute:``,
``overcloud_Compute: {}``) is simply declared; ``hosts`` keys may hold ranges
and a port (``compute[01:20]:2222``); sections are taken in file order; a key
other than the three, or a group that is not a mapping, is skipped with a note
(Ansible warns and skips too). A top-level ``plugin:`` key is an inventory
plugin configuration: only Ansible can read it.
"""

from __future__ import annotations

from collections.abc import Mapping

from vrouter_preflight.inventory_sources.errors import OnlyAnsibleCanRead, SourceError
from vrouter_preflight.inventory_sources.graph import InventoryBuilder
from vrouter_preflight.inventory_sources.host_ranges import expand_host_entry

_SECTIONS = ("vars", "children", "hosts")


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _normalised(group: str, data: Mapping[object, object], shown: str) -> dict[object, object]:
    """The group's mapping with string sections turned into ``{string: None}``, checked."""
    result = dict(data)
    for section in _SECTIONS:
        value = result.get(section)
        if isinstance(value, str):
            result[section] = {value: None}
        elif section in result and value is not None and not isinstance(value, Mapping):
            raise SourceError(f"{shown}: group {group!r}: '{section}' must be a mapping, got {_kind(value)}")
    return result


def _read_hosts(group: str, hosts: Mapping[object, object], builder: InventoryBuilder) -> None:
    shown = builder.shown
    for entry, host_vars in hosts.items():
        if not isinstance(entry, str):
            raise SourceError(
                f"{shown}: group {group!r}: host {entry!r} must be a string; quote names that look like numbers"
            )
        if host_vars is not None and not isinstance(host_vars, Mapping):
            raise SourceError(
                f"{shown}: group {group!r}: host {entry!r}: expected a mapping of variables, got {_kind(host_vars)}"
            )
        try:
            names, port = expand_host_entry(entry)
        except ValueError as exc:
            raise SourceError(f"{shown}: group {group!r}: {exc}") from None
        for name in names:
            builder.add_host(name, group, port)
            for key, value in (host_vars or {}).items():
                builder.set_host_var(name, key, value)


def _read_group(name: object, data: object, builder: InventoryBuilder) -> str | None:
    shown = builder.shown
    if data is not None and not isinstance(data, Mapping):
        builder.notes.append(f"{shown}: top-level key {name!r} is not a group (a {_kind(data)[2:]}); skipped")
        return None
    group = builder.add_group(name)
    if data is None:
        return group
    for key, value in _normalised(group, data, shown).items():
        if key not in _SECTIONS:
            builder.notes.append(f"{shown}: group {group!r}: key {key!r} is not hosts, children or vars; skipped")
        elif value is None:
            continue
        elif not isinstance(value, Mapping):
            raise SourceError(f"{shown}: group {group!r}: '{key}' must be a mapping, got {_kind(value)}")
        elif key == "vars":
            for var, var_value in value.items():
                builder.set_group_var(group, var, var_value)
        elif key == "children":
            for child, child_data in value.items():
                child_group = _read_group(child, child_data, builder)
                if child_group is not None:
                    builder.add_child(group, child_group)
        else:
            _read_hosts(group, value, builder)
    return group


def read_yaml_inventory(data: object, builder: InventoryBuilder) -> None:
    """Add the groups, hosts and variables of a parsed YAML inventory to ``builder``.

    >>> b = InventoryBuilder("inv.yml")
    >>> read_yaml_inventory({"Compute": {"children": {"overcloud_Compute": None}},
    ...                      "overcloud_Compute": {"hosts": {"c[0:1]": {"ansible_host": "192.0.2.1"}},
    ...                                            "vars": {"ansible_ssh_user": "tripleo-admin"}}}, b)
    >>> b.group_names(), list(b.hosts())
    (['all', 'ungrouped', 'Compute', 'overcloud_Compute'], ['c0', 'c1'])
    >>> read_yaml_inventory({"plugin": "amazon.aws.aws_ec2"}, InventoryBuilder("aws_ec2.yml"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory_sources.errors.OnlyAnsibleCanRead: it is an inventory plugin configuration \
(plugin: amazon.aws.aws_ec2)
    """
    shown = builder.shown
    if data is None or data == {}:
        raise SourceError(f"{shown}: the YAML inventory is empty")
    if not isinstance(data, Mapping):
        raise SourceError(f"{shown}: a YAML inventory is a mapping of groups, got {_kind(data)}")
    plugin = data.get("plugin")
    if plugin:
        raise OnlyAnsibleCanRead(f"it is an inventory plugin configuration (plugin: {str(plugin)[:100]})")
    try:
        for name, group_data in data.items():
            _read_group(name, group_data, builder)
    except RecursionError:
        raise SourceError(f"{shown}: groups are nested too deeply") from None
