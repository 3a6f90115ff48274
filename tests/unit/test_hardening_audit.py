"""docs/hardening.md cannot rot: every finding of issue 13 has a row, every row names tests, every test exists.

The tests named are collected by pytest in a subprocess (``--collect-only``), so a renamed, moved or deleted
test — or a parameter id that changed — fails here until the table says what holds the finding now. A module
that skips itself unless its opt-in variable is set (the kernel tests, ``VRPF_KERNEL_TESTS``) collects
nothing here: its tests are found in its source instead (a test function of that name, parameters aside).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "hardening.md"
NODE_ID = re.compile(r"`(tests/[\w/]+\.py::[^`]+)`")
#: The bad inputs findings 10 and 11 list, each of which must have a row of its own (a word of its Case cell).
SUB_CASES = {
    "10": (
        "--max-fail-percentage",
        "--rollback-journal <directory>",
        "bad entries",
        "truncated journal",
        "20,000 deep",
        "command_timeout",
        "200,000-character",
        "known_hosts that is a directory",
        "/dev/zero",
        "a FIFO",
        "200 MB inventory",
        "snapshot `path: /`",
    ),
    "11": ("300 KB", "symlink loop"),
}


def table_rows(section: str) -> list[list[str]]:
    """The cells of each row of the table under ``## section`` (header and rule left out)."""
    text = TABLE.read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ")]  # the |---| rule does not start so
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def named_tests() -> list[str]:
    """Every test node id the document names, in order."""
    return NODE_ID.findall(TABLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def collected() -> set[str]:
    """The node ids pytest collects from every file the document names."""
    files = sorted({node.split("::", 1)[0] for node in named_tests()})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {line for line in done.stdout.splitlines() if "::" in line}


def test_every_finding_has_a_row_naming_tests() -> None:
    rows = table_rows("Findings")
    assert {row[0] for row in rows} == {str(number) for number in range(1, 14)}
    for row in rows:
        assert NODE_ID.search(row[-1]), f"finding {row[0]} ({row[1][:60]}) names no test"


@pytest.mark.parametrize("finding", sorted(SUB_CASES))
def test_every_bad_input_of_findings_10_and_11_has_its_row(finding: str) -> None:
    cases = [row[1] for row in table_rows("Findings") if row[0] == finding]
    for words in SUB_CASES[finding]:
        assert sum(words in case for case in cases) == 1, f"finding {finding}: no single row for {words!r}"


def test_every_property_test_row_names_tests() -> None:
    rows = table_rows("Found by the property tests")
    assert rows
    for row in rows:
        assert NODE_ID.search(row[-1]), f"{row[0][:60]}: names no test"


def defined_tests(file: str) -> set[str]:
    """The test functions ``file`` defines at its top level (read, not imported).

    >>> "test_every_named_test_exists" in defined_tests("tests/unit/test_hardening_audit.py")
    True
    """
    tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def is_named_test(node: str, collected: set[str]) -> bool:
    """True when pytest collected ``node`` (or its parameters), or its module skips itself and defines it."""
    if node in collected or any(found.startswith(node + "[") for found in collected):
        return True
    file, name = node.split("::", 1)
    if any(found.startswith(file + "::") for found in collected):
        return False
    return name.split("[", 1)[0] in defined_tests(file)


def test_every_named_test_exists(collected: set[str]) -> None:
    missing = [node for node in named_tests() if not is_named_test(node, collected)]
    assert not missing, f"docs/hardening.md names tests pytest does not collect: {missing}"
