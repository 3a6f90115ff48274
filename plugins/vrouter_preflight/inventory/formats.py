"""Which kind of inventory ``--inventory`` names: the suite's own YAML, or an operator's (Ansible, TF).

Decided from the content, never from a flag, in this order:

1. a directory is an Ansible inventory directory (its sources, ``group_vars/``, ``host_vars/``);
2. an executable file starting with ``#!`` (an inventory script), a ``.toml`` file, or a
   vault-encrypted file is for Ansible itself (``ansible-inventory`` reads it);
3. JSON with ``_meta`` or groups listing their hosts is ``ansible-inventory --list`` output;
4. a YAML mapping is

   * TF's ``instances.yaml`` when it has ``instances:`` (with ``provider_config:``, or
     instances holding ``ip``, ``roles`` or ``provider``);
   * an Ansible inventory plugin configuration when it has ``plugin:``;
   * the **suite's own** inventory when it has a top-level ``defaults:``, ``ansible_inventory:``
     or ``certify_groups:``, or a top-level ``hosts:`` that is not an Ansible group (a mapping of
     host names, not of ``hosts``/``children``/``vars``), or when no top-level entry is an
     Ansible group at all (so a misspelt suite key gets the suite's "did you mean");
   * else an Ansible YAML inventory (top-level groups with ``hosts``, ``children``, ``vars``);

5. anything else is an Ansible INI inventory, unless the file is named ``.yaml``, ``.yml`` or
   ``.json``: then it must be a YAML mapping, and the YAML error (or "expected a mapping") is
   the message.

The suite's own file is read with the suite's strict reader (a key given twice is an
error); an operator's file with the reader of its format, as Ansible would read it.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory.local_paths import describe_kind
from vrouter_preflight.inventory.yaml_file import read_yaml
from vrouter_preflight.inventory_sources import SourceError
from vrouter_preflight.inventory_sources.ansible_json import looks_like_list_json
from vrouter_preflight.inventory_sources.loading import needs_ansible_reason
from vrouter_preflight.inventory_sources.source_files import read_text
from vrouter_preflight.inventory_sources.tf_instances import looks_like_tf_instances
from vrouter_preflight.inventory_sources.yaml_text import load_yaml

Kind = Literal["suite", "operator"]
YAML_SUFFIXES = (".yaml", ".yml", ".json")
SUITE_ONLY_KEYS = frozenset({"defaults", "ansible_inventory", "certify_groups"})
ANSIBLE_GROUP_SECTIONS = frozenset({"hosts", "children", "vars"})
_HEAD_BYTES = 64


@dataclass(frozen=True)
class Detected:
    """What a path holds: ``kind``, and the parsed document when it is the suite's own (``data``).

    >>> Detected("operator").data is None
    True
    """

    kind: Kind
    data: object = None


def is_ansible_group(value: object) -> bool:
    """Whether a top-level YAML value reads as an Ansible group (a mapping with hosts, children or vars).

    >>> is_ansible_group({"hosts": {"c0": None}}), is_ansible_group({"c0": {"port": 22}}), is_ansible_group(None)
    (True, False, False)
    """
    return isinstance(value, Mapping) and any(key in ANSIBLE_GROUP_SECTIONS for key in value)


def kind_of_document(data: object, suffix: str) -> Kind:
    """The kind of a parsed YAML document (rule 4 and 5 above); ``suffix`` is the file's (``.yaml``, ``""``).

    >>> kind_of_document({"hosts": {"c0": {"address": "192.0.2.1"}}}, ".yaml")
    'suite'
    >>> kind_of_document({"Compute": {"hosts": {"c0": None}}}, ".yaml")
    'operator'
    >>> kind_of_document({"host": {"c0": None}}, ".yaml"), kind_of_document("c0 ansible_port=22", "")
    ('suite', 'operator')
    >>> kind_of_document({"instances": {"kvm1": {"ip": "192.0.2.3"}}}, ".yaml")
    'operator'
    """
    if not isinstance(data, Mapping):
        return "suite" if data is None or suffix in YAML_SUFFIXES else "operator"
    if looks_like_tf_instances(data) or isinstance(data.get("plugin"), str):
        return "operator"
    if SUITE_ONLY_KEYS & set(data):
        return "suite"
    if "hosts" in data and not is_ansible_group(data["hosts"]):
        return "suite"
    if not any(is_ansible_group(value) for value in data.values()):
        return "suite"
    return "operator"


def _head(path: Path, shown: str) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InventoryError(f"{shown}: inventory file not found") from None
    except OSError as exc:
        raise InventoryError(f"{shown}: cannot read inventory: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InventoryError(f"{shown}: is {describe_kind(info.st_mode)}, not an inventory file or directory")
    try:
        with path.open("rb") as stream:
            return stream.read(_HEAD_BYTES)
    except OSError as exc:
        raise InventoryError(f"{shown}: cannot read inventory: {exc.strerror or exc}") from None


def _list_json(path: Path, shown: str, head: bytes) -> bool:
    """``ansible-inventory --list`` output (rule 3)."""
    if not head.lstrip().startswith(b"{"):
        return False
    try:
        data = json.loads(read_text(path, shown))
    except (ValueError, SourceError):
        return False
    return looks_like_list_json(data)


def _lenient_kind(path: Path, shown: str) -> Kind | None:
    """The kind as Ansible's YAML reading sees it (duplicates allowed, larger files); ``None`` if not YAML."""
    try:
        return kind_of_document(load_yaml(read_text(path, shown), shown), path.suffix)
    except SourceError:
        return None


def detect(path: Path, shown: str) -> Detected:
    """Which kind of inventory ``path`` holds; the suite's own document comes parsed.

    A file that is neither raises one :class:`InventoryError` naming it and why.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "fleet.yaml").write_text("hosts:\\n  c0: {address: 192.0.2.1}\\n")
    >>> _ = (d / "multinode").write_text("[compute]\\ncompute01\\n")
    >>> detect(d / "fleet.yaml", "fleet.yaml"), detect(d / "multinode", "multinode").kind
    (Detected(kind='suite', data={'hosts': {'c0': {'address': '192.0.2.1'}}}), 'operator')
    """
    if path.is_dir():
        return Detected("operator")
    head = _head(path, shown)
    if needs_ansible_reason(path, head.decode("utf-8", "replace")) or _list_json(path, shown, head):
        return Detected("operator")
    try:
        data = read_yaml(path, shown)
    except InventoryError:
        lenient = _lenient_kind(path, shown)
        if lenient == "suite" or (lenient is None and path.suffix in YAML_SUFFIXES):
            raise  # the suite's reader said what is wrong
        return Detected("operator")
    kind = kind_of_document(data, path.suffix)
    return Detected(kind, data if kind == "suite" else None)
