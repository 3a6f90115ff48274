"""Checking the sections of an inventory (``defaults``, ``groups``, a host entry) and building a host from them.

Every host goes through :func:`finish_host`, whatever its source (the suite's
own YAML file, an Ansible inventory, a TF ``instances.yaml``), so every host
meets the same checks and the same messages: ``<source>: host 'c0': key 'port': …``.
A key knows where it may be written (:attr:`~vrouter_preflight.keys.spec.KeySpec.where`):
``address`` and ``path`` name one machine, so they belong in a host entry only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory.host import MAX_NAME, HostSpec, safe_name
from vrouter_preflight.inventory.local_paths import LocalPath
from vrouter_preflight.keys.checks import Invalid, describe, shown
from vrouter_preflight.keys.spec import build, key_path, key_specs, unknown_key

HOST_KEYS: tuple[str, ...] = tuple(spec.name for spec in key_specs(HostSpec))
_BY_NAME = {spec.name: spec for spec in key_specs(HostSpec)}
_BY_ATTRIBUTE = {spec.attribute: spec for spec in key_specs(HostSpec)}

Place = Literal["host", "groups", "defaults"]
"""Where a section sits: a host entry, an entry of the top-level ``groups``, ``defaults``."""


class UnknownKey(Invalid):
    """A key no model field declares (the message suggests the closest known key)."""


def mapping_or_empty(value: object) -> Mapping[object, object]:
    """A section's mapping; ``None`` (an entry left empty) is an empty one.

    >>> mapping_or_empty(None), mapping_or_empty({"port": 22})
    ({}, {'port': 22})
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of settings, got {describe(value)}")
    return value


def key_text(key: object) -> str:
    """A key found in the file, as named in a message (a long one cut short).

    >>> key_text("port"), key_text(3)
    ("'port'", '3')
    """
    return shown(key) if isinstance(key, str) else describe(key)


def check_value(key: object, raw: object, base: Path) -> tuple[str, Any]:
    """``(field, value)`` for one host key: checked, a local path resolved against ``base``.

    Raises :class:`UnknownKey` for a key no field declares, :class:`Invalid` for a bad value.

    >>> check_value("port", 2222, Path("/"))
    ('port', 2222)
    >>> check_value("prot", 22, Path("/"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory.sections.UnknownKey: unknown key; did you mean 'port'?
    """
    spec = _BY_NAME.get(key) if isinstance(key, str) else None
    if spec is None:
        raise UnknownKey(unknown_key(key, HOST_KEYS))
    value = spec.check(raw)
    if isinstance(spec.check, LocalPath):
        value = spec.check.resolve(value, base)
    return spec.attribute, value


def check_section(section: object, where: str, place: Place, source: str, base: Path) -> dict[str, Any]:
    """Validate one ``defaults``, ``groups`` or host entry; returns the HostSpec field values it sets.

    ``where`` names the section in messages (``defaults``, ``group 'Compute'``, ``host 'c0'``).

    >>> check_section({"user": "heat-admin"}, "defaults", "defaults", "inv.yaml", Path("/"))
    {'user': 'heat-admin'}
    >>> check_section({"address": "192.0.2.1"}, "group 'Compute'", "groups", "inv.yaml", Path("/"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: inv.yaml: group 'Compute': key 'address': names one machine, so it \
belongs in a host entry
    """
    try:
        entry = mapping_or_empty(section)
    except Invalid as exc:
        short = isinstance(section, str) and len(section) <= MAX_NAME
        hint = f"; write e.g. 'address: {section}'" if short and place == "host" else ""
        raise InventoryError(f"{source}: {where}: {exc}{hint}") from None
    values: dict[str, Any] = {}
    for key, raw in entry.items():
        spec = _BY_NAME.get(key) if isinstance(key, str) else None
        if spec is not None and place not in spec.where:
            raise InventoryError(f"{source}: {where}: key {key!r}: names one machine, so it belongs in a host entry")
        try:
            attribute, value = check_value(key, raw, base)
        except UnknownKey as exc:
            raise InventoryError(f"{source}: {where}: key {key_text(key)}: {exc}") from None
        except Invalid as exc:
            raise InventoryError(f"{source}: {where}: key {key_path(key, exc.path)!r}: {exc}") from None
        values[attribute] = value
    return values


def check_applies(name: str, own: Mapping[str, object], transport: str, source: str) -> None:
    """Refuse a key written in a host entry that its transport would ignore.

    >>> check_applies("c0", {"port": 22}, "local", "inv.yaml")
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: inv.yaml: host 'c0': key 'port': applies only to transport ssh, not local
    """
    for attribute in own:
        spec = _BY_ATTRIBUTE[attribute]
        refusal = spec.applies.refusal(transport)
        if refusal is not None:
            raise InventoryError(f"{source}: host {name!r}: key {spec.name!r}: {refusal}")


def host_name(name: object, source: str) -> str:
    """``name`` when it may name a host (it becomes a file name and a test id), else the error saying why.

    >>> host_name("../etc", "inv.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: inv.yaml: host '../etc': not a safe host name (letters, digits, ...
    """
    if not safe_name(name):
        shown_name = shown(name) if isinstance(name, str) else describe(name)
        raise InventoryError(
            f"{source}: host {shown_name}: not a safe host name (letters, digits, '.', '_', '-', "
            f"starting with a letter or digit, at most {MAX_NAME} characters); it becomes a file name and a test id"
        )
    return str(name)


def finish_host(
    name: str,
    values: Mapping[str, Any],
    own: Mapping[str, Any],
    source: str,
    certify_groups: Sequence[str] = (),
    **extra: Any,
) -> HostSpec:
    """The :class:`HostSpec` of ``values`` (every layer merged), after the checks that need the whole host.

    ``own`` are the values written in the host's own entry: each must apply to
    the host's transport. A snapshot needs its ``path``; a host in one of
    ``certify_groups`` is certified unless its own entry says ``certify: false``.
    ``extra`` sets the fields that are not keys (passwords, ``unusable``).

    >>> finish_host("c0", {"groups": ("rack1",)}, {}, "inv.yaml", ["rack1"]).certify
    True
    """
    merged = dict(values)
    transport = str(merged.get("transport", "ssh"))
    check_applies(name, own, transport, source)
    if transport == "snapshot" and merged.get("path") is None:
        raise InventoryError(f"{source}: host {name!r}: key 'path': required for transport snapshot")
    if "certify" not in own and set(certify_groups) & set(merged.get("groups", ())):
        merged["certify"] = True  # a host in a certify group; its own certify: false wins
    return build(HostSpec, {"name": name, **merged, **extra})


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
    checked_defaults = check_section(defaults, "defaults", "defaults", source, directory)
    checked_name = host_name(name, source)
    own = check_section(mapping, f"host {checked_name!r}", "host", source, directory)
    return finish_host(checked_name, {**checked_defaults, **own}, own, source, certify_groups)
