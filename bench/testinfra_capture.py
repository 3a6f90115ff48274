"""The fleet bench's baseline: pytest-testinfra reading, on every host, what the suite's capture reads.

Run by ``bench/fleet_bench.py`` with pytest-testinfra in its own virtualenv
(its ``--hosts`` option clashes with the suite's, so the two plugins cannot
share one), roughly::

    PYTHONPATH=plugins .venv/testinfra/bin/python -m pytest bench/testinfra_capture.py \\
        --hosts ssh://root@bench-0000,... --ssh-config BENCH/ssh_config -n 2

The sources come from :data:`vrouter_preflight.capture.FACT_SOURCES` (the
suite's own list), one test and ONE ``host.run`` per source: a command runs
as written, a file or glob is ``cat``. That is testinfra at its cheapest
(``host.file(p).content_string`` would add a ``test -e`` per file and three
probes per host). Only reading is compared: nothing is parsed or judged.
"""

from __future__ import annotations

from typing import Any

import pytest

from vrouter_preflight.capture import FACT_SOURCES, FactSource


def read_command(source: FactSource) -> str:
    """The one remote command testinfra runs for ``source`` (globs are expanded by the remote shell).

    >>> read_command(FactSource("/proc/buddyinfo"))
    'cat -- /proc/buddyinfo'
    >>> read_command(FactSource("getconf:PAGESIZE", command="getconf PAGESIZE"))
    'getconf PAGESIZE'
    """
    return source.command if source.command is not None else f"cat -- {source.pattern}"


@pytest.mark.parametrize("source", FACT_SOURCES, ids=[source.key for source in FACT_SOURCES])
def test_read(host: Any, source: FactSource) -> None:
    """Read one source; rc 1 is a file this host lacks (the suite records it as absent), anything else fails."""
    result = host.run(read_command(source))
    assert result.rc in (0, 1), f"{source.key}: rc {result.rc}: {result.stderr[:200]}"
