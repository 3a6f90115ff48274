"""The suite as an operator installs it: a built wheel, and ``pip install <checkout>``, in fresh venvs.

From an empty temporary directory, ``pytest --inventory PATH --summary-json PATH`` and the
``vrouter-preflight`` command run the installed checks against a local-transport host and
write their summaries; nothing else appears in the working directory (no ``.pytest_cache``).
Both ends of the supported range are used: the wheel on Python 3.9, the source tree on 3.13.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId

ROOT = Path(__file__).resolve().parents[2]
#: What a source install needs of the checkout (the rest is the suite's own tests and tools).
SOURCE_PARTS = ("pyproject.toml", "README.md", "plugins", "checks", "inventory")
INSTALL_TIMEOUT = 900
LOCAL_INVENTORY = "hosts:\n  this-machine:\n    transport: local\n"


def interpreter(version: str) -> str:
    """A Python ``version`` interpreter on this machine (pyenv's, else on PATH); the test fails without it."""
    candidates = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python"))
    found = candidates[-1] if candidates else shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"Python {version} is not installed: the supported range (3.9-3.13) cannot be checked")
    return found


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd``; a failure shows everything it printed."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return done


def fresh_venv(python: str, where: Path, requirement: str) -> Path:
    """A new venv at ``where`` with ``requirement`` (a wheel or a source tree) installed; returns its bin/."""
    made = run([python, "-m", "venv", str(where)], where.parent)
    assert made.returncode == 0, made.stderr
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = run([*pip, requirement], where.parent, timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return where / "bin"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The distribution's wheel, built from the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)], out)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("vrouter_preflight-*-py3-none-any.whl")
    return path


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what a source install reads, so building it leaves nothing in the checkout."""
    tree = tmp_path_factory.mktemp("source")
    for part in SOURCE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tree / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, tree / part)
    return tree


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """The operator's working directory: empty before, and checked after."""
    work = tmp_path / "work"
    work.mkdir()
    return work


def check_installed(bin_dir: Path, tmp_path: Path, work: Path) -> None:
    """``pytest --inventory`` and ``vrouter-preflight`` from ``work`` against this machine."""
    inventory = tmp_path / "x" / "inv.yaml"
    inventory.parent.mkdir()
    inventory.write_text(LOCAL_INVENTORY)
    for name, argv in (
        ("s.json", [str(bin_dir / "pytest")]),
        ("s2.json", [str(bin_dir / "vrouter-preflight")]),
    ):
        summary_path = inventory.parent / name
        done = run([*argv, "--inventory", str(inventory), "--summary-json", str(summary_path)], work)
        assert done.returncode == 0, done.stdout + done.stderr
        summary = load_summary(summary_path)
        checks = {check["id"] for check in summary["hosts"]["this-machine"]["checks"]}
        assert {CheckId.REACHABLE.value, CheckId.CONTIGUOUS_BLOCKS.value} <= checks, checks
        assert summary["hosts"]["this-machine"]["verdict"] == "pass", json.dumps(summary, indent=1)
        assert sorted(p.name for p in work.iterdir()) == [], f"{argv[0]} wrote into the working directory"
    check_not_rewritten(bin_dir, inventory, work)


#: A pytest plugin that prints the modules pytest's assertion rewriting loaded, at the end of the session.
REWRITE_PROBE = """
import sys
from _pytest.assertion.rewrite import AssertionRewritingHook

def pytest_sessionfinish(session):
    loaded = sorted(n for n, m in list(sys.modules.items()) if isinstance(getattr(m, "__loader__", None),
                                                                          AssertionRewritingHook))
    sys.stdout.write("\\nREWRITTEN " + " ".join(loaded) + "\\n")
"""


def check_not_rewritten(bin_dir: Path, inventory: Path, work: Path) -> None:
    """pytest rewrites another pytest11 plugin's modules (allure-pytest's) but not this one's: each
    process of a run would otherwise re-parse and recompile them wherever it cannot cache bytecode."""
    probe = inventory.parent / "probe"
    probe.mkdir()
    (probe / "rewrite_probe.py").write_text(REWRITE_PROBE)
    argv = [str(bin_dir / "python"), "-m", "pytest", "-s", "-p", "rewrite_probe", "--inventory", str(inventory)]
    argv += ["--summary-json", str(inventory.parent / "s3.json")]
    done = subprocess.run(
        argv,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": str(probe)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("REWRITTEN "))
    rewritten = line.split()[1:]
    assert "allure_pytest.listener" in rewritten, line
    ours = [name for name in rewritten if name.startswith("vrouter_preflight.")]
    assert [name for name in ours if not name.startswith("vrouter_preflight.checks.test_")] == [], line


def test_wheel_on_python_3_9_runs_from_any_directory(wheel: Path, tmp_path: Path, empty_dir: Path) -> None:
    bin_dir = fresh_venv(interpreter("3.9"), tmp_path / "venv", str(wheel))
    check_installed(bin_dir, tmp_path, empty_dir)


def test_source_install_on_python_3_13_runs_from_any_directory(
    source_tree: Path, tmp_path: Path, empty_dir: Path
) -> None:
    bin_dir = fresh_venv(interpreter("3.13"), tmp_path / "venv", str(source_tree))
    check_installed(bin_dir, tmp_path, empty_dir)


def test_the_command_puts_the_suites_options_first(empty_dir: Path) -> None:
    command = Path(sys.executable).parent / "vrouter-preflight"  # this checkout's own install
    done = run([str(command), "--help"], empty_dir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("usage: vrouter-preflight ")
    first_section = next(line for line in lines[1:] if line and not line[0].isspace())
    assert first_section.startswith("vrouter-preflight"), done.stdout[:500]
    assert "--inventory" in done.stdout and "--max-fail-percentage" in done.stdout
