"""The published JSON Schema of the summary, and ``schema_version`` as a contract.

``tests/data/summary-contract.json`` records what a reader of a version-N
summary may rely on. A schema change that would break such a reader fails
here until ``SCHEMA_VERSION`` is bumped; a change that breaks nobody only
asks for the record to be refreshed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.summaries import (
    CONTRACT_PATH,
    SCHEMA_PATH,
    breaking_changes,
    contract_document,
    recorded_contract,
    schema_contract,
    summary_schema,
)
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.reporting.summary import SCHEMA_VERSION

RECORD = f"python -m tests.summaries > {CONTRACT_PATH.relative_to(CONTRACT_PATH.parents[2])}"


def test_the_schema_is_draft_2020_12_and_valid() -> None:
    schema = summary_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_schema_and_the_code_agree_on_the_version_and_the_check_ids() -> None:
    schema = summary_schema()
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION, (
        f"{SCHEMA_PATH.name} describes schema_version {schema['properties']['schema_version']['const']}, "
        f"reporting/summary.py writes {SCHEMA_VERSION}"
    )
    assert schema["$defs"]["check_id"]["enum"] == [check.id for check in CheckId], "the registry's ids, in order"


def test_schema_version_changes_with_every_breaking_change() -> None:
    recorded = recorded_contract()
    assert recorded["schema_version"] == SCHEMA_VERSION, (
        f"SCHEMA_VERSION is {SCHEMA_VERSION}, the recorded contract is of version {recorded['schema_version']}: "
        f"record the new version's contract: {RECORD}"
    )
    current = contract_document()["contract"]
    broken = breaking_changes(recorded["contract"], current)
    assert not broken, (
        "breaking change of the JSON summary; bump SCHEMA_VERSION (reporting/summary.py and the schema's "
        f"schema_version const), say so in the README, then {RECORD}:\n" + "\n".join(broken)
    )
    if current != recorded["contract"]:
        differences = sorted(
            path
            for path in set(current) | set(recorded["contract"])
            if current.get(path) != recorded["contract"].get(path)
        )
        pytest.fail(f"the schema changed without breaking readers ({', '.join(differences)}): no bump; {RECORD}")


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    schema = copy.deepcopy(summary_schema())
    change(schema)
    return schema


def _rename_message(schema: dict[str, Any]) -> None:
    check = schema["$defs"]["check"]
    check["properties"]["text"] = check["properties"].pop("message")
    check["required"] = ["text" if name == "message" else name for name in check["required"]]


def _optional_error(schema: dict[str, Any]) -> None:
    schema["$defs"]["host"]["required"].remove("error")


# a change of the schema -> what breaks (None: nothing a reader relies on)
CHANGES: list[tuple[str, Callable[[dict[str, Any]], object], str | None]] = [
    ("remove a field", lambda s: s["$defs"]["host"]["properties"].pop("counts"), "hosts.*.counts: removed"),
    ("rename a field", _rename_message, "hosts.*.checks[].message: removed or renamed"),
    (
        "retype a field",
        lambda s: s["$defs"]["check"]["properties"]["node"].update(type=["string", "null"]),
        "hosts.*.checks[].node: may now be string",
    ),
    (
        "make a field nullable",
        lambda s: s["properties"]["exit_status"].update(type=["integer", "null"]),
        "exit_status: may now be null",
    ),
    ("make a field optional", _optional_error, "hosts.*.error: no longer always present"),
    ("remove an outcome", lambda s: s["$defs"]["outcome"]["enum"].remove("skipped"), "value(s) removed: skipped"),
    ("add an outcome", lambda s: s["$defs"]["outcome"]["enum"].append("xfailed"), "closed list: xfailed"),
    ("remove a check id", lambda s: s["$defs"]["check_id"]["enum"].remove("remediation"), "removed: remediation"),
    ("change the version", lambda s: s["properties"]["schema_version"].update(const=2), "constant 1 is now 2"),
    ("add an optional field", lambda s: s["properties"].update(run_by={"type": "string"}), None),
    ("add a check id", lambda s: s["$defs"]["check_id"]["enum"].append("vrouter_params"), None),
    ("narrow a type", lambda s: s["$defs"]["host"]["properties"]["error"].update(type="string"), None),
    ("require an optional field", lambda s: s["required"].append("rollout"), None),
    ("reword a description", lambda s: s.update(description="what one run found"), None),
]


@pytest.mark.parametrize(("change", "breaks"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_what_counts_as_a_breaking_change(change: Callable[[dict[str, Any]], object], breaks: str | None) -> None:
    before = schema_contract(summary_schema())
    found = breaking_changes(before, schema_contract(mutated(change)))
    if breaks is None:
        assert found == []
    else:
        assert any(breaks in problem for problem in found), found
