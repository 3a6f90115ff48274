"""The JSON summary's published schema (``docs/summary.schema.json``): validating summaries, and its contract.

``load_summary`` reads a summary a run wrote and fails, naming every place,
unless it follows the schema; ``run_suite`` (tests/suite_runs.py) checks every
summary a run writes the same way.

The *contract* is what a reader of the summary may rely on, flattened from the
schema: per field path (``hosts.*.checks[].outcome``) the JSON types it may
have, whether it is always there, and the values of a closed list.
``tests/data/summary-contract.json`` records it for the current
``SCHEMA_VERSION``; :func:`breaking_changes` says what a reader would trip over
(tests/unit/test_summary_schema.py). Print the current contract with
``python -m tests.summaries``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "docs" / "summary.schema.json"
CONTRACT_PATH = ROOT / "tests" / "data" / "summary-contract.json"
#: Lists a later version may extend without breaking a reader: new checks get new ids.
OPEN_LISTS = frozenset({"#/$defs/check_id"})

Contract = dict[str, dict[str, Any]]


def summary_schema() -> dict[str, Any]:
    """The published schema, as a dict."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = summary_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_problems(summary: object) -> list[str]:
    """Every place where ``summary`` does not follow the schema, as ``at <path>: <why>`` (empty: it does)."""
    errors = sorted(_validator().iter_errors(summary), key=lambda error: [str(p) for p in error.absolute_path])
    return [f"at {error.json_path}: {error.message[:300]}" for error in errors]


def validate_summary(summary: object, where: str = "summary") -> None:
    """Fail, listing every problem, unless ``summary`` follows ``docs/summary.schema.json``."""
    __tracebackhide__ = True
    problems = schema_problems(summary)
    if problems:
        raise AssertionError(f"{where} does not follow {SCHEMA_PATH.name}:\n" + "\n".join(problems[:40]))


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON summary a run wrote at ``path``, after checking it follows the schema."""
    __tracebackhide__ = True
    summary = json.loads(Path(path).read_text(encoding="utf-8"))
    validate_summary(summary, str(path))
    assert isinstance(summary, dict)
    return summary


# --- the contract ----------------------------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {str: "string", float: "number", list: "array", dict: "object"}[type(value)]


def _branches(node: Mapping[str, Any], schema: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str | None]]:
    """``node`` and every schema it stands for ($ref, anyOf, oneOf), each with the $ref that led to it."""
    yield node, None
    ref = node.get("$ref")
    if isinstance(ref, str):
        target: Any = schema
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        for inner, inner_ref in _branches(target, schema):
            yield inner, inner_ref or ref
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key) or ():
            yield from _branches(branch, schema)


def _entry(node: Mapping[str, Any], schema: Mapping[str, Any], required: bool) -> dict[str, Any]:
    types: set[str] = set()
    entry: dict[str, Any] = {"required": required}
    for part, ref in _branches(node, schema):
        kind = part.get("type")
        types.update([kind] if isinstance(kind, str) else kind or ())
        if "enum" in part:
            types.update(_json_type(value) for value in part["enum"])
            entry["values"] = sorted(part["enum"], key=str)
            entry["open"] = ref in OPEN_LISTS
        if "const" in part:
            types.add(_json_type(part["const"]))
            entry["const"] = part["const"]
    if "integer" in types and "number" in types:
        types.discard("integer")
    entry["types"] = sorted(types)
    return entry


def schema_contract(schema: Mapping[str, Any]) -> Contract:
    """What a reader may rely on, per field path: ``types``, ``required``, ``values`` of a closed list, ``const``.

    >>> contract = schema_contract(summary_schema())
    >>> contract["hosts.*.checks[].outcome"]
    {'required': True, 'values': ['error', 'failed', 'passed', 'skipped'], 'open': False, 'types': ['string']}
    >>> contract["rollout"]["required"], contract["hosts.*.demand"]["types"]
    (False, ['null', 'object'])
    """
    contract: Contract = {}

    def walk(path: str, node: Mapping[str, Any], required: bool) -> None:
        if path:
            contract[path] = _entry(node, schema, required)
        for part, _ in _branches(node, schema):
            needed = set(part.get("required") or ())
            for name, child in (part.get("properties") or {}).items():
                walk(f"{path}.{name}" if path else name, child, name in needed)
            extra = part.get("additionalProperties")
            if isinstance(extra, dict):
                walk(f"{path}.*", extra, False)
            items = part.get("items")
            if isinstance(items, dict):
                walk(f"{path}[]", items, False)

    walk("", schema, True)
    return dict(sorted(contract.items()))


def breaking_changes(recorded: Contract, current: Contract) -> list[str]:
    """What a reader of a summary of the ``recorded`` contract would trip over in one of the ``current`` contract.

    Breaking: a field removed or renamed; a field that may now hold another JSON type (``null`` too); a
    field that is no longer always there; a value of a closed list removed or added (an open list, the
    check ids, may grow); a constant changed. Not breaking: a new optional field, a field that may hold
    fewer types, an optional field made required, a new check id.

    >>> old = {"verdict": {"types": ["string"], "required": True, "values": ["fail", "pass"], "open": False}}
    >>> breaking_changes(old, {"verdict": {**old["verdict"], "values": ["error", "fail", "pass"]}})
    ['verdict: value(s) added to a closed list: error']
    >>> breaking_changes(old, {**old, "note": {"types": ["string"], "required": False}})
    []
    """
    problems = []
    for path, before in recorded.items():
        after = current.get(path)
        if after is None:
            problems.append(f"{path}: removed or renamed")
            continue
        widened = sorted(set(after["types"]) - set(before["types"]))
        if widened:
            problems.append(f"{path}: may now be {', '.join(widened)} (was {', '.join(before['types'])})")
        if before["required"] and not after["required"]:
            problems.append(f"{path}: no longer always present")
        if "values" in before and "values" not in after:
            problems.append(f"{path}: may now be any value, not only {', '.join(map(str, before['values']))}")
        elif "values" in before:
            gone = sorted(set(map(str, before["values"])) - set(map(str, after.get("values") or ())))
            added = sorted(set(map(str, after.get("values") or ())) - set(map(str, before["values"])))
            if gone:
                problems.append(f"{path}: value(s) removed: {', '.join(gone)}")
            if added and not before.get("open"):
                problems.append(f"{path}: value(s) added to a closed list: {', '.join(added)}")
        if before.get("const") != after.get("const"):
            problems.append(f"{path}: constant {before.get('const')!r} is now {after.get('const')!r}")
    return problems


def recorded_contract() -> dict[str, Any]:
    """``tests/data/summary-contract.json``: ``{"schema_version": N, "contract": {...}}``."""
    recorded: dict[str, Any] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return recorded


def contract_document() -> dict[str, Any]:
    """The current schema's contract, as ``tests/data/summary-contract.json`` records it."""
    schema = summary_schema()
    return {"schema_version": schema["properties"]["schema_version"]["const"], "contract": schema_contract(schema)}


def contract_text(document: Mapping[str, Any]) -> str:
    """``document`` as JSON with one line per field path, for a readable diff."""
    lines = [f' "schema_version": {json.dumps(document["schema_version"])},', ' "contract": {']
    entries = [
        f"  {json.dumps(path)}: {json.dumps(entry, ensure_ascii=False)}" for path, entry in document["contract"].items()
    ]
    return "\n".join(["{", *lines, ",\n".join(entries), " }", "}", ""])


if __name__ == "__main__":
    print(contract_text(contract_document()), end="")
