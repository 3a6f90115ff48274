"""Reading an operator's inventory from disk: which format it is, then the matching reader.

:func:`read_operator_inventory` takes one path or several (an Ansible ``-i``
list) and returns the neutral
:class:`~vrouter_preflight.inventory_sources.model.OperatorInventory`.

A single file is, in this order: an executable script or a ``.toml`` file or
a vault-encrypted file (only Ansible reads those); JSON printed by
``ansible-inventory --list``; Tungsten Fabric's ``instances.yaml``; an
Ansible YAML inventory (``.yml``, ``.yaml``, ``.json`` or no extension, as
Ansible tries); else an INI inventory. A directory is every source file in it
(see :mod:`~vrouter_preflight.inventory_sources.source_files`), read like
Ansible does. Each source's directory may hold ``group_vars/`` and
``host_vars/``. When a source needs Ansible itself (a script, a plugin
configuration, a vault-encrypted file), ``ansible-inventory --list`` is asked
for the whole inventory; without it the run stops with one message saying why.

An inline ``!vault`` value does not need Ansible: ``ansible-inventory --list``
prints it still encrypted (``{"__ansible_vault": ...}``), so asking it would
gain nothing. It is read as a hidden ``VaultedValue``, and only a connection
variable holding one is a problem, for that host. A whole vault-encrypted file
(``group_vars/all/vault.yml``) is decrypted by ``ansible-inventory`` with the
vault password configured the Ansible way, and its values come back in clear.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Union

from vrouter_preflight.inventory_sources.ansible_cli import run_ansible_inventory
from vrouter_preflight.inventory_sources.ansible_ini import read_ini_inventory
from vrouter_preflight.inventory_sources.ansible_json import looks_like_list_json, read_list_json
from vrouter_preflight.inventory_sources.ansible_yaml import read_yaml_inventory
from vrouter_preflight.inventory_sources.errors import NeedsAnsibleError, OnlyAnsibleCanRead, SourceError
from vrouter_preflight.inventory_sources.graph import InventoryBuilder, VarsLayer, build_inventory
from vrouter_preflight.inventory_sources.model import OperatorInventory, SourceFormat
from vrouter_preflight.inventory_sources.source_files import directory_sources, read_text
from vrouter_preflight.inventory_sources.tf_instances import looks_like_tf_instances, read_tf_instances
from vrouter_preflight.inventory_sources.vars_files import read_vars_layer
from vrouter_preflight.inventory_sources.yaml_text import is_vault_file, load_yaml

PathLike = Union[str, "os.PathLike[str]"]
YAML_EXTENSIONS = ("", ".yml", ".yaml", ".json")


def needs_ansible_reason(path: Path, text: str) -> str | None:
    """Why only Ansible can read this file, or ``None`` when a reader here can (``text``: its start is enough).

    >>> needs_ansible_reason(Path("inv.toml"), "[all]"), needs_ansible_reason(Path("hosts"), "[all]") is None
    ('it is a TOML inventory', True)
    """
    if text.startswith("#!") and os.access(path, os.X_OK):
        return "it is an executable inventory script"
    if path.suffix == ".toml":
        return "it is a TOML inventory"
    if is_vault_file(text):
        return "it is vault-encrypted"
    return None


class _Read:
    """What was read once per file (its text, its YAML document), so one file is read and parsed once."""

    def __init__(self) -> None:
        self.texts: dict[Path, str] = {}
        self.documents: dict[Path, object] = {}

    def text(self, path: Path, shown: str | None = None) -> str:
        if path not in self.texts:
            self.texts[path] = read_text(path, shown or str(path))
        return self.texts[path]

    def document(self, path: Path, shown: str) -> object:
        if path not in self.documents:
            self.documents[path] = load_yaml(self.text(path, shown), shown)
        return self.documents[path]


def _read_ansible_file(path: Path, read: _Read, builder: InventoryBuilder) -> SourceFormat:
    """Parse one Ansible source into ``builder``: YAML when it reads as a YAML mapping, else INI."""
    text = read.text(path)
    reason = needs_ansible_reason(path, text)
    if reason:
        raise OnlyAnsibleCanRead(f"{path}: {reason}")
    shown = str(path)
    if path.suffix in YAML_EXTENSIONS:
        try:
            data = read.document(path, shown)
        except SourceError:
            if path.suffix:
                raise
            data = None  # no extension: Ansible goes on to the INI reader
        if isinstance(data, dict) or path.suffix:
            try:
                read_yaml_inventory(data, builder)
            except OnlyAnsibleCanRead as signal:
                raise OnlyAnsibleCanRead(f"{shown}: {signal}") from None
            return "ansible-yaml"
    read_ini_inventory(text, builder)
    return "ansible-ini"


def _vars_layers(sources: Sequence[Path], builder: InventoryBuilder) -> tuple[list[VarsLayer], list[VarsLayer]]:
    bases: list[Path] = []
    for source in sources:
        base = source if source.is_dir() else source.parent
        if base not in bases:
            bases.append(base)
    groups = builder.group_names()
    hosts = list(builder.hosts())
    group_layers: list[VarsLayer] = [read_vars_layer(base, "group_vars", groups) for base in bases]
    host_layers: list[VarsLayer] = [read_vars_layer(base, "host_vars", hosts) for base in bases]
    return group_layers, host_layers


def _read_single_file(path: Path, shown: str, read: _Read) -> OperatorInventory | None:
    """A lone file in a format only read alone (``--list`` JSON, ``instances.yaml``), else ``None``."""
    text = read.text(path, shown)
    if needs_ansible_reason(path, text):
        return None
    data: object = None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if looks_like_list_json(data):
        builder = InventoryBuilder(shown)
        read_list_json(data, builder)
        return build_inventory(builder, sources=[shown], source_format="ansible-list-json")
    try:
        data = read.document(path, shown)
    except SourceError:
        if path.suffix and (path.suffix in YAML_EXTENSIONS or ".yaml" in path.name or ".yml" in path.name):
            raise  # named as YAML (instances.yaml.full_example too): the YAML error is the one to show
        return None
    if looks_like_tf_instances(data):
        return read_tf_instances(data, shown)
    return None


def _read_static(sources: Sequence[Path], shown: Sequence[str], read: _Read) -> OperatorInventory:
    builder = InventoryBuilder(", ".join(shown))
    formats: list[SourceFormat] = []
    for source in sources:
        if source.is_dir():
            formats.append("ansible-directory")
            for file in directory_sources(source, str(source)):
                _read_ansible_file(file, read, builder)
        else:
            formats.append(_read_ansible_file(source, read, builder))
    group_layers, host_layers = _vars_layers(sources, builder)
    source_format = formats[0] if len(formats) == 1 else "ansible-directory"
    return build_inventory(
        builder, sources=shown, source_format=source_format, group_vars=group_layers, host_vars=host_layers
    )


def read_operator_inventory(
    paths: PathLike | Sequence[PathLike], *, ansible_inventory: str | None = None
) -> OperatorInventory:
    """Read an operator's inventory (one path or several) into the neutral model.

    ``ansible_inventory`` names the ``ansible-inventory`` executable to use for
    sources only Ansible reads (default: the one on PATH).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "multinode").write_text("[compute]\\ncompute[01:02] ansible_user=kolla\\n")
    >>> inv = read_operator_inventory(d / "multinode")
    >>> inv.format, inv.host_names, inv.hosts["compute02"].variables["ansible_user"]
    ('ansible-ini', ('compute01', 'compute02'), 'kolla')
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise SourceError("no inventory source given")
    sources = [Path(os.fspath(item)) for item in items]
    shown = [os.fspath(item) for item in items]
    for source, name in zip(sources, shown):
        if not source.exists():
            raise SourceError(f"{name}: inventory not found")
    try:
        inventory = _read_static_or_alone(sources, shown)
    except OnlyAnsibleCanRead as signal:
        inventory = _read_through_ansible(shown, str(signal), ansible_inventory)
    if not inventory.hosts:
        raise SourceError(f"{inventory.shown}: no hosts; an empty inventory would check nothing")
    return inventory


def _read_static_or_alone(sources: Sequence[Path], shown: Sequence[str]) -> OperatorInventory:
    read = _Read()
    if len(sources) == 1 and not sources[0].is_dir():
        alone = _read_single_file(sources[0], shown[0], read)
        if alone is not None:
            return alone
    return _read_static(sources, shown, read)


def _read_through_ansible(shown: Sequence[str], reason: str, executable: str | None) -> OperatorInventory:
    data = run_ansible_inventory(shown, reason, executable=executable)
    builder = InventoryBuilder(", ".join(shown))
    read_list_json(data, builder)
    if not builder.hosts():
        raise NeedsAnsibleError(f"{reason}: ansible-inventory -i {', '.join(shown)} found no host in it")
    return build_inventory(builder, sources=shown, source_format="ansible-inventory")
