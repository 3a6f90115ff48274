"""The README's Layout table matches the tree: every entry it names exists, and every top-level entry
of the repository and every module or package of ``plugins/vrouter_preflight/`` is named in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "plugins" / "vrouter_preflight"


def layout_paths() -> set[str]:
    """Every path named in the first column of the README's Layout table (``a/``, ``b.py``; no trailing slash)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    paths: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        paths.update(name.rstrip("/") for name in re.findall(r"`([^`]+)`", first_cell))
    return paths


def tracked_top_level() -> set[str]:
    """The repository's top-level entries, as git tracks them (dotfiles aside but .ci)."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = {line.split("/", 1)[0] for line in listed.splitlines()}
    return {name for name in names if not name.startswith(".") or name == ".ci"}


def package_children() -> set[str]:
    """The modules and packages of plugins/vrouter_preflight/, as paths from the repository root."""
    children = set()
    for child in PACKAGE.iterdir():
        if child.name.startswith(("_", ".")) or child.name == "__pycache__":
            continue
        if child.suffix == ".py" or (child / "__init__.py").exists():
            children.add(str(child.relative_to(ROOT)))
    return children


def test_every_path_the_layout_names_exists() -> None:
    missing = sorted(path for path in layout_paths() if not (ROOT / path).exists())
    assert not missing, f"the README's Layout names paths that do not exist: {missing}"


def test_every_top_level_entry_is_in_the_layout() -> None:
    named = {path.split("/", 1)[0] for path in layout_paths()}
    absent = sorted(tracked_top_level() - named)
    assert not absent, f"add these top-level entries to the README's Layout table: {absent}"


def test_every_module_and_package_of_the_engine_is_in_the_layout() -> None:
    absent = sorted(package_children() - layout_paths())
    assert not absent, f"add these to the README's Layout table: {absent}"
