"""Reference tests: each reader and the pattern matcher give what ``ansible-inventory`` itself gives.

The reference is ansible-core (pinned in requirements-dev.txt), run on the same
files: hosts, groups (direct hosts and children, in order) and every host's
merged variables must be equal; a ``--limit`` pattern must select the same
hosts. The runtime never needs Ansible; only these tests do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.unit.inventory_sources.samples import (
    ANSIBLE_SAMPLES,
    EXPORT_JSON,
    KOLLA,
    LIST_JSON,
    SYNTHETIC_DIR,
    SYNTHETIC_INI,
    SYNTHETIC_YAML,
    TRIPLEO_STANDALONE,
    TRIPLEO_WALLABY,
    differences,
    reference,
    reference_hosts,
    reference_limits,
)
from vrouter_preflight.inventory_sources import read_operator_inventory, select_hosts, universe_of


@pytest.mark.parametrize("sample", ANSIBLE_SAMPLES, ids=lambda p: p.parent.name)
def test_reader_equals_ansible_inventory(sample: Path) -> None:
    mine = read_operator_inventory(sample)
    assert len(mine.hosts) > 0
    assert differences(mine, reference([sample])) == []


def test_several_sources_equal_ansible_inventory() -> None:
    sources = [SYNTHETIC_INI, SYNTHETIC_YAML, SYNTHETIC_DIR]
    mine = read_operator_inventory(sources)
    assert mine.format == "ansible-directory"
    assert differences(mine, reference(sources)) == []


@pytest.mark.parametrize("saved", [LIST_JSON, EXPORT_JSON], ids=["list", "export"])
def test_list_json_equals_ansible_reading_it_as_a_script(saved: Path, tmp_path: Path) -> None:
    """The saved JSON, served by an inventory script, is what Ansible's script plugin reads."""
    script = tmp_path / "inventory.sh"
    script.write_text(f"#!/bin/sh\ncat '{saved}'\n")
    script.chmod(0o755)
    mine = read_operator_inventory(saved)
    assert mine.format == "ansible-list-json"
    assert differences(mine, reference([script])) == []


def test_saved_list_json_carries_the_directory_it_was_made_from() -> None:
    """``--list`` output holds the merged variables: reading it equals reading the directory."""
    from_json = read_operator_inventory(LIST_JSON)
    from_dir = read_operator_inventory(SYNTHETIC_DIR)
    assert {h: dict(v.variables) for h, v in from_json.hosts.items()} == {
        h: dict(v.variables) for h, v in from_dir.hosts.items()
    }


PATTERNS = [
    (KOLLA, "compute"),
    (KOLLA, "control:!control02"),
    (KOLLA, "baremetal:&control"),
    (KOLLA, "control,network"),
    (KOLLA, "c*"),
    (KOLLA, "~(control|network)0[12]"),
    (KOLLA, "all:!baremetal"),
    (KOLLA, "*"),
    (KOLLA, "control[0]"),
    (KOLLA, "control[1:]"),
    (KOLLA, "nova[0:1]"),
    (KOLLA, "!control"),
    (KOLLA, "&network"),
    (TRIPLEO_WALLABY, "Compute"),
    (TRIPLEO_WALLABY, "Controller,Compute"),
    (TRIPLEO_WALLABY, "allovercloud:&nova_compute"),
    (TRIPLEO_WALLABY, "rk-openstack-0_*"),
    (TRIPLEO_WALLABY, "~.*novacompute.*"),
    (TRIPLEO_WALLABY, "all:!Undercloud"),
    (TRIPLEO_STANDALONE, "Compute"),
    (TRIPLEO_STANDALONE, "overcloud:!Standalone"),
    (TRIPLEO_STANDALONE, "nova_compute:&Compute"),
    (TRIPLEO_STANDALONE, "Undercloud"),
    (SYNTHETIC_INI, "compute:&dpdk"),
    (SYNTHETIC_INI, "rack1:!dpdk"),
    (SYNTHETIC_INI, "compute0[1-3]*"),
    (SYNTHETIC_INI, "compute-?.example.com"),
    (SYNTHETIC_INI, "localhost"),
    (SYNTHETIC_INI, "all:!compute:!control"),
    (SYNTHETIC_INI, "dpdk[0]"),
    (SYNTHETIC_INI, "compute02,compute30"),
    (SYNTHETIC_YAML, "Compute"),
    (SYNTHETIC_YAML, "al*"),
    (SYNTHETIC_YAML, "ungrouped"),
    (SYNTHETIC_YAML, "overcloud_Compute:&Compute:!overcloud-novacompute-1"),
]


@pytest.mark.parametrize(("sample", "pattern"), PATTERNS, ids=[f"{s.parent.name}:{p}" for s, p in PATTERNS])
def test_limit_equals_ansible(sample: Path, pattern: str) -> None:
    chosen = select_hosts(pattern, universe_of(read_operator_inventory(sample)))
    assert chosen, pattern
    patterns_of_sample = tuple(p for s, p in PATTERNS if s == sample)
    assert set(chosen) == set(reference_limits(sample, patterns_of_sample)[pattern])


def test_limit_through_ansible_inventory_cli() -> None:
    """The Python-API reference above agrees with the command line itself (``--limit``)."""
    pattern = "control:!control02"
    assert reference_hosts(reference([KOLLA], "--limit", pattern)) == set(reference_limits(KOLLA, [pattern])[pattern])


def test_reference_runs_without_a_user_config() -> None:
    """The reference is Ansible's defaults: no ansible.cfg here could change precedence or plugins."""
    assert "ANSIBLE_CONFIG" not in os.environ
    assert not Path("ansible.cfg").exists()
    assert json.loads(json.dumps(reference([KOLLA])["all"]))["children"][0] == "ungrouped"
