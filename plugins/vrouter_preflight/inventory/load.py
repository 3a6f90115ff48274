"""Loading an inventory: the file's top-level keys, ``defaults``, each host entry, ``--hosts``.

Every host goes through :func:`host_spec_from_mapping`, whatever its source (this
YAML file, or a reader of another inventory format), so every host meets the
same checks and the same messages: ``<source>: host 'c0': key 'port': …``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory.host import MAX_NAME, HostSpec, Inventory, group_names, safe_name
from vrouter_preflight.inventory.local_paths import LocalPath
from vrouter_preflight.inventory.yaml_file import read_yaml
from vrouter_preflight.keys.checks import Invalid, Rule, describe, shown
from vrouter_preflight.keys.spec import TOP_LEVEL, KeySpec, build, key_path, key_specs, unknown_key

HOST_KEYS: tuple[str, ...] = tuple(spec.name for spec in key_specs(HostSpec))
_BY_NAME = {spec.name: spec for spec in key_specs(HostSpec)}
_BY_ATTRIBUTE = {spec.attribute: spec for spec in key_specs(HostSpec)}


def _mapping_or_empty(value: object) -> Mapping[object, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of settings, got {describe(value)}")
    return value


def _hosts(value: object) -> Mapping[object, object]:
    if value is None or value == {}:
        raise Invalid("no hosts; an empty inventory would check nothing")
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of host name to settings, got {describe(value)}")
    return value


DEFAULTS = KeySpec(
    "defaults",
    "defaults",
    Rule("a mapping of host keys", _mapping_or_empty),
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
    "the hosts, in the order they are checked; an empty entry means all defaults; each name once",
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
TOP_LEVEL_KEYS = (DEFAULTS, HOSTS, CERTIFY_GROUPS)
_TOP_NAMES = tuple(spec.name for spec in TOP_LEVEL_KEYS)


def _key_text(key: object) -> str:
    """A key found in the file, as named in a message (a long one cut short)."""
    return shown(key) if isinstance(key, str) else describe(key)


def _check_section(section: object, where: str, source: str, base: Path, *, is_defaults: bool) -> dict[str, Any]:
    """Validate one ``defaults`` or host entry; returns the HostSpec field values it sets."""
    try:
        entry = DEFAULTS.check(section) if is_defaults else _mapping_or_empty(section)
    except Invalid as exc:
        short = isinstance(section, str) and len(section) <= MAX_NAME
        hint = f"; write e.g. 'address: {section}'" if short and not is_defaults else ""
        raise InventoryError(f"{source}: {where}: {exc}{hint}") from None
    values: dict[str, Any] = {}
    for key, raw in entry.items():
        spec = _BY_NAME.get(key) if isinstance(key, str) else None
        if spec is None:
            raise InventoryError(f"{source}: {where}: key {_key_text(key)}: {unknown_key(key, HOST_KEYS)}")
        if is_defaults and "defaults" not in spec.where:
            raise InventoryError(f"{source}: {where}: key {key!r}: names one machine, so it belongs in a host entry")
        try:
            value = spec.check(raw)
            if isinstance(spec.check, LocalPath):
                value = spec.check.resolve(value, base)
        except Invalid as exc:
            raise InventoryError(f"{source}: {where}: key {key_path(key, exc.path)!r}: {exc}") from None
        values[spec.attribute] = value
    return values


def _check_applies(name: str, own: Mapping[str, object], transport: str, source: str) -> None:
    """Refuse a key written in a host entry that its transport would ignore."""
    for attribute in own:
        spec = _BY_ATTRIBUTE[attribute]
        refusal = spec.applies.refusal(transport)
        if refusal is not None:
            raise InventoryError(f"{source}: host {name!r}: key {spec.name!r}: {refusal}")


def _host(
    name: object,
    entry: object,
    defaults: Mapping[str, Any],
    source: str,
    base: Path,
    certify_groups: Sequence[str],
) -> HostSpec:
    if not safe_name(name):
        shown_name = shown(name) if isinstance(name, str) else describe(name)
        raise InventoryError(
            f"{source}: host {shown_name}: not a safe host name (letters, digits, '.', '_', '-', "
            f"starting with a letter or digit, at most {MAX_NAME} characters); it becomes a file name and a test id"
        )
    host_name = str(name)
    own = _check_section(entry, f"host {host_name!r}", source, base, is_defaults=False)
    values = {**defaults, **own}
    transport = str(values.get("transport", "ssh"))
    _check_applies(host_name, own, transport, source)
    if transport == "snapshot" and values.get("path") is None:
        raise InventoryError(f"{source}: host {host_name!r}: key 'path': required for transport snapshot")
    groups = values.get("groups", ())
    if "certify" not in own and set(certify_groups) & set(groups):
        values["certify"] = True  # a host in a certify group; its own certify: false wins
    return build(HostSpec, {"name": host_name, **values})


def host_spec_from_mapping(
    name: str,
    mapping: Mapping[str, object] | None,
    *,
    source: str,
    defaults: Mapping[str, object] | None = None,
    base: Path | None = None,
    certify_groups: Sequence[str] = (),
) -> HostSpec:
    """Build and check one host from a plain mapping of inventory keys, as a host entry of an inventory file.

    ``source`` starts every message (a file, ``ansible inventory /etc/ansible/hosts`` …);
    ``defaults`` are checked like the file's ``defaults`` and apply where they
    make sense; relative paths are relative to ``base`` (default: the current
    directory); a host in one of ``certify_groups`` is certified unless it says
    ``certify: false``. Any mistake is one :class:`InventoryError`.

    >>> host_spec_from_mapping("c0", {"address": "192.0.2.10", "port": 2222}, source="ansible").display_address
    '192.0.2.10:2222'
    >>> host_spec_from_mapping("c0", {"transport": "local", "port": 22}, source="ansible")
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: ansible: host 'c0': key 'port': applies only to transport ssh, not local
    """
    directory = Path.cwd() if base is None else base
    checked_defaults = _check_section(defaults, "defaults", source, directory, is_defaults=True)
    return _host(name, mapping, checked_defaults, source, directory, certify_groups)


def _select(hosts: tuple[HostSpec, ...], only_hosts: Sequence[str], source: str) -> tuple[HostSpec, ...]:
    wanted = [part.strip() for item in only_hosts for part in item.split(",") if part.strip()]
    if not wanted:
        raise InventoryError(f"{source}: --hosts selects no host")
    known = [spec.name for spec in hosts]
    known_set = set(known)
    unknown = [name for name in wanted if name not in known_set]
    if unknown:
        hints = [
            f"{shown(name)} (did you mean {close[0]!r}?)" if close else shown(name)
            for name in unknown[:10]
            for close in [difflib.get_close_matches(name[:MAX_NAME], known, n=1)]
        ]
        listed = ", ".join(known[:50]) + (f" and {len(known) - 50} more" if len(known) > 50 else "")
        raise InventoryError(f"{source}: --hosts names unknown host {', '.join(hints)}; known hosts: {listed}")
    wanted_set = set(wanted)
    return tuple(spec for spec in hosts if spec.name in wanted_set)


def _check_groups_known(certify_groups: Sequence[str], hosts: Sequence[HostSpec], source: str) -> None:
    """Refuse a ``certify_groups`` entry no host belongs to (a typo would certify nothing)."""
    known = sorted({group for spec in hosts for group in spec.groups})
    for group in certify_groups:
        if group not in known:
            close = difflib.get_close_matches(group, known, n=1)
            listed = ", ".join(known) or "none"
            hint = f"; did you mean {close[0]!r}?" if close else f"; groups in this inventory: {listed}"
            raise InventoryError(f"{source}: key 'certify_groups': no host is in group {group!r}{hint}")


def load_inventory(path: str | Path, *, only_hosts: Sequence[str] | None = None) -> Inventory:
    """Load and validate the inventory at ``path``; hosts keep their file order.

    ``only_hosts`` (from ``--hosts``) keeps only the named hosts; each item may
    hold several names separated by commas. Any problem raises one
    :class:`InventoryError` naming the file, the host and the key.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> text = "defaults: {user: heat-admin}\\nhosts:\\n  c0: {address: 192.0.2.10}\\n  c1:\\n"
    >>> _ = (d / "inv.yaml").write_text(text)
    >>> [(h.name, h.user, h.address) for h in load_inventory(d / "inv.yaml").hosts]
    [('c0', 'heat-admin', '192.0.2.10'), ('c1', 'heat-admin', None)]
    >>> load_inventory(d / "inv.yaml", only_hosts=["c1"]).hosts[0].name
    'c1'
    >>> _ = (d / "bad.yaml").write_text("hosts:\\n  c0: {port: twenty-two}\\n")
    >>> load_inventory(d / "bad.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: ...bad.yaml: host 'c0': key 'port': expected an integer from 1 to 6...
    """
    source = str(path)
    file = Path(path)
    data = read_yaml(file, source)
    base = file.absolute().parent
    if data is None:
        raise InventoryError(f"{source}: the inventory is empty; it needs a 'hosts' mapping")
    if not isinstance(data, Mapping):
        raise InventoryError(
            f"{source}: expected a mapping with 'hosts' (and optional 'defaults'), got {describe(data)}"
        )
    for key in data:
        if key not in _TOP_NAMES:
            raise InventoryError(f"{source}: key {_key_text(key)}: {unknown_key(key, _TOP_NAMES, 'top-level key')}")
    defaults = _check_section(data.get("defaults"), "defaults", source, base, is_defaults=True)
    try:
        certify_groups: tuple[str, ...] = CERTIFY_GROUPS.check(data.get("certify_groups", []))
    except Invalid as exc:
        raise InventoryError(f"{source}: key 'certify_groups': {exc}") from None
    try:
        raw_hosts = HOSTS.check(data.get("hosts"))
    except Invalid as exc:
        raise InventoryError(f"{source}: key 'hosts': {exc}") from None
    hosts = tuple(_host(name, entry, defaults, source, base, certify_groups) for name, entry in raw_hosts.items())
    _check_groups_known(certify_groups, hosts, source)
    return Inventory(path=source, hosts=hosts if only_hosts is None else _select(hosts, only_hosts, source))
