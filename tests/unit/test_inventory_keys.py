"""Every inventory key is declared once, and the README's key table says exactly what the declarations say."""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

import pytest

from vrouter_preflight.inventory import HOST_KEYS, HostSpec, VrouterOverrides
from vrouter_preflight.inventory.key_table import HEADER, key_table
from vrouter_preflight.inventory.load import TOP_LEVEL_KEYS
from vrouter_preflight.keys.checks import IntRange, NumberRange, number_text
from vrouter_preflight.keys.spec import ANY, LIVE, SNAPSHOT, SSH, KeySpec, key_specs

README = Path(__file__).resolve().parents[2] / "README.md"


def all_keys() -> list[tuple[str, KeySpec]]:
    """Every declared key with its dotted name: top level, host keys, then each mapping's sub-keys."""
    keys = [(spec.name, spec) for spec in TOP_LEVEL_KEYS]
    for spec in key_specs(HostSpec):
        keys.append((spec.name, spec))
        keys += [(f"{spec.name}.{sub.name}", sub) for sub in spec.sub_keys]
    return keys


def readme_key_table() -> list[str]:
    """The table under the README's "## Inventory" heading that starts with the key table's header."""
    section = README.read_text(encoding="utf-8").split("\n## Inventory\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = lines.index(HEADER)
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_the_readme_key_table_is_the_declarations() -> None:
    expected, found = key_table(), readme_key_table()
    diff = "\n".join(difflib.unified_diff(found, expected, "README.md", "declarations", lineterm=""))
    assert found == expected, (
        "README.md's inventory key table differs from the keys' declarations; regenerate it with "
        f"`python -m vrouter_preflight.inventory.key_table`:\n{diff}"
    )


def test_a_readme_row_missing_or_extra_would_fail() -> None:
    rows = key_table()[2:]
    assert len(rows) == len(all_keys())
    names = [row.split(" | ", 1)[0].removeprefix("| `").removesuffix("`") for row in rows]
    assert names == [name for name, _ in all_keys()]


def test_every_host_field_but_the_name_and_the_operators_secrets_is_a_declared_key() -> None:
    fields = [item.name for item in dataclasses.fields(HostSpec)]
    assert fields[0] == "name"
    # Set only from an operator's inventory (Ansible's passwords, a host it describes unusably), never from YAML.
    assert fields[-3:] == ["login_password", "sudo_password", "unusable"]
    assert [spec.attribute for spec in key_specs(HostSpec)] == fields[1:-3]
    assert tuple(spec.name for spec in key_specs(HostSpec)) == HOST_KEYS
    assert [spec.attribute for spec in key_specs(VrouterOverrides)] == [
        f.name for f in dataclasses.fields(VrouterOverrides)
    ]


def test_each_key_has_a_doc_line_a_range_text_and_a_place() -> None:
    places = [(name, spec.where) for name, spec in all_keys()]
    assert len(places) == len(set(places))  # `groups` is a top-level key and a host key: two rows, two places
    for name, spec in all_keys():
        assert spec.doc and "\n" not in spec.doc, name
        assert spec.check.expected, name
        assert spec.where in (("host", "groups", "defaults"), ("host",), ("top level",)), name


def test_the_declared_defaults_are_the_models_defaults() -> None:
    plain = HostSpec(name="x")
    for spec in key_specs(HostSpec):
        assert getattr(plain, spec.attribute) == spec.default, spec.name


def test_transports_as_documented_before_the_rewrite() -> None:
    applies = {spec.name: spec.applies for spec in key_specs(HostSpec)}
    ssh = {"address", "port", "identity_file", "identity_passphrase_env", "jump", "proxy_command", "known_hosts"}
    ssh |= {"host_key_policy", "ssh_config", "connect_timeout"}
    live = {"become", "sudo_password_env", "command_timeout", "trial", "destructive", "remediation", "cert_cycles"}
    assert {name for name, value in applies.items() if value == SSH} == ssh
    assert {name for name, value in applies.items() if value == LIVE} == live
    assert {name for name, value in applies.items() if value == SNAPSHOT} == {"path", "page_size"}
    assert all(value == ANY for name, value in applies.items() if name not in ssh | live | {"path", "page_size"})
    assert {spec.name for spec in key_specs(HostSpec) if spec.where == ("host",)} == {"address", "path"}


NUMERIC = [(name, spec) for name, spec in all_keys() if isinstance(spec.check, (IntRange, NumberRange))]


@pytest.mark.parametrize(("name", "spec"), NUMERIC, ids=[name for name, _ in NUMERIC])
def test_every_number_has_a_finite_plausible_range_that_the_table_shows(name: str, spec: KeySpec) -> None:
    check = spec.check
    assert isinstance(check, (IntRange, NumberRange))
    assert check.high < 1 << 32, name
    assert number_text(check.high) in check.expected, name
    row = next(row for row in key_table() if row.startswith(f"| `{name}` |"))
    assert check.expected in row


def test_the_durations_counts_and_table_sizes_all_have_ranges() -> None:
    bounded = {name for name, _ in NUMERIC}
    assert bounded >= {
        "port",
        "connect_timeout",
        "command_timeout",
        "min_free_1g_per_node",
        "cert_cycles",
        "cert_numa_tolerance",
        "vrouter.flow_entries",
        "vrouter.oflow_entries",
        "vrouter.bridge_entries",
        "vrouter.bridge_oentries",
        "vrouter.nexthops",
        "vrouter.contiguity_margin",
        "vrouter.contiguity_spare_blocks",
        "vrouter.health_timeout",
        "vrouter.reload_timeout",
        "vrouter.health_interval",
    }
