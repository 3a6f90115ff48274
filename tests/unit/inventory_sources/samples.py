"""Where the inventory samples live, and the reference: what ``ansible-inventory`` itself prints."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from vrouter_preflight.inventory_sources.model import OperatorInventory

REPO = Path(__file__).resolve().parents[3]
INVENTORIES = REPO / "tests" / "data" / "inventories"
ANSIBLE = INVENTORIES / "ansible"
TF = INVENTORIES / "tf"

TRIPLEO_STANDALONE = ANSIBLE / "tripleo-standalone" / "tripleo-ansible-inventory.yaml"
TRIPLEO_WALLABY = ANSIBLE / "tripleo-wallaby" / "tripleo-ansible-inventory.yaml"
KOLLA = ANSIBLE / "kolla-multinode" / "multinode"
KOLLA_LEGACY = ANSIBLE / "kolla-multinode-legacy" / "multinode"
SYNTHETIC_INI = ANSIBLE / "synthetic-ini" / "hosts.ini"
SYNTHETIC_YAML = ANSIBLE / "synthetic-yaml" / "inventory.yml"
SYNTHETIC_DIR = ANSIBLE / "synthetic-dir"
LIST_JSON = ANSIBLE / "list-json" / "inventory.json"
EXPORT_JSON = ANSIBLE / "list-json" / "export.json"

REAL_ANSIBLE_SAMPLES = (TRIPLEO_STANDALONE, TRIPLEO_WALLABY, KOLLA, KOLLA_LEGACY)
ANSIBLE_SAMPLES = (*REAL_ANSIBLE_SAMPLES, SYNTHETIC_INI, SYNTHETIC_YAML, SYNTHETIC_DIR)


def ansible_inventory_command() -> str:
    """The ``ansible-inventory`` of this venv (requirements-dev.txt pins ansible-core), else on PATH.

    Never skipped: CI installs it, so a missing one must fail the reference tests.
    """
    beside = Path(sys.executable).parent / "ansible-inventory"
    found = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    assert found, "ansible-inventory not found: `make .venv/.dev` installs ansible-core (requirements-dev.txt)"
    return found


def reference(sources: Sequence[Path], *extra: str) -> dict[str, object]:
    """The JSON ``ansible-inventory -i SOURCE... --list EXTRA...`` prints (a fresh copy)."""
    return json.loads(_reference_text(tuple(map(str, sources)), extra))  # type: ignore[no-any-return]


@functools.cache
def _reference_text(sources: tuple[str, ...], extra: tuple[str, ...]) -> str:
    argv = [ansible_inventory_command()]
    for source in sources:
        argv += ["-i", source]
    argv += ["--list", *extra]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert isinstance(json.loads(done.stdout), dict)
    return done.stdout


# Ansible's own --limit code path (InventoryManager.subset, then get_hosts), for many patterns in one process:
# starting ansible-inventory once per pattern would cost seconds each.
_LIMITS_SCRIPT = """
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
source, patterns = sys.argv[1], json.loads(sys.argv[2])
inventory = InventoryManager(loader=DataLoader(), sources=[source])
answers = {}
for pattern in patterns:
    inventory.subset(pattern)
    answers[pattern] = [host.name for host in inventory.get_hosts()]
    inventory.subset(None)
print(json.dumps(answers))
"""


@functools.cache
def _limits_text(source: str, patterns: tuple[str, ...]) -> str:
    argv = [sys.executable, "-c", _LIMITS_SCRIPT, source, json.dumps(list(patterns))]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def reference_limits(source: Path, patterns: Sequence[str]) -> dict[str, list[str]]:
    """What Ansible's ``--limit`` selects for each pattern (one Ansible process per source)."""
    return json.loads(_limits_text(str(source), tuple(patterns)))  # type: ignore[no-any-return]


def plain(value: object) -> object:
    """A variable value as JSON would carry it (tuples as lists), for comparing with the reference."""
    return json.loads(json.dumps(value, default=str))


def reference_hosts(data: dict[str, object]) -> set[str]:
    """Every host named in a ``--list`` output's groups."""
    hosts: set[str] = set()
    for name, group in data.items():
        if name != "_meta" and isinstance(group, dict):
            hosts.update(group.get("hosts", []))
    return hosts


def differences(mine: OperatorInventory, data: dict[str, object]) -> list[str]:
    """Where the reader's model and ``--list`` disagree (empty when they agree)."""
    found: list[str] = []
    meta = data.get("_meta")
    assert isinstance(meta, dict)
    hostvars = meta["hostvars"]
    for name, group in data.items():
        if name == "_meta":
            continue
        assert isinstance(group, dict)
        ours = mine.groups.get(name)
        if ours is None:
            found.append(f"group {name} missing")
            continue
        if name != "all" and list(ours.hosts) != group.get("hosts", []):
            found.append(f"group {name} hosts {ours.hosts} != {group.get('hosts', [])}")
        if list(ours.children) != group.get("children", []):
            found.append(f"group {name} children {ours.children} != {group.get('children', [])}")
    for name, group in mine.groups.items():
        if name not in data and (group.children or (group.hosts and name != "all")):
            found.append(f"group {name} not in the reference")
    if set(mine.hosts) != reference_hosts(data):
        found.append(f"hosts differ: {sorted(set(mine.hosts) ^ reference_hosts(data))}")
    for name, host in mine.hosts.items():
        ours_vars = plain(dict(host.variables))
        theirs = hostvars.get(name, {})
        if ours_vars != theirs:
            assert isinstance(ours_vars, dict)
            keys = sorted(k for k in set(ours_vars) | set(theirs) if ours_vars.get(k) != theirs.get(k))
            found.append(f"host {name}: variables differ in {keys}")
    return found
