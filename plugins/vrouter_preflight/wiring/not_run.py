"""Checks of a snapshot host that need a live one: deselected, and said so in the JSON summary.

A snapshot runs no commands, so a check marked ``live_only`` (the trial
allocation) cannot run on it. It is deselected rather than failed or skipped
(the host is fine, the check does not apply), and recorded here so that the
summary's per-host ``not_run`` names it with :data:`SNAPSHOT_NOT_LIVE`.
"""

from __future__ import annotations

import pytest

from vrouter_preflight.wiring.stash import LIVE_ONLY_NOT_RUN

SNAPSHOT_NOT_LIVE = "needs a live host: this host is a snapshot, which runs no commands"


def record_live_only_not_run(config: pytest.Config, host: str, check: str) -> None:
    """Note that ``check`` of snapshot host ``host`` was deselected.

    >>> class Config: stash = pytest.Stash()
    >>> config = Config()
    >>> record_live_only_not_run(config, "sos-7", "trial_allocation")  # type: ignore[arg-type]
    >>> live_only_not_run(config)["sos-7"]["trial_allocation"] == SNAPSHOT_NOT_LIVE  # type: ignore[arg-type]
    True
    """
    config.stash.setdefault(LIVE_ONLY_NOT_RUN, {}).setdefault(host, {})[check] = SNAPSHOT_NOT_LIVE


def live_only_not_run(config: pytest.Config) -> dict[str, dict[str, str]]:
    """Host -> check id -> why, for the live-only checks deselected on snapshot hosts.

    >>> class Config: stash = pytest.Stash()
    >>> live_only_not_run(Config())  # type: ignore[arg-type]
    {}
    """
    return config.stash.get(LIVE_ONLY_NOT_RUN, {})
