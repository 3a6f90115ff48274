"""A host whose connection drops in the middle of the gather is one ERROR for that host; the others carry on.

The dropping host is a real sshd whose every session is killed by the command it runs (its sshd
process is killed from inside the session), so the capture is cut mid-way, the transport reconnects
once, is cut again and gives up: that host's ``reachable`` check errors with the cause, the other
host (this machine) passes, with and without pytest-xdist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd_rig import ClientKey, SshdServer, inventory_host
from tests.suite_runs import run_suite


@pytest.fixture
def dropping_sshd(ssh_lab: str, authorized_keys: str, client_key: ClientKey) -> Iterator[SshdServer]:
    """An sshd whose sessions all end with their own sshd killed, whatever the client asked for."""
    script = Path(ssh_lab, "drop-my-session.sh")
    script.write_text("kill -9 $PPID; sleep 5\n")  # exec'd by the login shell: its parent is the session's sshd
    directory = os.path.join(ssh_lab, "sshd-dropping")
    server = SshdServer(
        directory, authorized_keys=authorized_keys, extra_config=f"ForceCommand exec /bin/sh {script}\n"
    )
    server.start()
    yield server
    server.cleanup()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_a_host_dropped_mid_gather_is_one_error(
    dropping_sshd: SshdServer, client_key: ClientKey, tmp_path: Path, workers: list[str]
) -> None:
    known_hosts = tmp_path / "known_hosts"
    dropping_sshd.write_known_hosts(str(known_hosts))
    dropping = inventory_host(dropping_sshd, client_key, str(known_hosts), connect_timeout=5, command_timeout=20)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(json.dumps({"hosts": {"dropping": dropping, "this-machine": {"transport": "local"}}}))
    summary_path = tmp_path / "summary.json"
    run = run_suite("--inventory", str(inventory), "--summary-json", str(summary_path), *workers)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    hosts = json.loads(summary_path.read_text())["hosts"]
    assert hosts["this-machine"]["verdict"] == "pass"
    dropped = hosts["dropping"]
    assert dropped["verdict"] == "error"
    assert dropped["error"].startswith("connection lost again after reconnecting once"), dropped["error"]
    assert [(c["id"], c["outcome"]) for c in dropped["checks"]] == [("reachable", "error")]
    assert "Traceback" not in run.stdout + run.stderr
