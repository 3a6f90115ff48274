"""``group_vars/`` and ``host_vars/`` next to an inventory source, found as Ansible finds them.

For a group or host called ``NAME`` the first of ``NAME``, ``NAME.yml``,
``NAME.yaml``, ``NAME.json`` that exists is used; a directory of that name
gives every file below it (sorted, sub-directories included, hidden and ``~``
files skipped, only the extensions ``.yml .yaml .json`` or none), merged in
that order. An empty file adds nothing; a file that is not a mapping is an
error naming it; a vault-encrypted file needs Ansible.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vrouter_preflight.inventory_sources.errors import OnlyAnsibleCanRead, SourceError
from vrouter_preflight.inventory_sources.source_files import MAX_DIRECTORY_FILES, read_text
from vrouter_preflight.inventory_sources.yaml_text import is_vault_file, load_yaml

VARS_EXTENSIONS = (".yml", ".yaml", ".json")


def vars_file_choice(name: str, listing: Iterable[str]) -> str | None:
    """Which entry of a ``group_vars/`` listing holds ``name``'s variables (Ansible's order).

    >>> vars_file_choice("compute", ["compute.yaml", "compute.yml", "all"])
    'compute.yml'
    >>> vars_file_choice("../etc", ["../etc"]) is None, vars_file_choice("web", ["web.ini"]) is None
    (True, True)
    """
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        return None
    entries = set(listing)
    for candidate in (name, *(name + ext for ext in VARS_EXTENSIONS)):
        if candidate in entries:
            return candidate
    return None


def _files_below(folder: Path, budget: list[int]) -> list[Path]:
    found: list[Path] = []
    for name in sorted(os.listdir(folder)):
        if name.startswith(".") or name.endswith("~"):
            continue
        path = folder / name
        suffix = os.path.splitext(name)[1]
        if path.is_dir() and not suffix:
            found.extend(_files_below(path, budget))
        elif path.is_file() and (not suffix or suffix in VARS_EXTENSIONS):
            budget[0] -= 1
            if budget[0] < 0:
                raise SourceError(f"{folder}: more than {MAX_DIRECTORY_FILES} variable files")
            found.append(path)
    return found


def _read_vars_file(path: Path) -> dict[str, object]:
    shown = str(path)
    text = read_text(path, shown)
    if is_vault_file(text):
        raise OnlyAnsibleCanRead(f"{shown} is vault-encrypted")
    data = load_yaml(text, shown)
    if data is None or data == {}:
        return {}
    if not isinstance(data, dict):
        raise SourceError(f"{shown}: expected a mapping of variables, got a {type(data).__name__}")
    return {str(key): value for key, value in data.items()}


def read_vars_layer(base: Path, subdir: str, names: Iterable[str]) -> dict[str, dict[str, object]]:
    """The variables ``base/subdir`` (``group_vars`` or ``host_vars``) holds for each of ``names``.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "group_vars" / "compute").mkdir(parents=True)
    >>> _ = (d / "group_vars" / "compute" / "10-login.yml").write_text("ansible_user: heat-admin\\n")
    >>> _ = (d / "group_vars" / "all.yaml").write_text("ansible_port: 2222\\n")
    >>> read_vars_layer(d, "group_vars", ["all", "compute", "network"])
    {'all': {'ansible_port': 2222}, 'compute': {'ansible_user': 'heat-admin'}}
    """
    folder = base / subdir
    if not folder.is_dir():
        return {}
    try:
        listing = os.listdir(folder)
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list: {exc.strerror or exc}") from None
    budget = [MAX_DIRECTORY_FILES]
    layer: dict[str, dict[str, object]] = {}
    for name in names:
        choice = vars_file_choice(name, listing)
        if choice is None:
            continue
        path = folder / choice
        files = _files_below(path, budget) if path.is_dir() else [path]
        merged: dict[str, object] = {}
        for file in files:
            merged.update(_read_vars_file(file))
        if merged:
            layer[name] = merged
    return layer
