"""The example pipelines in ``docs/ci/`` (GitLab CI, Jenkins, GitHub Actions) parse, and every suite command in
them uses only options the suite and pytest really declare, with values their parsers accept.

Each pipeline's shell steps are read (the YAML ones with PyYAML, the Jenkinsfile's ``sh`` steps with a regular
expression) and split into commands with :mod:`shlex`. A command of the suite is ``vrouter-preflight`` (or
``pytest``), ``vrouter-preflight merge`` or ``python -m vrouter_preflight.reporting.build_report``. A run of
the checks is parsed by a pytest parser holding the options of every plugin of this pytest (pytest's own,
xdist's, allure-pytest's and the suite's, :func:`vrouter_preflight.wiring.options.add_options`): an option
none declares, or a value the suite's checks refuse, fails. ``merge`` and ``build_report`` are compared with
the options their ``--help`` lists. A variable the pipeline sets (GitLab ``variables:``, GitHub ``env:``,
Jenkins ``environment {}``) takes its value there; any other (``$CI_NODE_INDEX``, ``${{ matrix.shard }}``)
stands for ``1``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from vrouter_preflight.wiring.options import add_options

ROOT = Path(__file__).resolve().parents[2]
CI_DOCS = ROOT / "docs" / "ci"
COMMAND = Path(sys.executable).with_name("vrouter-preflight")
REPORT_MODULE = "vrouter_preflight.reporting.build_report"
#: A Jenkinsfile's ``sh`` step: ``sh '…'``, ``sh "…"``, ``sh '''…'''``, ``sh """…"""``, ``sh(script: '…', …)``.
JENKINS_SH = re.compile(
    r"""\bsh\s*\(?\s*(?:script\s*:\s*)?(?:'''(?P<q3>.*?)'''|\"\"\"(?P<d3>.*?)\"\"\"|'(?P<q>[^'\n]*)'|"(?P<d>[^"\n]*)")""",
    re.DOTALL,
)
#: A Jenkinsfile's ``environment {}`` block, up to the line that closes it.
JENKINS_ENVIRONMENT = re.compile(r"^\s*environment\s*\{(.*?)^\s*\}\s*$", re.MULTILINE | re.DOTALL)
#: A Jenkinsfile's ``environment {}`` entry: ``NAME = 'value'``.
JENKINS_VARIABLE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'([^'\n]*)'", re.MULTILINE)
#: What a shell or CI expands: ``${{ … }}`` (GitHub), ``${VAR}``, ``$VAR``.
VARIABLE = re.compile(r"\$\{\{[^}]*\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


@dataclass(frozen=True)
class Example:
    """One example pipeline: its file, the shell text of each of its steps and the variables it sets."""

    path: Path
    steps: tuple[str, ...]
    variables: dict[str, str]

    def commands(self) -> Iterator[list[str]]:
        """Every simple command of every step, its variables expanded."""
        for step in self.steps:
            yield from commands(expand(step, self.variables))


def expand(text: str, variables: dict[str, str]) -> str:
    """``text`` with each variable replaced by its value in ``variables`` (expanded in turn), else by ``1``.

    >>> expand('--shard "${{ matrix.shard }}/3" --change-ticket "$TICKET"', {"TICKET": "${{ inputs.ticket }}"})
    '--shard "1/3" --change-ticket "1"'
    """
    for _ in range(3):  # a variable set from another one
        text = VARIABLE.sub(lambda match: variables.get(match.group(0).strip("${}"), "1"), text)
    return text


def _yaml_steps(node: Any, keys: frozenset[str]) -> Iterator[str]:
    """Every string under one of ``keys`` anywhere in a parsed YAML document (a step's list flattened)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys:
                yield from _strings(value)
            else:
                yield from _yaml_steps(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _yaml_steps(item, keys)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def gitlab() -> Example:
    path = CI_DOCS / "gitlab-ci.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = tuple(_yaml_steps(document, frozenset({"before_script", "script", "after_script"})))
    return Example(path, steps, {str(k): str(v) for k, v in document.get("variables", {}).items()})


def github() -> Example:
    path = CI_DOCS / "github-actions.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = tuple(_yaml_steps(document["jobs"], frozenset({"run"})))
    return Example(path, steps, {str(k): str(v) for k, v in document.get("env", {}).items()})


def jenkins() -> Example:
    path = CI_DOCS / "Jenkinsfile"
    text = path.read_text(encoding="utf-8")
    steps = [next(group for group in match.groups() if group is not None) for match in JENKINS_SH.finditer(text)]
    environment = JENKINS_ENVIRONMENT.search(text)
    assert environment, f"{path}: no environment block"
    return Example(path, tuple(steps), dict(JENKINS_VARIABLE.findall(environment.group(1))))


EXAMPLES = {"gitlab": gitlab, "jenkins": jenkins, "github": github}


def commands(step: str) -> Iterator[list[str]]:
    """The simple commands of a shell step, each as its words (a line ending in ``\\`` goes on).

    >>> list(commands('pip install "$PKG" && vrouter-preflight --shard 1/3 \\\\\\n  -n 4 || [ $? -eq 1 ]'))
    [['pip', 'install', '$PKG'], ['vrouter-preflight', '--shard', '1/3', '-n', '4'], ['[', '$?', '-eq', '1', ']']]
    """
    for line in step.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token in SHELL_OPERATORS:
                if words:
                    yield words
                words = []
            else:
                words.append(token)
        if words:
            yield words


def suite_command(words: list[str]) -> str | None:
    """Which suite command ``words`` run: ``run`` (the checks), ``merge``, ``report``; None for another one.

    >>> suite_command([".venv/bin/vrouter-preflight", "merge", "a.json"]), suite_command(["pytest", "--inventory", "x"])
    ('merge', 'run')
    >>> suite_command(["python3", "-m", "vrouter_preflight.reporting.build_report"]), suite_command(["pip", "install"])
    ('report', None)
    """
    program = Path(words[0]).name
    if program == "vrouter-preflight":
        return "merge" if words[1:2] == ["merge"] else "run"
    if program == "pytest":
        return "run"
    if re.fullmatch(r"python[0-9.]*", program) and words[1:3] == ["-m", REPORT_MODULE]:
        return "report"
    return None


def arguments(kind: str, words: list[str]) -> list[str]:
    """The arguments of a suite command, after its program (and ``merge`` / ``-m module``)."""
    return words[{"run": 1, "merge": 2, "report": 3}[kind] :]


def suite_commands(example: Example) -> list[tuple[str, list[str]]]:
    return [(kind, words) for words in example.commands() if (kind := suite_command(words))]


def help_options(argv: list[str]) -> set[str]:
    """Every option name the ``--help`` of ``argv`` lists."""
    shown = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, check=True).stdout
    return {name for line in shown.splitlines() if line.lstrip().startswith("-") for name in OPTION.findall(line)}


@pytest.fixture(scope="module")
def declared() -> dict[str, set[str]]:
    """The options ``merge`` and ``build_report`` declare, as their ``--help`` lists them (argparse lists all)."""
    assert COMMAND.exists(), f"{COMMAND}: the console script is missing (make .venv/.dev installs the suite)"
    return {
        "merge": help_options([str(COMMAND), "merge"]),
        "report": help_options([sys.executable, "-m", REPORT_MODULE]),
    }


@pytest.fixture
def pytest_parser(pytestconfig: pytest.Config) -> pytest.Parser:
    """A parser with the options of every plugin of this pytest: its own, xdist's, allure-pytest's, the suite's."""
    parser = pytest.Parser(_ispytest=True)
    given = {"parser": parser, "pluginmanager": pytestconfig.pluginmanager}
    for implementation in pytestconfig.pluginmanager.hook.pytest_addoption.get_hookimpls():
        implementation.function(**{name: given[name] for name in implementation.argnames})
    return parser


def suite_parser() -> pytest.Parser:
    """A parser with the suite's options only (the options module)."""
    parser = pytest.Parser(_ispytest=True)
    add_options(parser)
    return parser


def option_names(args: list[str]) -> list[str]:
    """The option names among ``args`` (``--name=value`` as ``--name``).

    >>> option_names(["--shard", "1/3", "--summary-json=out/s.json", "-n", "4", "out/*/summary.json"])
    ['--shard', '--summary-json', '-n']
    """
    return [arg.split("=", 1)[0] for arg in args if arg.startswith("-") and arg != "-"]


@pytest.mark.parametrize("ci", list(EXAMPLES))
def test_every_suite_command_uses_only_declared_options(
    ci: str, declared: dict[str, set[str]], pytest_parser: pytest.Parser
) -> None:
    example = EXAMPLES[ci]()
    found = suite_commands(example)
    assert {kind for kind, _ in found} == {"run", "merge", "report"}, f"{example.path}: {found}"
    for kind, words in found:
        shown = f"{example.path}: {shlex.join(words)}"
        if kind == "run":
            given, unknown = pytest_parser.parse_known_and_unknown_args(arguments(kind, words))
            assert not unknown and not given.file_or_dir, f"{shown}: not declared: {unknown or given.file_or_dir}"
        else:
            unknown = [name for name in option_names(arguments(kind, words)) if name not in declared[kind]]
            assert not unknown, f"{shown}: options not declared: {unknown}"


@pytest.mark.parametrize("ci", list(EXAMPLES))
def test_every_run_passes_the_suites_own_parser_with_a_ticket_and_a_shard(ci: str) -> None:
    example = EXAMPLES[ci]()
    runs = [arguments(kind, words) for kind, words in suite_commands(example) if kind == "run"]
    assert runs, f"{example.path}: no run of the checks"
    for args in runs:
        given, _ = suite_parser().parse_known_and_unknown_args(args)  # a value the options module refuses: exit
        shown = f"{example.path}: {shlex.join(args)}"
        assert "--change-ticket" in args and given.change_ticket is not None, shown  # "" when the pipeline has none
        assert given.change_ticket_url == "https://jira.example.com/browse/{}", shown
        assert given.shard and given.inventory, f"{example.path}: {shlex.join(args)}"


@pytest.mark.parametrize("ci", list(EXAMPLES))
def test_the_suite_is_installed_with_pip_before_it_runs(ci: str) -> None:
    example = EXAMPLES[ci]()
    installs = [words for words in example.commands() if words[1:2] == ["install"]]
    assert any(Path(words[0]).name == "pip" for words in installs), f"{example.path}: no pip install"


def test_shards_come_from_the_ci_s_own_parallelism() -> None:
    document = yaml.safe_load((CI_DOCS / "gitlab-ci.yml").read_text(encoding="utf-8"))
    assert document["preflight"]["parallel"] == 3
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in " ".join(document["preflight"]["script"])
    workflow = yaml.safe_load((CI_DOCS / "github-actions.yml").read_text(encoding="utf-8"))
    assert workflow["jobs"]["preflight"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    assert "values '1', '2', '3'" in (CI_DOCS / "Jenkinsfile").read_text(encoding="utf-8")


def test_the_checks_can_fail(declared: dict[str, set[str]], pytest_parser: pytest.Parser) -> None:
    """A misspelt option, an option of the wrong command and a value the options module refuses are caught."""
    (words,) = commands("vrouter-preflight --inventory x --change-tiket 1 --junitxml j.xml -n 4 --alluredir a")
    given, unknown = pytest_parser.parse_known_and_unknown_args(arguments("run", words))
    assert unknown == ["--change-tiket"] and given.file_or_dir == ["1"] and given.numprocesses == 4
    (words,) = commands("vrouter-preflight merge --summary-json s.json --change-ticket 1 a.json")
    assert [name for name in option_names(arguments("merge", words)) if name not in declared["merge"]] == [
        "--change-ticket"
    ]
    with pytest.raises(pytest.UsageError, match="--change-ticket-url"):
        suite_parser().parse_known_and_unknown_args(["--change-ticket-url", "https://jira.example.com/browse/"])
