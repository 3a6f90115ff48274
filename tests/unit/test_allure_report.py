"""Allure helpers in a real pytest run (pytester, allure-pytest 2.16.2), and the files written after it."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import vrouter_preflight
from tests.allure_results import attachments, labels, load_results, parameters, validate_results
from vrouter_preflight.check_ids import (
    FAILURES,
    CheckId,
    ContiguousShortfall,
    FactsUnusable,
    HardwareUnfit,
    HugepageMisconfigured,
    RemediationFailed,
    TrialRefused,
)
from vrouter_preflight.errors import CommandTimeout, HostError, HostUnreachable, InventoryError, PreflightError
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.remediation.journal import OpenJournal
from vrouter_preflight.reporting.allure_report import (
    CATEGORIES,
    CAUSES,
    environment_text,
    escape_property,
    type_name,
    write_categories,
    write_environment,
)
from vrouter_preflight.wiring.allure_attach import allure_active, attach_json, attach_table, attach_text, describe_check
from vrouter_preflight.wiring.verdict import CannotJudge

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

# A miniature of the real suite: a `host` fixture parametrised indirectly, checks
# that describe themselves, one outcome of every kind.
CONFTEST = """
import pytest
from vrouter_preflight.wiring.allure_attach import host_parameter

@pytest.fixture
def host(request):
    host_parameter(request.param)
    return request.param
"""

CHECKS = """
import pytest
from vrouter_preflight.check_ids import ContiguousShortfall, HugepageMisconfigured
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.wiring.allure_attach import attach_json, attach_table, attach_text, describe_check
from vrouter_preflight.wiring.verdict import CannotJudge

HOSTS = pytest.mark.parametrize("host", ["compute-0", "compute-1"], indirect=True)

@pytest.fixture
def facts(host):
    raise HostUnreachable(host, "192.0.2.10:22", "connection refused by the hugepage lab's firewall")

@pytest.fixture
def vrouter_config(host):
    raise HugepageMisconfigured(f"{host}: hugepage size 3M, and not enough contiguous memory", pytrace=False)

@HOSTS
def test_contiguous_blocks(host):
    describe_check(title=f"Contiguous 4 MiB blocks on {host} node 0", host=host, node=0,
                   check_id="contiguous_blocks", feature="Contiguous memory")
    attach_table("free blocks", ["zone", "order 9", "order 10"], [["Normal", 7, 44 if host == "compute-0" else 3]])
    attach_json("demand", {"buddy_blocks": {"10": 44}})
    free = 44 if host == "compute-0" else 3
    if free < 44:
        message = f"{host} node 0: {free} free order-10 blocks, 44 needed (hugepage mode)"
        raise ContiguousShortfall(message, pytrace=False)

@pytest.mark.parametrize("host", ["compute-2"], indirect=True)
def test_reachable(host, facts):
    describe_check(title=f"{host} is reachable", host=host, check_id="reachable")

@pytest.mark.parametrize("host", ["compute-0"], indirect=True)
def test_agent_hugepages(host, vrouter_config):
    describe_check(title="never reached", host=host, check_id="agent_hugepages")

@pytest.mark.parametrize("host", ["compute-0"], indirect=True)
def test_page_size(host):
    describe_check(title=f"Page size on {host}", host=host, check_id="page_size", severity="normal")
    attach_text("getconf PAGESIZE", "65536")
    raise CannotJudge(host, "page size 65536 unsupported for contiguous hugepage tables")

@pytest.mark.parametrize("host", ["compute-0"], indirect=True)
def test_words_alone(host):
    describe_check(title=f"Words on {host}", host=host, check_id="words")
    assert False, f"{host}: connection refused, cannot judge, not enough contiguous memory, hugepage"

@pytest.mark.parametrize("host", ["compute-0"], indirect=True)
def test_vrouter_params(host):
    describe_check(title=f"vRouter parameters on {host}", host=host, check_id="vrouter_params", severity="minor")
    pytest.skip("vrouter module not loaded: not applicable")
"""

# test id -> (allure status, category): the typed cause decides, whatever words the message carries;
# a bare assert has no typed cause and lands in none of the board's categories.
EXPECTED = {
    "test_contiguous_blocks[compute-0]": ("passed", None),
    "test_contiguous_blocks[compute-1]": ("failed", "Insufficient contiguous memory"),
    "test_reachable[compute-2]": ("broken", "Unreachable"),
    "test_agent_hugepages[compute-0]": ("failed", "Hugepage misconfiguration"),
    "test_page_size[compute-0]": ("broken", "Unsupported / cannot judge"),
    "test_words_alone[compute-0]": ("failed", None),
    "test_vrouter_params[compute-0]": ("skipped", "Not applicable"),
}


def run_checks(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    """Run the miniature suite in a fresh interpreter (Allure's plugin manager is process-global)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:vrouter_preflight", *args
    )


def categories_of(result: dict[str, Any], categories: list[dict[str, Any]]) -> list[str]:
    """The categories Allure would give a result; full match as Allure 2 (Java) does."""
    message = (result.get("statusDetails") or {}).get("message") or ""
    found = []
    for category in categories:
        if result["status"] not in category["matchedStatuses"]:
            continue
        regex = category.get("messageRegex")
        if regex is None or re.fullmatch(regex, message):
            found.append(category["name"])
    return found


def test_real_run_statuses_titles_parameters_attachments(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    alluredir = pytester.path / "allure-results"
    run = run_checks(pytester, monkeypatch, f"--alluredir={alluredir}", "--clean-alluredir")
    run.assert_outcomes(passed=1, failed=3, errors=2, skipped=1)
    write_environment(alluredir, {"inventory": "inventory/example.yaml", "kernel release": "6.18.44"})
    write_categories(alluredir)

    results = load_results(alluredir)
    validate_results(results, alluredir)
    by_test = {
        result["fullName"].split("#", 1)[1] + "[" + parameters(result)["host"] + "]": result for result in results
    }
    assert sorted(by_test) == sorted(EXPECTED)
    assert {name: result["status"] for name, result in by_test.items()} == {n: s for n, (s, _) in EXPECTED.items()}

    passed = by_test["test_contiguous_blocks[compute-0]"]
    assert passed["name"] == "Contiguous 4 MiB blocks on compute-0 node 0"
    assert parameters(passed) == {"host": "compute-0", "node": "0"}
    assert [p["value"] for p in passed["parameters"] if p["name"] == "host"] == ["compute-0"], "shown without quotes"
    assert labels(passed, "severity") == ["critical"]
    assert (labels(passed, "check_id"), labels(passed, "story")) == (["contiguous_blocks"], ["contiguous_blocks"])
    assert labels(passed, "feature") == ["Contiguous memory"]
    assert [(a["name"], a["type"]) for a in attachments(passed)] == [
        ("free blocks", "text/plain"),
        ("demand", "application/json"),
    ]
    table, demand = (alluredir / a["source"] for a in attachments(passed))
    assert table.read_text().splitlines() == [
        "zone    order 9  order 10",
        "------  -------  --------",
        "Normal  7        44",
    ]
    assert json.loads(demand.read_text()) == {"buddy_blocks": {"10": 44}}

    failed = by_test["test_contiguous_blocks[compute-1]"]
    assert failed["statusDetails"]["message"].startswith(
        f"{type_name(ContiguousShortfall)}: compute-1 node 0: 3 free order-10 blocks"
    ), "Allure's message starts with the cause's type"
    page_size = by_test["test_page_size[compute-0]"]
    assert (labels(page_size, "severity"), page_size["name"]) == (["normal"], "Page size on compute-0")
    assert [(a["name"], (alluredir / a["source"]).read_text()) for a in attachments(page_size)] == [
        ("getconf PAGESIZE", "65536")
    ]
    # A setup error keeps pytest's name but still has the host parameter, from the host fixture.
    unreachable = by_test["test_reachable[compute-2]"]
    assert (unreachable["name"], parameters(unreachable)) == ("test_reachable[compute-2]", {"host": "compute-2"})
    assert unreachable["statusDetails"]["message"].startswith(
        f"{type_name(HostUnreachable)}: compute-2 (192.0.2.10:22)"
    )

    categories = json.loads((alluredir / "categories.json").read_text())
    for name, (_, category) in EXPECTED.items():
        assert categories_of(by_test[name], categories) == ([category] if category else []), name

    properties = (alluredir / "environment.properties").read_text(encoding="ascii")
    assert properties == "inventory=inventory/example.yaml\nkernel\\ release=6.18.44\n"


def test_helpers_are_no_ops_without_alluredir(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_checks(pytester, monkeypatch)
    run.assert_outcomes(passed=1, failed=3, errors=2, skipped=1)
    assert not list(pytester.path.rglob("*-result.json"))


def test_helpers_outside_allure_do_nothing_here() -> None:
    assert not allure_active(), "this suite's own run does not record Allure results"
    describe_check(title="t", host="h", node=1, check_id="c", feature="f")
    attach_text("a", "b")
    attach_json("a", {"b": {1, 2}})
    attach_table("a", ["x"], [[1]])


def test_bad_severity_and_table_format_fail_even_without_allure() -> None:
    with pytest.raises(ValueError, match="severity 'CRITICAL'"):
        describe_check(title="t", host="h", check_id="c", severity="CRITICAL")
    with pytest.raises(ValueError, match="table format 'md'"):
        attach_table("a", ["x"], [[1]], fmt="md")


def read_properties(text: str) -> dict[str, str]:
    """A reader of what escape_property writes (one logical line per entry), as java.util.Properties reads it."""
    simple = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
    entries = {}
    for line in text.splitlines():
        key: list[str] = []
        value: list[str] = []
        target, i = key, 0
        while i < len(line):
            char = line[i]
            if char == "\\":
                nxt = line[i + 1]
                if nxt == "u":
                    target.append(chr(int(line[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                target.append(simple.get(nxt, nxt))
                i += 2
                continue
            if target is key and char in "=: ":
                target = value
            else:
                target.append(char)
            i += 1
        entries["".join(key)] = "".join(value).encode("utf-16", "surrogatepass").decode("utf-16")
    return entries


@pytest.mark.parametrize(
    "values",
    [
        {"fleet": "loopback-lab", "nodes": "3"},
        {"a key": " leading space", "k=v:#!": "x=y:z #1 !2"},
        {"path": "C:\\captures\\compute-7", "multi": "line one\nline two\r\tend"},
        {"nœud": "réseau ✓ 𝄞"},
    ],
    ids=["plain", "separators", "backslash-and-controls", "non-ascii"],
)
def test_environment_properties_round_trip(tmp_path: Path, values: dict[str, str]) -> None:
    path = write_environment(tmp_path / "new-dir", values)
    text = path.read_bytes().decode("ascii")
    assert len(text.splitlines()) == len(values), "one line per entry"
    assert read_properties(text) == values


def test_escape_property_matches_java_store() -> None:
    # Expected strings are what java.util.Properties.store writes for the same key/value.
    assert escape_property("a b=c", key=True) == "a\\ b\\=c"
    assert escape_property(" a b", key=False) == "\\ a b"
    assert escape_property("é\x7f", key=False) == "\\u00E9\\u007F"
    assert environment_text({"k": "𝄞"}) == "k=\\uD834\\uDD1E\n"


def test_empty_environment_key_is_refused() -> None:
    with pytest.raises(ValueError, match="may not be empty"):
        environment_text({"": "x"})


#: The board-level categories, in the order categories.json lists them (README "Change-board report").
CATEGORY_NAMES = (
    "Unreachable",
    "Unsupported / cannot judge",
    "Insufficient contiguous memory",
    "Hugepage misconfiguration",
    "Trial allocation refused",
    "Remediation not proven",
    "Hardware not certifiable",
    "Not applicable",
    "Hosts held back",
)


def typed(cause: type[BaseException], text: str) -> str:
    """An Allure message as allure-pytest writes it for an exception of type ``cause``."""
    return f"{type_name(cause)}: {text}"


UNREACHABLE, JUDGE, CONTIGUOUS, HUGEPAGES = CATEGORY_NAMES[:4]
TRIAL, REMEDIATION, HARDWARE, NOT_APPLICABLE, HELD_BACK = CATEGORY_NAMES[4:]
# message, status -> the one category it belongs to (None: Allure's own defaults). Every message carries
# another category's words: only the type at its start counts.
CLASSIFIED = [
    (typed(ContiguousShortfall, "hugepage-7: 3 free order-10 blocks; connection refused"), "failed", CONTIGUOUS),
    (typed(HugepageMisconfigured, "contiguous-3: 0 free 1G; not enough contiguous memory"), "failed", HUGEPAGES),
    (typed(HostUnreachable, "hugepage-7 (192.0.2.11:22): connection refused"), "broken", UNREACHABLE),
    (typed(HostError, "c1: cannot resolve 'contiguous.example'"), "broken", UNREACHABLE),
    (typed(CommandTimeout, "c1: timed out after 60 s reading hugepages"), "broken", UNREACHABLE),
    (typed(CannotJudge, "c0: /proc/buddyinfo is absent\n(contiguous check)"), "broken", JUDGE),
    (typed(FactsUnusable, "c0: facts unusable: hugepage pools absent"), "failed", JUDGE),
    (typed(FactParseError, "/proc/zoneinfo line 3: contiguous"), "broken", JUDGE),
    (typed(TrialRefused, "c0: 2M: 87 × 2M needed, 50 available: contiguous"), "failed", TRIAL),
    (typed(RemediationFailed, "c0: vRouter did not come back; hugepages given back"), "failed", REMEDIATION),
    (typed(OpenJournal, "reports/journal/c0.json: open run"), "broken", REMEDIATION),
    (typed(HardwareUnfit, "c0: the CPU lacks pdpe1gb: no 1G hugepages"), "failed", HARDWARE),
    (type_name(ContiguousShortfall), "failed", CONTIGUOUS),
    ("Skipped: vrouter module not loaded (hugepage)", "skipped", NOT_APPLICABLE),
    ("Host verdict FAIL: contiguous-3: 1 of 6 checks did not pass: hugepages_per_node", "failed", HELD_BACK),
    ("AssertionError: c1: connection refused; cannot judge; not enough contiguous memory", "failed", None),
    ("RuntimeError: c0: cannot judge: Unsupported hugepage size", "broken", None),
    (typed(ContiguousShortfall, "a failure type never ends as broken"), "broken", None),
    (typed(ContiguousShortfall, "x").replace("Shortfall", "ShortfallX"), "failed", None),
    ("x" + typed(ContiguousShortfall, "x"), "failed", None),
    ("KeyError: 'x'", "broken", None),
]


@pytest.mark.parametrize(("message", "status", "category"), CLASSIFIED)
def test_each_message_lands_in_at_most_one_category(message: str, status: str, category: str | None) -> None:
    expected = [category] if category else []
    result = {"status": status, "statusDetails": {"message": message}}
    assert categories_of(result, list(CATEGORIES)) == expected
    for entry in CATEGORIES:  # JavaScript (Allure 3) searches instead of matching the whole message
        regex = entry.get("messageRegex")
        if regex is not None and status in entry["matchedStatuses"]:
            assert bool(re.search(regex, message)) == (entry["name"] in expected), entry["name"]


def preflight_errors() -> set[type[BaseException]]:
    """Every PreflightError subclass the package defines (every module imported first)."""
    for module in pkgutil.walk_packages(vrouter_preflight.__path__, "vrouter_preflight."):
        importlib.import_module(module.name)
    found: set[type[BaseException]] = set()
    todo: list[type[BaseException]] = [PreflightError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("vrouter_preflight.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_typed_cause_is_in_exactly_one_category() -> None:
    listed = [cause for category in CAUSES for cause in category.causes]
    assert len(listed) == len(set(listed)), "a cause in two categories"
    # Every typed failure, every check's default one, and every error the engine reports (but the
    # inventory's, which stops the run before any check) has its category.
    assert set(FAILURES) <= set(listed)
    assert {check.failure for check in CheckId} <= set(listed)
    missing = {error for error in preflight_errors() if not issubclass(error, InventoryError)} - set(listed)
    assert not missing, f"errors a check can end with but no category names: {missing}"


def test_categories_json_is_what_allure_reads(tmp_path: Path) -> None:
    written = json.loads(write_categories(tmp_path).read_text())
    assert [c["name"] for c in written] == list(CATEGORY_NAMES)
    for category in written:
        assert set(category) <= {"name", "description", "matchedStatuses", "messageRegex", "traceRegex"}
        assert set(category["matchedStatuses"]) <= {"failed", "broken", "passed", "skipped", "unknown"}
        if "messageRegex" in category:
            re.compile(category["messageRegex"])
            assert "(?" + "i" not in category["messageRegex"], "no inline flags: JavaScript rejects them"


def test_load_results_fails_on_a_file_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "a-result.json").write_text('{"uuid": "a", "name": "t", "status": "passed"}')
    (tmp_path / "b-container.json").write_text('{"uuid": "b", "children": [')
    with pytest.raises(AssertionError, match=r"b-container\.json: not valid JSON"):
        load_results(tmp_path)
    (tmp_path / "b-container.json").write_text("[]")
    with pytest.raises(AssertionError, match="expected a JSON object, got list"):
        load_results(tmp_path)


def test_load_results_fails_on_an_empty_or_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"no \*-result\.json files"):
        load_results(tmp_path)
    with pytest.raises(AssertionError, match="no Allure results directory"):
        load_results(tmp_path / "missing")


def test_validate_results_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "there.txt").write_text("x")
    results = [
        {"uuid": "1", "name": "ok", "status": "passed", "parameters": [{"name": "host", "value": "'c0'"}]},
        {
            "uuid": "2",
            "name": "",
            "status": "error",
            "attachments": [{"name": "log", "source": "there.txt"}],
            "steps": [{"attachments": [{"name": "gone", "source": "missing.txt"}]}],
        },
        {"uuid": "3", "name": "f", "status": "failed", "parameters": [{"name": "host", "value": "c1"}]},
    ]
    (tmp_path / "c-container.json").write_text(json.dumps({"uuid": "c", "children": ["9"]}))
    with pytest.raises(AssertionError) as raised:
        validate_results(results, tmp_path)
    message = str(raised.value)
    assert "6 problem(s)" in message
    for expected in (
        "result 2 (): no name/title",
        "result 2 (): status 'error' is not one of",
        "result 2 (): no 'host' parameter",
        "attachment 'gone': missing.txt is not in",
        "result 3 (f): failed without a message",
        "container c (None): children not among the results: ['9']",
    ):
        assert expected in message


def test_the_readme_lists_each_category_with_its_causes() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| category | causes |\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip().strip("|").split(" | ") for line in table.splitlines()[1:]]
    documented = {name.strip(): causes.strip() for name, causes in rows}
    assert list(documented) == list(CATEGORY_NAMES)
    for category in CAUSES:
        assert documented[category.name] == ", ".join(f"`{c.__name__}`" for c in category.causes), category.name
