"""The distribution's package list (pyproject.toml) names every package of the tree, and nothing else."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def packages_in_tree() -> set[str]:
    """Every directory with an ``__init__.py``, by the name it is installed under."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: ROOT / path for name, path in config["package-dir"].items()}
    found: set[str] = set()
    for prefix, directory in roots.items():
        for init in directory.rglob("__init__.py"):
            relative = init.parent.relative_to(directory).parts
            found.add(".".join(p for p in (prefix, *relative) if p))
    return found


def test_every_package_of_the_tree_is_listed_once() -> None:
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert len(listed) == len(set(listed))
    assert set(listed) == packages_in_tree()
