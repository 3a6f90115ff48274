"""The destructive stage as an operator runs it, for kernel tests: inventories, the run, the replay.

Shared by tests/integration/test_destructive_runs.py, test_certification_kernel.py and
test_fault_matrix.py. The reload and health commands are the stand-ins in tests/standins/;
the host's ``vrouter.flow_entries`` is sized from this machine's live buddy state so that
freeing one 1G page closes the gap (:func:`demand_for_a_small_gap`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest

from tests.kernel_pools import usable_order10_supply
from tests.suite_runs import ROOT, run_suite
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.demand import VrouterOverrides, vrouter_demand, vrouter_settings
from vrouter_preflight.demand.limits import CONTIGUITY_MARGIN, MAX_TABLE_ENTRIES
from vrouter_preflight.host_facts import HostFacts
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.remediation import MARKER_PATH
from vrouter_preflight.transport.local import LocalTransport

STANDINS = ROOT / "tests" / "standins"
RELOAD_STANDIN = STANDINS / "reload.sh"
MAX_CONTIGUITY_MARGIN = CONTIGUITY_MARGIN.high
HEALTH_STANDIN = STANDINS / "health.sh"


@pytest.fixture(autouse=True)
def no_marker_left() -> Iterator[None]:
    """Autouse in every module that imports it: a test starts with the host unclaimed and leaves it so.

    A host marker left behind fails the test (and is removed for the next one).
    """
    assert not os.path.exists(MARKER_PATH), f"a host marker from elsewhere: {Path(MARKER_PATH).read_text()}"
    yield
    if os.path.exists(MARKER_PATH):
        left = Path(MARKER_PATH).read_text()
        os.unlink(MARKER_PATH)
        pytest.fail(f"the test left a host marker behind:\n{left}")


def demand_for_a_small_gap(extra_blocks: int = 60) -> dict[str, Any]:
    """The ``vrouter`` overrides whose reload asks for ~extra_blocks more order-10 blocks than this machine can
    give now (the demand model itself picks them): the smallest flow table that does; on a machine with more
    free memory than the largest flow table asks for, that table and the smallest ``contiguity_margin`` that do.
    """
    _, usable = usable_order10_supply(
        HostFacts("me", LocalTransport(HostSpec(name="me", transport="local")).capture(FACT_SOURCES))
    )
    wanted = usable + extra_blocks

    def asked(flow_entries: int, margin: float = 1.0) -> int:
        overrides = VrouterOverrides(flow_entries=flow_entries, contiguity_margin=margin)
        return vrouter_demand(vrouter_settings(overrides, {}), 4096).blocks_with_margin().get(10, 0)

    if asked(MAX_TABLE_ENTRIES) < wanted:
        low_margin, high_margin = 1.0, MAX_CONTIGUITY_MARGIN
        while high_margin - low_margin > 1e-5:
            middle_margin = (low_margin + high_margin) / 2
            low_margin, high_margin = (
                (middle_margin, high_margin)
                if asked(MAX_TABLE_ENTRIES, middle_margin) < wanted
                else (low_margin, middle_margin)
            )
        return {"flow_entries": MAX_TABLE_ENTRIES, "contiguity_margin": round(high_margin, 5)}
    low, high = 1, MAX_TABLE_ENTRIES
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if asked(middle) < wanted else (low, middle)
    return {"flow_entries": low}


def destructive_host(
    tmp_path: Path,
    name: str,
    gap: Mapping[str, Any] | None,
    *,
    reload: str | None = None,
    health: str | None = None,
    **vrouter: Any,
) -> dict[str, Any]:
    """A local inventory entry that opts in to the destructive stage, with the stand-in reload and health commands;
    ``gap`` is :func:`demand_for_a_small_gap` (None: the default tables).

    >>> host = destructive_host(Path("/t"), "node-a", {"flow_entries": 5000}, health_timeout=3)
    >>> host["vrouter"]["flow_entries"], host["vrouter"]["health_timeout"]
    (5000, 3)
    >>> host["vrouter"]["reload_command"].endswith("standins/reload.sh /t/node-a.observed 0.3")
    True
    """
    return {
        "transport": "local",
        "destructive": True,
        "vrouter": {
            **(gap or {}),
            "reload_command": reload or f"sh {RELOAD_STANDIN} {tmp_path / f'{name}.observed'} 0.3",
            "health_command": health or f"sh {HEALTH_STANDIN} {tmp_path / f'{name}.tries'} 1",
            "health_timeout": 30,
            **vrouter,
        },
    }


def write_inventory(path: Path, hosts: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``{"hosts": hosts}`` as the inventory file ``path`` (JSON is YAML); returns ``path``."""
    path.write_text(json.dumps({"hosts": hosts}))
    return path


def remediation_of(summary: Mapping[str, Any], host: str) -> dict[str, Any]:
    """The ``remediation`` check's entry for ``host`` in a JSON summary."""
    entry: dict[str, Any] = next(c for c in summary["hosts"][host]["checks"] if c["id"] == "remediation")
    return entry


def suite_argv(*args: str) -> list[str]:
    """The command line of a run of the checks (``python -m pytest checks …``), to start from the repository root.

    >>> suite_argv("--destructive")[-4:]
    ['checks', '-p', 'no:cacheprovider', '--destructive']
    """
    return [sys.executable, "-m", "pytest", "checks", "-p", "no:cacheprovider", *args]


def start_suite(
    *args: str, env: Mapping[str, str] | None = None, output: IO[bytes] | int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start a run of the checks in the background (to be killed, signalled or cut while it runs)."""
    return subprocess.Popen(
        suite_argv(*args), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=None if env is None else dict(env)
    )


def replay_journal(inventory: Path, journal: Path) -> subprocess.CompletedProcess[str]:
    """``pytest checks --inventory INVENTORY --rollback-journal JOURNAL``, as an operator replays a rollback."""
    return run_suite("--inventory", str(inventory), "--rollback-journal", str(journal))


def replay(tmp_path: Path, journal: Path) -> subprocess.CompletedProcess[str]:
    """Replay ``journal`` of the local host ``node-a`` through an inventory of its own."""
    inventory = write_inventory(tmp_path / "replay.yaml", {"node-a": destructive_host(tmp_path, "node-a", None)})
    return replay_journal(inventory, journal)
