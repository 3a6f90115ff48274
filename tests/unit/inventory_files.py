"""Writing an inventory for a test, and the one message its load must fail with."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import load_inventory

MAX_MESSAGE = 600
"""No inventory message is longer (the longest lists every host key)."""


def write(tmp_path: Path, text: str, name: str = "inv.yaml") -> Path:
    """``text`` (dedented) written to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load_error(path: Path) -> str:
    """The message of the one InventoryError loading ``path`` raises: it names the file, on one short line."""
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    assert "Traceback" not in message, message
    assert len(message) < MAX_MESSAGE, message
    return message
