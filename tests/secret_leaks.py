"""Checks that a secret (the sudo password, a key passphrase) reached no log record and no text.

Shared by the integration tests of every secret the suite handles.
"""

from __future__ import annotations

import logging

import pytest


def capture_all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Make ``caplog`` record everything, paramiko's debug output included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="paramiko")
    return caplog


def assert_secret_absent(caplog: pytest.LogCaptureFixture, secret: str, *texts: str) -> None:
    """``secret`` is in no captured record (message or arguments) and in none of ``texts``."""
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)
    for text in (caplog.text, *texts):
        assert secret not in text
