"""Read and check an Allure results directory written by allure-pytest.

``load_results`` parses every ``*-result.json``, ``*-container.json`` and
``*-globals.json`` and fails naming the file when one does not parse;
``validate_results`` checks what a report needs from every result and
reports every problem at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

STATUSES = ("passed", "failed", "broken", "skipped", "unknown")


def _load(path: Path) -> dict[str, Any]:
    __tracebackhide__ = True
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AssertionError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise AssertionError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _load_all(alluredir: str | os.PathLike[str], suffix: str) -> list[dict[str, Any]]:
    __tracebackhide__ = True
    return [_load(path) for path in sorted(Path(alluredir).glob(f"*-{suffix}.json"))]


def load_results(alluredir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The test results in ``alluredir``, after checking that every Allure file there parses.

    Fails when the directory is missing or holds no result at all (Allure was
    not recording), or when any result, container or globals file is not a
    JSON object.
    """
    __tracebackhide__ = True
    directory = Path(alluredir)
    if not directory.is_dir():
        raise AssertionError(f"{directory}: no Allure results directory")
    load_containers(directory)
    _load_all(directory, "globals")
    results = _load_all(directory, "result")
    if not results:
        raise AssertionError(f"{directory}: no *-result.json files (was pytest run with --alluredir?)")
    return results


def load_containers(alluredir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The fixture containers (``*-container.json``) in ``alluredir``."""
    __tracebackhide__ = True
    return _load_all(alluredir, "container")


def parameters(result: dict[str, Any]) -> dict[str, str]:
    """A result's parameters as ``{name: value}``, quotes from ``repr()`` of a string removed.

    >>> parameters({"parameters": [{"name": "host", "value": "'c0'"}, {"name": "node", "value": "1"}]})
    {'host': 'c0', 'node': '1'}
    """
    shown = {str(p.get("name")): str(p.get("value")) for p in result.get("parameters") or []}
    return {
        name: value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value
        for name, value in shown.items()
    }


def labels(result: dict[str, Any], name: str) -> list[str]:
    """The values of every label ``name`` of a result.

    >>> labels({"labels": [{"name": "story", "value": "x"}, {"name": "feature", "value": "y"}]}, "story")
    ['x']
    """
    return [str(label.get("value")) for label in result.get("labels") or [] if label.get("name") == name]


def _with_steps(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield item
    for step in item.get("steps") or []:
        yield from _with_steps(step)


def attachments(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Every attachment of a result (or fixture), its steps' included, in order.

    >>> attachments({"attachments": [{"source": "a"}], "steps": [{"attachments": [{"source": "b"}]}]})
    [{'source': 'a'}, {'source': 'b'}]
    """
    return [attachment for part in _with_steps(item) for attachment in part.get("attachments") or []]


def _attachment_problems(where: str, item: dict[str, Any], directory: Path) -> list[str]:
    problems = []
    for attachment in attachments(item):
        source = attachment.get("source")
        if not source or not attachment.get("name"):
            problems.append(f"{where}: attachment without a name or source: {attachment}")
        elif not (directory / str(source)).is_file():
            problems.append(f"{where}: attachment {attachment.get('name')!r}: {source} is not in {directory}")
    return problems


def validate_results(results: Sequence[dict[str, Any]], alluredir: str | os.PathLike[str]) -> None:
    """Fail, listing every problem, unless each result has what the board's report needs.

    Each result needs a uuid, a name (the title), a known status, a non-empty
    ``host`` parameter, a message when it did not pass, and every attachment
    file (its own, its steps', its fixtures') present in ``alluredir``.
    """
    __tracebackhide__ = True
    directory = Path(alluredir)
    problems: list[str] = []
    for result in results:
        where = f"result {result.get('uuid')} ({result.get('fullName') or result.get('name')})"
        if not result.get("uuid"):
            problems.append(f"{where}: no uuid")
        if not result.get("name"):
            problems.append(f"{where}: no name/title")
        status = result.get("status")
        if status not in STATUSES:
            problems.append(f"{where}: status {status!r} is not one of {STATUSES}")
        elif status != "passed" and not (result.get("statusDetails") or {}).get("message"):
            problems.append(f"{where}: {status} without a message")
        if not parameters(result).get("host"):
            problems.append(f"{where}: no 'host' parameter")
        problems += _attachment_problems(where, result, directory)
    uuids = {result.get("uuid") for result in _load_all(directory, "result")}
    for container in load_containers(directory):
        where = f"container {container.get('uuid')} ({container.get('name')})"
        for fixture in [*(container.get("befores") or []), *(container.get("afters") or [])]:
            problems += _attachment_problems(f"{where} fixture {fixture.get('name')}", fixture, directory)
        unknown = [child for child in container.get("children") or [] if child not in uuids]
        if unknown:
            problems.append(f"{where}: children not among the results: {unknown}")
    if problems:
        raise AssertionError(f"{directory}: {len(problems)} problem(s) in the Allure results:\n" + "\n".join(problems))
