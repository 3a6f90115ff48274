"""The helper that runs on computes: Python 2.7 compatible (statically), and run under every Python here.

These runs ask for far more pages than any pool holds, so the helper refuses
without allocating: they read the pools and change nothing (the real
allocations are in tests/integration/test_trial_kernel.py).
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vrouter_preflight.transport.base import CommandResult
from vrouter_preflight.trial.runner import (
    HELPER,
    INTERPRETERS,
    NO_INTERPRETER_RC,
    TrialRequest,
    build_command,
    interpret,
)

TOO_BIG = 1 << 50  # a petabyte of flow table: no pool has that


def pythons() -> dict[str, str]:
    """Every Python on this machine (CI has the same one): version -> executable."""
    found: dict[str, str] = {}
    candidates = [sys.executable, "/usr/bin/python3", *sorted(glob.glob("/root/.pyenv/versions/*/bin/python"))]
    for path in candidates:
        if not os.path.exists(path):
            continue
        out = subprocess.run([path, "-c", "import platform; print(platform.python_version())"], capture_output=True)
        version = out.stdout.decode().strip()
        if out.returncode == 0 and version and version not in found:
            found[version] = path
    return found


PYTHONS = pythons()


def run_wrapper(command: str, path_dir: Path) -> CommandResult:
    """Run the command as the transports do, with only ``path_dir`` on PATH."""
    proc = subprocess.run(
        ["/bin/sh", "-c", command], capture_output=True, text=True, env={"PATH": str(path_dir)}, timeout=60
    )
    return CommandResult(command, proc.returncode, proc.stdout, proc.stderr, 0.0)


def test_vermin_finds_the_helper_python_2_7_compatible() -> None:
    vermin = Path(sys.executable).with_name("vermin")
    assert vermin.exists(), "vermin is missing: pip install -r requirements-dev.txt"
    result = subprocess.run(
        [str(vermin), "-t=2.7-", "-t=3-", "--no-tips", "--violations", "--no-parse-comments", str(HELPER)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Minimum required versions: 2\.\d+, 3\.\d+", result.stdout), result.stdout


def test_there_are_several_pythons_to_run_the_helper_under() -> None:
    assert len(PYTHONS) >= 2, PYTHONS
    assert any(v.startswith("3.") for v in PYTHONS)


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_helper_runs_under(version: str, tmp_path: Path) -> None:
    """Through the real wrapper: the interpreter is found by the name a host of that age has."""
    name = "python3" if version.startswith("3.") else "python2.7"
    (tmp_path / name).symlink_to(PYTHONS[version])
    request = TrialRequest(sizes_kib=(2048, 1048576), flow_bytes=TOO_BIG, bridge_bytes=20185088, node=0)
    report = interpret(run_wrapper(build_command(request), tmp_path), request)
    assert report.python == version
    assert report.error is None
    assert [t.status for t in report.trials] == ["short", "short"]
    for trial in report.trials:
        assert trial.during is None  # nothing was mapped
        assert trial.need_bridge == -(-20185088 // (trial.size_kib * 1024))
        assert trial.after == trial.before


def test_no_interpreter_exits_with_its_own_status_and_names_what_it_tried(tmp_path: Path) -> None:
    request = TrialRequest(sizes_kib=(2048,), flow_bytes=1, bridge_bytes=1)
    result = run_wrapper(build_command(request), tmp_path)
    assert result.rc == NO_INTERPRETER_RC
    assert result.stderr.strip() == f"vrpf-trial: no Python interpreter found (tried: {' '.join(INTERPRETERS)})"
