"""Loading an inventory: the suite's own YAML, or an operator's (Ansible, TF), then ``--limit`` and ``--hosts``.

:func:`load_inventory` decides what ``--inventory`` names (:mod:`.formats`). The
suite's own file holds ``hosts`` (and ``defaults``, ``certify_groups``), or names
operators' inventories with ``ansible_inventory`` and then holds settings for
their hosts: ``defaults``, ``groups`` (per Ansible group) and ``hosts`` (per
host), applied on top of the Ansible connection variables (:mod:`.operator_hosts`).
Every host goes through the same checks (:mod:`.sections`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory.formats import detect
from vrouter_preflight.inventory.host import MAX_NAME, HostSpec, Inventory, group_names
from vrouter_preflight.inventory.operator_hosts import OperatorHosts, SuiteLayers, operator_hosts
from vrouter_preflight.inventory.sections import (
    HOST_KEYS,
    check_section,
    finish_host,
    host_name,
    host_spec_from_mapping,
    key_text,
    mapping_or_empty,
)
from vrouter_preflight.inventory.selection import select_inventory_hosts
from vrouter_preflight.inventory_sources import OperatorInventory, read_operator_inventory, universe_from_labels
from vrouter_preflight.keys.checks import Invalid, Rule, Text, describe, list_of
from vrouter_preflight.keys.spec import TOP_LEVEL, KeySpec, unknown_key

__all__ = ["HOST_KEYS", "TOP_LEVEL_KEYS", "host_spec_from_mapping", "load_inventory"]

MAX_ANSIBLE_SOURCES = 16
_SOURCE_PATH = Text("a file path")


def _hosts(value: object) -> Mapping[object, object]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of host name to settings, got {describe(value)}")
    return value


def _ansible_sources(value: object) -> tuple[str, ...]:
    items = (
        [value]
        if isinstance(value, str)
        else list_of(value, "paths", "[inventory/, extra.ini]", limit=MAX_ANSIBLE_SOURCES)
    )
    if not items:
        raise Invalid("expected a path or a non-empty list of paths, got an empty list")
    return tuple(_SOURCE_PATH(item) for item in items)


def _group_settings(value: object) -> Mapping[object, object]:
    if value is None or not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of Ansible group name to host keys, got {describe(value)}")
    return value


DEFAULTS = KeySpec(
    "defaults",
    "defaults",
    Rule("a mapping of host keys", mapping_or_empty),
    "applied to every host where they apply; a host's own key replaces the default (lists and mappings whole)",
    where=TOP_LEVEL,
)
HOSTS = KeySpec(
    "hosts",
    "hosts",
    Rule(
        f"a mapping of host name (letters, digits, '.', '_', '-'; at most {MAX_NAME} characters) to its keys",
        _hosts,
    ),
    "the hosts, in the order they are checked; an empty entry means all defaults; each name once. "
    "With `ansible_inventory`: settings for some of its hosts",
    where=TOP_LEVEL,
)
CERTIFY_GROUPS = KeySpec(
    "certify_groups",
    "certify_groups",
    Rule("a list of `groups` labels", group_names),
    "every host in one of these groups is certified (an entry no host carries is an error)",
    where=TOP_LEVEL,
    default=(),
)
ANSIBLE_INVENTORY = KeySpec(
    "ansible_inventory",
    "ansible_inventory",
    Rule(f"a path, or a list of at most {MAX_ANSIBLE_SOURCES} paths (relative to this file)", _ansible_sources),
    "operators' inventories whose hosts are checked (Ansible YAML, INI, directory, `--list` JSON, or TF "
    "`instances.yaml`); see [Operators' inventories](#operators-inventories)",
    where=TOP_LEVEL,
)
GROUPS = KeySpec(
    "groups",
    "groups",
    Rule("a mapping of Ansible group name to host keys", _group_settings),
    "with `ansible_inventory`: settings for the hosts of each Ansible group (a child group's win over its "
    "parent's; a host's own entry wins over both)",
    where=TOP_LEVEL,
)
TOP_LEVEL_KEYS = (DEFAULTS, HOSTS, CERTIFY_GROUPS, ANSIBLE_INVENTORY, GROUPS)
_TOP_NAMES = tuple(spec.name for spec in TOP_LEVEL_KEYS)


def _top_level(spec: KeySpec, data: Mapping[object, object], source: str, default: object = None) -> Any:
    try:
        return spec.check(data.get(spec.name, default))
    except Invalid as exc:
        raise InventoryError(f"{source}: key {spec.name!r}: {exc}") from None


def _check_groups_known(certify_groups: Sequence[str], hosts: Sequence[HostSpec], source: str) -> None:
    """Refuse a ``certify_groups`` entry no host belongs to (a typo would certify nothing)."""
    known = sorted({group for spec in hosts for group in spec.groups})
    for group in certify_groups:
        if group not in known:
            close = difflib.get_close_matches(group, known, n=1)
            listed = ", ".join(known[:50]) or "none"
            hint = f"; did you mean {close[0]!r}?" if close else f"; groups in this inventory: {listed}"
            raise InventoryError(f"{source}: key 'certify_groups': no host is in group {group!r}{hint}")


def _known(name: object, known: Mapping[str, object], what: str, operator: OperatorInventory, source: str) -> str:
    """``name`` when the operator's inventory has it, else the error naming the closest."""
    if isinstance(name, str) and name in known:
        return name
    close = difflib.get_close_matches(name, list(known), n=1) if isinstance(name, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InventoryError(f"{source}: key '{what}s': {key_text(name)} is not a {what} of {operator.shown}{hint}")


def _read_ansible_sources(paths: Sequence[str], source: str, base: Path) -> OperatorInventory:
    resolved = [os.path.normpath(os.path.join(base, os.path.expanduser(path))) for path in paths]
    for path in resolved:
        if os.path.isfile(path) and detect(Path(path), path).kind == "suite":
            raise InventoryError(
                f"{source}: key 'ansible_inventory': {path} is a suite inventory; name an Ansible or TF one"
            )
    try:
        return read_operator_inventory(resolved)
    except InventoryError as exc:
        raise InventoryError(f"{source}: key 'ansible_inventory': {exc}") from None


def _suite_layers(
    data: Mapping[object, object], operator: OperatorInventory, source: str, base: Path, certify: tuple[str, ...]
) -> SuiteLayers:
    """The suite file's ``defaults``, ``groups`` and ``hosts`` for an operator's hosts, each checked."""
    defaults = check_section(data.get("defaults"), "defaults", "defaults", source, base)
    groups: dict[str, Mapping[str, Any]] = {}
    hosts: dict[str, Mapping[str, Any]] = {}
    for name, entry in _top_level(GROUPS, data, source, {}).items():
        group = _known(name, operator.groups, "group", operator, source)
        groups[group] = check_section(entry, f"group {group!r}", "groups", source, base)
    for name, entry in _top_level(HOSTS, data, source).items():
        host = _known(name, operator.hosts, "host", operator, source)
        hosts[host] = check_section(entry, f"host {host!r}", "host", source, base)
    return SuiteLayers(
        defaults=MappingProxyType(defaults),
        groups=MappingProxyType(groups),
        hosts=MappingProxyType(hosts),
        certify_groups=certify,
        source=source,
    )


def _own_hosts(data: Mapping[object, object], source: str, base: Path, certify: tuple[str, ...]) -> OperatorHosts:
    """The hosts of a suite inventory without Ansible sources."""
    if "groups" in data:
        raise InventoryError(
            f"{source}: key 'groups': settings per Ansible group need 'ansible_inventory'; "
            "without it, put them in 'defaults' or the host entries"
        )
    defaults = check_section(data.get("defaults"), "defaults", "defaults", source, base)
    raw_hosts = _top_level(HOSTS, data, source)
    if not raw_hosts:
        raise InventoryError(f"{source}: key 'hosts': no hosts; an empty inventory would check nothing")
    specs: dict[str, HostSpec] = {}
    for name, entry in raw_hosts.items():
        checked = host_name(name, source)
        own = check_section(entry, f"host {checked!r}", "host", source, base)
        specs[checked] = finish_host(checked, {**defaults, **own}, own, source, certify)
    return OperatorHosts(
        names=tuple(specs),
        specs=MappingProxyType(specs),
        unsafe={},
        universe=lambda: universe_from_labels((spec.name, spec.groups) for spec in specs.values()),
    )


def load_inventory(path: str | Path, *, only_hosts: Sequence[str] | None = None, limit: str | None = None) -> Inventory:
    """Load and validate the inventory at ``path`` (the suite's own, or an operator's); hosts keep their order.

    ``limit`` (``--limit``) is an Ansible host pattern; ``only_hosts`` (``--hosts``)
    keeps only the named hosts, each item possibly holding several names
    separated by commas; with both, a host must be selected by both. Any
    problem raises one :class:`InventoryError` naming the file, the host and the key.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> text = "defaults: {user: heat-admin}\\nhosts:\\n  c0: {address: 192.0.2.10}\\n  c1:\\n"
    >>> _ = (d / "inv.yaml").write_text(text)
    >>> [(h.name, h.user, h.address) for h in load_inventory(d / "inv.yaml").hosts]
    [('c0', 'heat-admin', '192.0.2.10'), ('c1', 'heat-admin', None)]
    >>> load_inventory(d / "inv.yaml", only_hosts=["c1"]).hosts[0].name
    'c1'
    >>> _ = (d / "multinode").write_text("[compute]\\ncompute[01:03] ansible_user=kolla\\n")
    >>> [h.name for h in load_inventory(d / "multinode", limit="compute:!compute02").hosts]
    ['compute01', 'compute03']
    >>> _ = (d / "bad.yaml").write_text("hosts:\\n  c0: {port: twenty-two}\\n")
    >>> load_inventory(d / "bad.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: ...bad.yaml: host 'c0': key 'port': expected an integer from 1 to 6...
    """
    source = str(path)
    file = Path(path)
    detected = detect(file, source)
    if detected.kind == "operator":
        operator = read_operator_inventory(file)
        found = operator_hosts(operator, SuiteLayers(), base=Path.cwd())
        source_format: str = operator.format
    else:
        data = detected.data
        if data is None:
            raise InventoryError(f"{source}: the inventory is empty; it needs a 'hosts' mapping")
        if not isinstance(data, Mapping):
            raise InventoryError(
                f"{source}: expected a mapping with 'hosts' (and optional 'defaults'), or Ansible groups, "
                f"got {describe(data)}"
            )
        for key in data:
            if key not in _TOP_NAMES:
                raise InventoryError(f"{source}: key {key_text(key)}: {unknown_key(key, _TOP_NAMES, 'top-level key')}")
        base = file.absolute().parent
        certify: tuple[str, ...] = _top_level(CERTIFY_GROUPS, data, source, [])
        sources = _top_level(ANSIBLE_INVENTORY, data, source) if "ansible_inventory" in data else None
        if sources is None:
            found = _own_hosts(data, source, base, certify)
            source_format = "suite"
        else:
            operator = _read_ansible_sources(sources, source, base)
            found = operator_hosts(operator, _suite_layers(data, operator, source, base, certify), base=Path.cwd())
            source_format = f"suite with {operator.format}"
        _check_groups_known(certify, list(found.specs.values()), source)
    hosts = select_inventory_hosts(
        found.names,
        found.specs,
        found.universe,
        source=source,
        only_hosts=only_hosts,
        limit=limit,
        unsafe=found.unsafe,
    )
    return Inventory(path=source, hosts=hosts, notes=found.notes, source_format=source_format)
