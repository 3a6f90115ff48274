"""Reading inventory files from disk: bounded, UTF-8, one clear message per failure.

Also which entries of an inventory directory are sources, as Ansible decides:
sorted by name; hidden entries, ``group_vars``, ``host_vars``,
``vars_plugins`` and files ending in ``.pyc .pyo .swp .bak ~ .rpm .md .txt
.rst .orig .cfg .retry`` are skipped; sub-directories are read too.
"""

from __future__ import annotations

import os
from pathlib import Path

from vrouter_preflight.inventory_sources.errors import SourceError

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DIRECTORY_FILES = 10_000
_SKIPPED_NAMES = frozenset({"group_vars", "host_vars", "vars_plugins"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry")


def read_text(
    path: Path, shown: str, *, limit: int = MAX_FILE_BYTES, too_large: str = "is this really an inventory?"
) -> str:
    """The UTF-8 text of ``path``, at most ``limit`` bytes; ``too_large`` ends the message past it.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hosts"
    >>> _ = p.write_bytes(b"[compute]\\n\\xff\\n")
    >>> read_text(p, "hosts")
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory_sources.errors.SourceError: hosts: not UTF-8 text (byte 10)
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise SourceError(f"{shown}: inventory file not found") from None
    except IsADirectoryError:
        raise SourceError(f"{shown}: is a directory, not an inventory file") from None
    except OSError as exc:
        raise SourceError(f"{shown}: cannot read inventory: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise SourceError(f"{shown}: larger than {limit >> 20} MiB; {too_large}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{shown}: not UTF-8 text (byte {exc.start})") from None


def is_skipped_entry(name: str) -> bool:
    """Whether Ansible ignores this directory entry as an inventory source.

    >>> [n for n in ("hosts", ".git", "group_vars", "notes.txt", "old~", "prod.yml") if not is_skipped_entry(n)]
    ['hosts', 'prod.yml']
    """
    return name.startswith(".") or name in _SKIPPED_NAMES or name.endswith(_SKIPPED_SUFFIXES)


def directory_sources(directory: Path, shown: str) -> list[Path]:
    """The inventory files under ``directory`` in the order Ansible reads them (depth first, sorted)."""
    found: list[Path] = []
    seen: set[str] = set()

    def walk(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen:
            return  # a symbolic link back up the tree
        seen.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise SourceError(f"{shown}: cannot list {folder}: {exc.strerror or exc}") from None
        for name in names:
            if is_skipped_entry(name):
                continue
            path = folder / name
            if path.is_dir():
                walk(path)
            else:
                found.append(path)
                if len(found) > MAX_DIRECTORY_FILES:
                    raise SourceError(f"{shown}: more than {MAX_DIRECTORY_FILES} files; is this really an inventory?")

    walk(directory)
    return found
