"""The suite's version is written once in pyproject.toml and once in plugins/__init__.py; they agree."""

from __future__ import annotations

import re
from pathlib import Path

import plugins


def test_suite_version_is_the_same_everywhere() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE)
    assert match is not None
    assert match.group(1) == plugins.__version__
