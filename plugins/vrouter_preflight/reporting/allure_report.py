"""Allure after a run: the two files written next to the results, and the board-level categories.

:func:`write_environment` and :func:`write_categories` add ``environment.properties`` and
``categories.json`` to the results directory (``--clean-alluredir`` wipes it
at the start, so they cannot be written earlier).

How allure-pytest 2.16.2 maps pytest outcomes (checked by a real run in
``tests/unit/test_allure_report.py``):

============================================  ===========  ================
where                                         pytest       Allure status
============================================  ===========  ================
``assert`` / ``pytest.fail`` in the check     failed       ``failed``
any other exception in the check              failed       ``broken``
an exception in a fixture (setup)             error        ``broken``
an ``assert`` in a fixture (setup)            error        ``failed``
``pytest.skip``                               skipped      ``skipped``
============================================  ===========  ================

The Allure message of a result is ``ExceptionType: text`` (for example
``vrouter_preflight.errors.HostUnreachable: compute-1 (192.0.2.11:22): connection
refused``); the categories below match on words inside that message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Words the engine's messages carry for each board-level class. Kept here so
# the checks' messages and the categories agree; see CATEGORIES.
UNREACHABLE_WORDS = (
    "connection refused",
    "timed out",
    "host key",
    "authentication",
    "unreachable",
    "Unreachable",
    "cannot resolve",
    "no SSH banner",
)
CANNOT_JUDGE_WORDS = ("cannot judge", "unsupported", "Unsupported", "absent", "facts unusable")


def _any_of(words: Sequence[str]) -> str:
    return "(?:" + "|".join(words) + ")"


# Regexes that mean the same in Allure 2 (Java, String.matches: the whole
# message must match) and Allure 3 (JavaScript, a search): anchored with ^ $
# so a lookahead is tried at the start only, no inline flags, "[\s\S]" for a
# DOTALL ".", case spelled out. Allure 2 puts a result in EVERY category that
# matches, so the classes exclude each other with lookaheads:
# unreachable > cannot judge > contiguous memory > hugepages.
_ANY = r"[\s\S]*"
_NOT_UNREACHABLE = f"(?!{_ANY}{_any_of(UNREACHABLE_WORDS)})"
_NOT_CANNOT_JUDGE = f"(?!{_ANY}{_any_of(CANNOT_JUDGE_WORDS)})"
_NOT_CONTIGUOUS = f"(?!{_ANY}[Cc]ontiguous)"
# The per-host overview results that `make report` adds (plugins/vrouter_preflight/reporting/board.py) start so;
# they go to "Hosts held back" only, never into a class a check's own failure is counted in.
HOST_VERDICT_PREFIX = "Host verdict "
_NOT_HOST_VERDICT = f"(?!{HOST_VERDICT_PREFIX})"

CATEGORIES: tuple[dict[str, Any], ...] = (
    {
        "name": "Unreachable",
        "description": "The host could not be reached or logged into; nothing on it was judged.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": f"^{_NOT_HOST_VERDICT}{_ANY}{_any_of(UNREACHABLE_WORDS)}{_ANY}$",
    },
    {
        "name": "Unsupported / cannot judge",
        "description": "A fact the check needs is absent or the platform is unsupported: not a pass.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": f"^{_NOT_HOST_VERDICT}{_NOT_UNREACHABLE}{_ANY}{_any_of(CANNOT_JUDGE_WORDS)}{_ANY}$",
    },
    {
        "name": "Insufficient contiguous memory",
        "description": "Too few free physically contiguous blocks for vRouter's tables: the reload would fail.",
        "matchedStatuses": ["failed"],
        "messageRegex": f"^{_NOT_HOST_VERDICT}{_NOT_UNREACHABLE}{_NOT_CANNOT_JUDGE}{_ANY}[Cc]ontiguous{_ANY}$",
    },
    {
        "name": "Hugepage misconfiguration",
        "description": "Hugepages reserved, free or mounted differently from what vRouter is configured to use.",
        "matchedStatuses": ["failed"],
        "messageRegex": (
            f"^{_NOT_HOST_VERDICT}{_NOT_UNREACHABLE}{_NOT_CANNOT_JUDGE}{_NOT_CONTIGUOUS}{_ANY}[Hh]ugepage{_ANY}$"
        ),
    },
    {
        "name": "Not applicable",
        "description": "The check does not apply to this host.",
        "matchedStatuses": ["skipped"],
    },
    {
        "name": "Hosts held back",
        "description": "One entry per host that failed or could not be checked: its verdict and what to do.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": f"^{HOST_VERDICT_PREFIX}{_ANY}$",
    },
)


def escape_property(text: str, *, key: bool) -> str:
    """Escape ``text`` for a Java ``.properties`` file, as ``Properties.store`` does.

    Backslash, ``=``, ``:``, ``#``, ``!`` and control characters are escaped;
    spaces everywhere in a key but only leading in a value; anything outside
    printable ASCII becomes ``\\uXXXX`` (UTF-16, so the file is pure ASCII and
    reads the same as ISO-8859-1 or UTF-8).

    >>> print(escape_property("kernel release", key=True), escape_property(" 6.1 = ok: #1", key=False))
    kernel\\ release \\ 6.1 \\= ok\\: \\#1
    >>> print(escape_property("C:\\\\tmp\\nnext", key=False), escape_property("nœud", key=False))
    C\\:\\\\tmp\\nnext n\\u0153ud
    """
    out: list[str] = []
    specials = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
    for index, char in enumerate(text):
        if char in specials:
            out.append(specials[char])
        elif char == " ":
            out.append("\\ " if key or index == 0 else " ")
        elif char in "=:#!":
            out.append("\\" + char)
        elif " " < char <= "~":
            out.append(char)
        else:
            data = char.encode("utf-16-be")
            out.extend(f"\\u{int.from_bytes(data[i : i + 2], 'big'):04X}" for i in range(0, len(data), 2))
    return "".join(out)


def environment_text(values: Mapping[str, str]) -> str:
    """The text of ``environment.properties``: one ``key=value`` a line, in the given order.

    >>> print(environment_text({"inventory": "inventory/example.yaml", "hosts": "2"}), end="")
    inventory=inventory/example.yaml
    hosts=2
    """
    lines = []
    for key, value in values.items():
        if not key:
            raise ValueError("an environment key may not be empty")
        lines.append(f"{escape_property(key, key=True)}={escape_property(str(value), key=False)}\n")
    return "".join(lines)


def write_environment(alluredir: str | os.PathLike[str], values: Mapping[str, str]) -> Path:
    """Write ``environment.properties`` (the report's Environment / Metadata table).

    Write it after pytest has run: ``--clean-alluredir`` empties the directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_environment(Path(d, "allure-results"), {"inventory": "inventory/prod.yaml", "hosts": "2"})
    ...     print(path.relative_to(d))
    ...     print(path.read_text(encoding="ascii"), end="")
    allure-results/environment.properties
    inventory=inventory/prod.yaml
    hosts=2
    """
    path = Path(alluredir) / "environment.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(environment_text(values), encoding="ascii")
    return path


def write_categories(alluredir: str | os.PathLike[str]) -> Path:
    """Write ``categories.json`` with the board-level classes of :data:`CATEGORIES`.

    Allure 2 reads it from the results directory. Allure 3's default report
    does not: pass the same list as ``categories`` in ``allurerc.mjs``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_categories(d)
    ...     path.name, json.loads(path.read_text(encoding="utf-8")) == list(CATEGORIES)
    ('categories.json', True)
    """
    path = Path(alluredir) / "categories.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(CATEGORIES), indent=2) + "\n", encoding="utf-8")
    return path
