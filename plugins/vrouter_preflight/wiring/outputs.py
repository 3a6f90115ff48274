"""Where a run writes its files: one rule for every output.

A path given on the command line is taken as given (relative to the directory
the run starts in); an output whose option is not given goes under
``./reports/`` of that directory. The checkout and an installed suite behave
alike: nothing is written next to the code.

=====================  =======================  ==============================
output                 option                   default
=====================  =======================  ==============================
JSON summary           ``--summary-json``       ``reports/summary.json``
journals               ``--journal-dir``        ``reports/journal/``
certificates           ``--certificate-dir``    ``reports/certificates/``
rollout state          (none)                   ``reports/rollout/``
=====================  =======================  ==============================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPORTS_DIR = "reports"
SUMMARY_DEFAULT = "summary.json"
JOURNAL_DEFAULT = "journal"
CERTIFICATES_DEFAULT = "certificates"
ROLLOUT_STATE = "rollout"


def output_path(start_dir: str | Path, given: str | None, default_name: str) -> Path:
    """The path of one output: ``given`` (relative to ``start_dir``), else ``start_dir/reports/default_name``.

    >>> str(output_path("/srv/ci", None, SUMMARY_DEFAULT)), str(output_path("/srv/ci", "out/s.json", SUMMARY_DEFAULT))
    ('/srv/ci/reports/summary.json', '/srv/ci/out/s.json')
    >>> str(output_path("/srv/ci", "/var/lib/vrpf/journal", JOURNAL_DEFAULT))
    '/var/lib/vrpf/journal'
    """
    base = Path(start_dir)
    return base / given if given else base / REPORTS_DIR / default_name


def option_output(config: Any, option: str, default_name: str) -> Path:
    """:func:`output_path` for a pytest option (``config`` is pytest's Config).

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(invocation_params=SimpleNamespace(dir="/srv/ci"), getoption=lambda name: None)
    >>> str(option_output(config, "journal_dir", JOURNAL_DEFAULT))
    '/srv/ci/reports/journal'
    """
    given = config.getoption(option)
    return output_path(config.invocation_params.dir, None if given is None else str(given), default_name)


def rollout_state_dir(config: Any) -> Path:
    """The rollout's shared state directory: every xdist worker of one run starts in the same directory.

    >>> from types import SimpleNamespace
    >>> str(rollout_state_dir(SimpleNamespace(invocation_params=SimpleNamespace(dir="/srv/ci"))))
    '/srv/ci/reports/rollout'
    """
    return output_path(config.invocation_params.dir, None, ROLLOUT_STATE)
