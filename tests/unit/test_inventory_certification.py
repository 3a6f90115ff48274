"""Inventory keys of hardware certification: certify, certify_groups, cert_cycles, cert_numa_tolerance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import Inventory, load_inventory


def load(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "inv.yaml"
    path.write_text(textwrap.dedent(text))
    return load_inventory(path)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(InventoryError) as info:
        load(tmp_path, text)
    return str(info.value)


def certified(inventory: Inventory) -> dict[str, bool]:
    return {spec.name: spec.certify for spec in inventory.hosts}


def test_defaults_certify_nothing_with_three_cycles_and_ten_percent(tmp_path: Path) -> None:
    (spec,) = load(tmp_path, "hosts:\n  c0:\n    transport: local\n").hosts
    assert (spec.certify, spec.cert_cycles, spec.cert_numa_tolerance) == (False, 3, 10.0)


def test_certify_per_host_and_in_defaults(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        defaults: {certify: true, cert_cycles: 5, cert_numa_tolerance: 12.5}
        hosts:
          c0: {transport: local}
          c1: {transport: local, certify: false}
        """,
    )
    assert certified(inventory) == {"c0": True, "c1": False}
    assert inventory.hosts[0].cert_cycles == 5
    assert inventory.hosts[0].cert_numa_tolerance == 12.5


def test_certify_groups_mark_their_hosts_and_a_host_may_opt_out(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        certify_groups: [r740-new]
        hosts:
          c0: {transport: local, groups: [r740-new, rack-3]}
          c1: {transport: local, groups: [rack-3]}
          c2: {transport: local, groups: [r740-new], certify: false}
        """,
    )
    assert certified(inventory) == {"c0": True, "c1": False, "c2": False}


def test_a_group_given_in_defaults_counts(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        certify_groups: [new-model]
        defaults: {groups: [new-model]}
        hosts:
          c0: {transport: local}
        """,
    )
    assert certified(inventory) == {"c0": True}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "certify_groups: [r740-nwe]\nhosts:\n  c0: {transport: local, groups: [r740-new]}\n",
            "key 'certify_groups': no host is in group 'r740-nwe'; did you mean 'r740-new'?",
        ),
        (
            "certify_groups: [x]\nhosts:\n  c0: {transport: local}\n",
            "key 'certify_groups': no host is in group 'x'; groups in this inventory: none",
        ),
        (
            "certify_groups: r740\nhosts:\n  c0: {transport: local}\n",
            "key 'certify_groups': expected a list of group names",
        ),
        ("hosts:\n  c0: {transport: local, certify: yes please}\n", "key 'certify': expected true or false"),
        ("hosts:\n  c0: {transport: local, cert_cycles: 0}\n", "key 'cert_cycles': expected the number of destructive"),
        ("hosts:\n  c0: {transport: local, cert_cycles: 101}\n", "an integer from 1 to 100, got 101"),
        ("hosts:\n  c0: {transport: local, cert_cycles: true}\n", "got true (a boolean)"),
        (
            "hosts:\n  c0: {transport: local, cert_numa_tolerance: 120}\n",
            "key 'cert_numa_tolerance': expected a percentage",
        ),
        ("hosts:\n  c0: {transport: local, cert_numa_tolerance: ten}\n", "expected a percentage from 0 to 100"),
        ("hosts:\n  c0: {transport: local, certfy: true}\n", "key 'certfy': unknown key; did you mean 'certify'?"),
    ],
)
def test_bad_certification_keys_are_refused(tmp_path: Path, text: str, message: str) -> None:
    assert message in error(tmp_path, text)


def test_cert_cycles_need_a_live_host_but_a_snapshot_may_be_certified(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    text = "hosts:\n  s0: {transport: snapshot, path: tree, cert_cycles: 2}\n"
    assert "key 'cert_cycles': needs a live host" in error(tmp_path, text)
    inventory = load(tmp_path, "hosts:\n  s0: {transport: snapshot, path: tree, certify: true}\n")
    assert certified(inventory) == {"s0": True}
