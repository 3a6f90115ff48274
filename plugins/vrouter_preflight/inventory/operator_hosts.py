"""The hosts of an operator's inventory (Ansible, TF ``instances.yaml``) as the suite's hosts.

Each host's connection variables are mapped onto the suite's keys
(:func:`~vrouter_preflight.inventory_sources.connection_settings`) and checked by
the same checks as a host of the suite's own file (:func:`~.sections.check_value`).
The settings of a suite inventory that names the Ansible sources
(``ansible_inventory:``) then apply on top, lowest first:

1. the host's Ansible connection variables (and TF's ``AGENT_MODE``), merged with
   Ansible's own precedence (host vars over child group over parent group over ``all``);
2. the suite file's ``defaults``;
3. the suite file's ``groups`` entries for the groups the host is in, in Ansible's group
   order (``all`` first, a parent before its child, then ``ansible_group_priority``, then
   the name): a child group's setting wins over its parent's;
4. the suite file's entry for the host (``hosts:``).

A key set in a later layer replaces the earlier one whole (``vrouter``, ``jump``,
``groups`` too), as ``defaults`` and host entries do in the suite's own file.

What is wrong with ONE host on the Ansible side (an ``ansible_connection`` the suite
does not speak, a become method other than sudo, a Jinja template it cannot evaluate, a
value out of its range) makes that host unusable: it is never contacted and its
``reachable`` check is an ERROR saying why; the other hosts carry on. A mistake in the
suite file itself stops the run (exit 4), as for any suite inventory.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vrouter_preflight.inventory.host import HostSpec, safe_name
from vrouter_preflight.inventory.sections import UnknownKey, check_value, finish_host
from vrouter_preflight.inventory_sources import (
    InventoryHost,
    OperatorInventory,
    PatternUniverse,
    Secret,
    connection_settings,
    universe_of,
)
from vrouter_preflight.keys.checks import Invalid

MAX_UNUSABLE_TEXT = 1000
"""Characters of the reasons a host is unusable (a host has a handful of connection variables)."""
_SECRET_FIELDS = {"password": "login_password", "sudo_password": "sudo_password"}


@dataclass(frozen=True)
class SuiteLayers:
    """The suite file's settings for an operator's hosts, each section checked (field name -> value).

    ``own`` names the source of the suite's keys in messages (the suite file).

    >>> SuiteLayers().groups
    mappingproxy({})
    """

    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    certify_groups: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class OperatorHosts:
    """An operator's hosts as the suite's: every name in inventory order, the specs of the names that are
    safe, why the others cannot be named, what ``--limit`` matches against (built only when asked), and
    notes worth showing.

    >>> OperatorHosts(names=(), specs={}, unsafe={}, universe=lambda: PatternUniverse(hosts=())).notes
    ()
    """

    names: tuple[str, ...]
    specs: Mapping[str, HostSpec]
    unsafe: Mapping[str, str]
    universe: Callable[[], PatternUniverse]
    notes: tuple[str, ...] = ()


def _connection_values(
    host: InventoryHost, base: Path
) -> tuple[dict[str, Any], dict[str, Secret], list[str], list[str]]:
    """Checked values of the host's connection variables, its secrets, its problems and notes."""
    mapped = connection_settings(host)
    problems = list(mapped.problems)
    values: dict[str, Any] = {}
    secrets: dict[str, Secret] = {}
    for key, raw in mapped.settings.items():
        origin = mapped.origins.get(key, key)
        if key in _SECRET_FIELDS:
            if isinstance(raw, Secret):
                secrets[_SECRET_FIELDS[key]] = raw
            continue
        try:
            attribute, value = check_value(key, raw, base)
        except UnknownKey:
            problems.append(f"{origin}: the suite has no setting for it")
        except Invalid as exc:
            problems.append(f"{origin}: {exc}")
        else:
            values[attribute] = value
    if host.vrouter_mode is not None:
        values["vrouter_mode"] = host.vrouter_mode
    return values, secrets, problems, list(mapped.notes)


def _group_layers(host: InventoryHost, inventory: OperatorInventory, layers: SuiteLayers) -> list[Mapping[str, Any]]:
    """The suite's ``groups`` entries that apply to ``host``, in Ansible's merge order (later wins)."""
    named = [group for group in ("all", *host.groups) if group in layers.groups and group in inventory.groups]
    named.sort(key=lambda group: inventory.groups[group].merge_order)
    return [layers.groups[group] for group in named]


def _labels(host: InventoryHost, labelled: Container[str], suite_labels: Iterable[str]) -> tuple[str, ...]:
    """The host's ``groups`` labels: its Ansible groups (those in ``labelled``, that may be labels), then the
    suite's own."""
    labels = dict.fromkeys(group for group in host.groups if group in labelled)
    labels.update(dict.fromkeys(suite_labels))
    return tuple(labels)


def _unusable_text(problems: Sequence[str]) -> str | None:
    if not problems:
        return None
    text = "not contacted: " + "; ".join(problems)
    return text if len(text) <= MAX_UNUSABLE_TEXT else text[:MAX_UNUSABLE_TEXT] + "…"


def operator_host(
    host: InventoryHost,
    inventory: OperatorInventory,
    layers: SuiteLayers,
    base: Path,
    notes: dict[str, list[str]],
    labelled: Container[str] | None = None,
) -> HostSpec:
    """One operator's host as a :class:`HostSpec` (``unusable`` says what keeps it from being contacted).

    ``base`` resolves relative paths from the Ansible side (Ansible's ssh reads them from where
    it runs); ``notes`` collects, per note, the hosts it is about; ``labelled`` are the group names
    that may be ``groups`` labels (default: every safe one, looked at per host).

    >>> from vrouter_preflight.inventory_sources import HostVars
    >>> inv = OperatorInventory(("hosts.ini",), "ansible-ini")
    >>> spec = operator_host(InventoryHost("c1", HostVars({"ansible_host": "192.0.2.1", "ansible_port": "2222"})),
    ...                      inv, SuiteLayers(), Path("/"), {})
    >>> spec.display_address, spec.unusable
    ('192.0.2.1:2222', None)
    >>> operator_host(InventoryHost("w1", HostVars({"ansible_connection": "winrm"})), inv, SuiteLayers(), Path("/"),
    ...               {}).unusable  # doctest: +ELLIPSIS
    "not contacted: ansible_connection: 'winrm' is not supported; the suite connects with ssh ..."
    """
    values, secrets, problems, host_notes = _connection_values(host, base)
    own = layers.hosts.get(host.name, {})
    suite_values: dict[str, Any] = dict(layers.defaults)
    for group_values in _group_layers(host, inventory, layers):
        suite_values.update(group_values)
    suite_values.update(own)
    merged = {**values, **suite_values}
    safe = labelled if labelled is not None else {group for group in host.groups if safe_name(group)}
    merged["groups"] = _labels(host, safe, suite_values.get("groups", ()))
    if merged.get("transport") == "local" and "sudo_password" in secrets:
        host_notes.append("the local transport takes the sudo password from sudo_password_env only")
    for note in host_notes:
        notes.setdefault(note, []).append(host.name)
    return finish_host(
        host.name,
        merged,
        own,
        layers.source or inventory.shown,
        layers.certify_groups,
        unusable=_unusable_text(problems),
        **secrets,
    )


def _universe(inventory: OperatorInventory, specs: Mapping[str, HostSpec]) -> PatternUniverse:
    """Ansible's groups, plus the suite's own ``groups`` labels that are not Ansible groups."""
    ansible = universe_of(inventory)
    extra: dict[str, dict[str, None]] = {}
    for spec in specs.values():
        for label in spec.groups:
            if label not in ansible.group_hosts:
                extra.setdefault(label, {})[spec.name] = None
    if not extra:
        return ansible
    groups = {**ansible.group_hosts, **{label: tuple(names) for label, names in extra.items()}}
    return PatternUniverse(hosts=ansible.hosts, group_hosts=MappingProxyType(groups))


def shown_notes(notes: Mapping[str, Sequence[str]], limit: int = 5) -> tuple[str, ...]:
    """Each note once, with the hosts it is about (a few named, the rest counted).

    >>> shown_notes({"StrictHostKeyChecking=no is read as accept-new": ["c1", "c2", "c3"]}, limit=2)
    ('c1, c2 and 1 more: StrictHostKeyChecking=no is read as accept-new',)
    """
    shown = []
    for note, hosts in notes.items():
        named = ", ".join(hosts[:limit]) + (f" and {len(hosts) - limit} more" if len(hosts) > limit else "")
        shown.append(f"{named}: {note}")
    return tuple(shown)


def operator_hosts(inventory: OperatorInventory, layers: SuiteLayers, *, base: Path) -> OperatorHosts:
    """Every host of an operator's inventory as the suite's, in inventory order (linear in the fleet).

    A host whose name cannot name a file or a test id is listed in ``unsafe``: it is an error
    only when it is selected (``--limit`` can leave it out).

    >>> from vrouter_preflight.inventory_sources import HostVars
    >>> inv = OperatorInventory(("hosts.ini",), "ansible-ini",
    ...     hosts={"c1": InventoryHost("c1"), "fe80::1": InventoryHost("fe80::1")})
    >>> found = operator_hosts(inv, SuiteLayers(), base=Path("/"))
    >>> found.names, list(found.specs), list(found.unsafe)
    (('c1', 'fe80::1'), ['c1'], ['fe80::1'])
    """
    specs: dict[str, HostSpec] = {}
    unsafe: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    labelled = frozenset(group for group in inventory.groups if safe_name(group))
    for name, host in inventory.hosts.items():
        if not safe_name(name):
            unsafe[name] = "its name cannot name a file and a test id (letters, digits, '.', '_', '-')"
            continue
        specs[name] = operator_host(host, inventory, layers, base, notes, labelled)
    return OperatorHosts(
        names=inventory.host_names,
        specs=MappingProxyType(specs),
        unsafe=MappingProxyType(unsafe),
        universe=lambda: _universe(inventory, specs),
        notes=(*inventory.notes, *shown_notes(notes)),
    )
