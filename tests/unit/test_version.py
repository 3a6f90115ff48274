"""The suite's version is written once (``vrouter_preflight.__version__``); the installed distribution carries it."""

from __future__ import annotations

from importlib.metadata import version

import vrouter_preflight


def test_installed_distribution_has_the_package_version() -> None:
    assert version("vrouter-preflight") == vrouter_preflight.__version__
