"""The hooks the wiring calls and the layers above it implement.

The wiring must not import the reporting layer; when a check concludes it calls
:func:`pytest_vrouter_preflight_check_concluded`, and the reporting plugin that
draws the check's pictures answers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


@pytest.hookspec
def pytest_vrouter_preflight_check_concluded(
    item: pytest.Item, check_id: str, details: Mapping[str, Any] | None
) -> None:
    """A check on ``item`` has concluded and its test is still running (Allure records it).

    ``details`` are what the check recorded for the JSON summary (the
    remediation's figures), or None. Implementations may attach to the
    running test; they must not fail it.
    """
