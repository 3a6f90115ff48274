"""Inventory keys of the trial and the destructive stage: trial, destructive, remediation, vrouter operations."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import RemediationSteps, TrialPlan, load_inventory


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "inv.yaml"
    path.write_text(textwrap.dedent(text))
    return load_inventory(path)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(InventoryError) as info:
        load(tmp_path, text)
    return str(info.value)


def test_operations_keys_load(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        defaults:
          destructive: true
          remediation: {compact_memory: false}
        hosts:
          c0:
            transport: local
            trial: {nodes: [0, 1, 1], sizes: [1G, 2MB]}
            vrouter:
              deployment: rhosp
              reload_command: ifdown vhost0; ifup vhost0
              health_command: "contrail-status | grep -q 'agent: active'"
              health_timeout: 300
              hugepage_dir: /dev/hugepages1G
              agent_log: /var/log/containers/contrail/contrail-vrouter-agent.log
        """,
    )
    (spec,) = inventory.hosts  # type: ignore[attr-defined]
    assert spec.trial == TrialPlan(nodes=(0, 1), sizes_kib=(1048576, 2048))
    assert spec.destructive is True
    assert spec.remediation == RemediationSteps(sync=True, drop_caches=True, compact_memory=False)
    assert spec.vrouter.deployment == "rhosp"
    assert spec.vrouter.reload_command == "ifdown vhost0; ifup vhost0"
    assert spec.vrouter.health_timeout == 300.0
    assert spec.vrouter.hugepage_dir == "/dev/hugepages1G"


def test_destructive_defaults_to_false(tmp_path: Path) -> None:
    inventory = load(tmp_path, "hosts:\n  c0:\n    transport: local\n")
    assert inventory.hosts[0].destructive is False  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("destructive: yes please", "key 'destructive': expected true or false"),
        ("trial: {nodes: []}", "key 'trial.nodes': expected a list of NUMA node numbers"),
        ("trial: {nodes: [-1]}", "key 'trial.nodes': expected a NUMA node number"),
        ("trial: {sizes: [none]}", "key 'trial.sizes': expected 1G or 2M"),
        ("trial: {node: [0]}", "key 'trial.node': unknown key; did you mean 'nodes'?"),
        ("remediation: {drop_caches: 3}", "key 'remediation.drop_caches': expected true or false"),
        ("vrouter: {deployment: k8s}", "key 'vrouter.deployment': expected one of supervisor, compose, rhosp"),
        ("vrouter: {health_timeout: 0}", "key 'vrouter.health_timeout': expected a positive number of seconds"),
        ("vrouter: {reload_command: ''}", "key 'vrouter.reload_command': expected a shell command"),
    ],
)
def test_bad_operations_values_name_the_key(tmp_path: Path, entry: str, fragment: str) -> None:
    message = error(tmp_path, f"hosts:\n  c0:\n    transport: local\n    {entry}\n")
    assert "host 'c0'" in message
    assert fragment in message


def test_a_snapshot_cannot_be_destructive(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    message = error(tmp_path, "hosts:\n  s0:\n    transport: snapshot\n    path: tree\n    destructive: true\n")
    assert "key 'destructive': needs a live host" in message
