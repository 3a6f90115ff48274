"""The check-id registry is the only place a check id is spelled, and every check names its id from it."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrouter_preflight.check_ids import CERTIFICATION_CHECKS, FAILURES, CheckFailed, CheckId, Scope
from vrouter_preflight.wiring.hosts import CHECKS_DIR
from vrouter_preflight.wiring.items import bound_id

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "plugins" / "vrouter_preflight"
REGISTRY = PACKAGE / "check_ids.py"
#: Strings that spell a check id but mean something else: (file, string) -> what they are.
HOMONYMS = {("inventory.py", "remediation"): "the inventory key remediation: (drop_caches, compact_memory)"}

#: The contract (README "Checks"): these strings, exactly, in every report.
CONTRACT = [
    "reachable",
    "facts_parse",
    "cmdline_hugepages",
    "hugepages_per_node",
    "hugepage_backing",
    "contiguous_blocks",
    "trial_allocation",
    "remediation",
    "certify_identity",
    "certify_cpu_1g_pages",
    "certify_numa_layout",
    "certify_boot_hugepages",
    "certify_trial",
    "certify_destructive_cycles",
]


def test_the_registry_spells_the_contracted_ids() -> None:
    assert [check.id for check in CheckId] == CONTRACT
    assert [CheckId.named(text) for text in CONTRACT] == list(CheckId)


def test_each_check_has_a_scope_and_a_typed_failure_of_its_own_kind() -> None:
    for check in CheckId:
        assert isinstance(check.scope, Scope), check
        assert issubclass(check.failure, CheckFailed) and issubclass(check.failure, pytest.fail.Exception), check
        assert check.failure in FAILURES, check
    assert [check.finding for check in CERTIFICATION_CHECKS] == [
        "identity",
        "cpu_1g_pages",
        "numa_layout",
        "boot_hugepages",
        "trial",
        "destructive_cycles",
    ]


def code_strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string constant of a module's code, its docstrings left out (prose may name a check)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_check_id_is_spelled_outside_the_registry() -> None:
    ids = {check.id for check in CheckId}
    sources = [*PACKAGE.rglob("*.py"), *CHECKS_DIR.glob("*.py")]
    assert REGISTRY in sources and len(sources) > 50
    spelled = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sources
        if path != REGISTRY
        for line, text in code_strings(path)
        if text in ids and (path.name, text) not in HOMONYMS
    ]
    assert not spelled, "use CheckId.<MEMBER> (vrouter_preflight.check_ids) instead of:\n" + "\n".join(spelled)


def test_the_literal_scan_sees_a_spelled_id(tmp_path: Path) -> None:
    module = tmp_path / "spelled.py"
    module.write_text('"""Docstring naming contiguous_blocks."""\nCHARTS = {"contiguous_blocks": 1}\n')
    assert list(code_strings(module)) == [(2, "contiguous_blocks")]


def check_functions() -> Iterator[tuple[str, object]]:
    """Every test function of the installed checks, by ``module::name``."""
    for path in sorted(CHECKS_DIR.glob("test_*.py")):
        module = importlib.import_module(f"vrouter_preflight.checks.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("test_") and function.__module__ == module.__name__:
                yield f"{path.name}::{name}", function


def test_every_check_function_names_one_registry_id_and_every_id_has_its_check() -> None:
    bound = {where: bound_id(function) for where, function in check_functions()}
    assert len(bound) == len(CheckId), bound
    unbound = [where for where, check in bound.items() if check is None]
    assert not unbound, f"check functions without @check(CheckId.…): {unbound}"
    order = list(CheckId)
    assert sorted((check for check in bound.values() if check is not None), key=order.index) == order, (
        "each id bound exactly once"
    )


def readme_section(title: str) -> str:
    """The text of one ``## title`` section of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_names_every_check_with_its_scope_and_failure() -> None:
    section = readme_section("Checks")
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    table = {row[0].strip("| `"): (row[1], row[2]) for row in rows}
    named = set(re.findall(r"`(certify_[a-z0-9_]+)`", section))
    assert set(table) | named == {check.id for check in CheckId}
    for name, (scope, failure) in table.items():
        check = CheckId.named(name)
        assert check is not None and scope == check.scope.value.replace("trial.nodes", "`trial.nodes`"), name
        assert failure.startswith(f"`{check.failure.__name__}`"), name
