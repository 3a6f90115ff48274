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

The Allure message of a result is ``module.Type: text`` (for example
``vrouter_preflight.errors.HostUnreachable: compute-1 (192.0.2.11:22): connection
refused``, ``vrouter_preflight.check_ids.ContiguousShortfall: c0: …``). Each
board-level category is one row of :data:`CAUSES` and matches the TYPES of its
causes at the start of the message, never the words of the text: a host
named ``hugepage-7`` that cannot be reached is *Unreachable*.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _pytest.outcomes import Failed

from vrouter_preflight.capture import CaptureAnswerError
from vrouter_preflight.check_ids import (
    ContiguousShortfall,
    FactsUnusable,
    HardwareUnfit,
    HugepageMisconfigured,
    RemediationFailed,
    TrialRefused,
)
from vrouter_preflight.errors import CommandFailed, CommandTimeout, HostError, HostUnreachable, NotLiveError
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.remediation.deployments import OperationsMissing
from vrouter_preflight.remediation.forward import StepFailed
from vrouter_preflight.remediation.journal import JournalError, OpenJournal
from vrouter_preflight.reporting.board import HOST_VERDICT_PREFIX
from vrouter_preflight.rollout import RolloutError
from vrouter_preflight.rollout.coordinator import RolloutTimeout
from vrouter_preflight.transport.output_limits import OutputTooLarge
from vrouter_preflight.wiring.verdict import CannotJudge


@dataclass(frozen=True)
class CauseCategory:
    """A board-level category and the typed causes that put a result in it."""

    name: str
    description: str
    causes: tuple[type[BaseException], ...]

    @property
    def statuses(self) -> list[str]:
        """Allure's statuses of these causes: ``failed`` for a check's typed failure, ``broken`` for an error.

        >>> CAUSES[0].statuses, CAUSES[1].statuses
        (['broken'], ['failed', 'broken'])
        """
        failed = any(issubclass(cause, Failed) for cause in self.causes)
        broken = any(not issubclass(cause, Failed) for cause in self.causes)
        return [status for status, present in (("failed", failed), ("broken", broken)) if present]

    @property
    def message_regex(self) -> str:
        """The type names of the causes, at the start of the message; the text after them is not read.

        >>> print(CAUSES[2].message_regex)
        ^(?:vrouter_preflight\\.check_ids\\.ContiguousShortfall)(?::[\\s\\S]*)?$
        >>> [bool(re.fullmatch(CAUSES[2].message_regex, m)) for m in (
        ...     "vrouter_preflight.check_ids.ContiguousShortfall: c0: no hugepage backs the tables",
        ...     "vrouter_preflight.check_ids.HugepageMisconfigured: c0: not enough contiguous memory")]
        [True, False]
        """
        names = "|".join(re.escape(type_name(cause)) for cause in self.causes)
        return f"^(?:{names})(?::{_ANY})?$"


def type_name(cause: type[BaseException]) -> str:
    """The name of an exception type as Allure's message starts with it (``traceback.format_exception_only``).

    >>> type_name(HostUnreachable), type_name(KeyError)
    ('vrouter_preflight.errors.HostUnreachable', 'KeyError')
    """
    module = cause.__module__
    return cause.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cause.__qualname__}"


# Regexes that mean the same in Allure 2 (Java, String.matches: the whole message must match) and
# Allure 3 (JavaScript, a search): anchored with ^ $, no inline flags, "[\s\S]" for a DOTALL ".".
_ANY = r"[\s\S]*"

#: Every typed cause a check's result can end with, and its board-level category. Each cause is in
#: exactly one row; a result whose cause is not here (a bug: KeyError, a bare assert) gets Allure's
#: own "Product defects" / "Test defects".
CAUSES: tuple[CauseCategory, ...] = (
    CauseCategory(
        "Unreachable",
        "The host could not be reached, logged into or used (sudo, a command that hung); nothing on it was judged.",
        (HostUnreachable, HostError, CommandTimeout, OutputTooLarge, CaptureAnswerError),
    ),
    CauseCategory(
        "Unsupported / cannot judge",
        "A fact the check needs is absent, does not parse or the platform is unsupported: not a pass.",
        (FactsUnusable, CannotJudge, FactParseError, CommandFailed, NotLiveError),
    ),
    CauseCategory(
        "Insufficient contiguous memory",
        "Too few free physically contiguous blocks for vRouter's tables: the reload would fail.",
        (ContiguousShortfall,),
    ),
    CauseCategory(
        "Hugepage misconfiguration",
        "Hugepages reserved, free or mounted differently from what vRouter is configured to use.",
        (HugepageMisconfigured,),
    ),
    CauseCategory(
        "Trial allocation refused",
        "The kernel did not give the hugepages of vRouter's tables in a real allocation, or did not take them back.",
        (TrialRefused,),
    ),
    CauseCategory(
        "Remediation not proven",
        "The destructive stage could not plan, prove or undo a healthy reload: read the host's journal.",
        (RemediationFailed, StepFailed, OperationsMissing, JournalError, OpenJournal, RolloutError, RolloutTimeout),
    ),
    CauseCategory(
        "Hardware not certifiable",
        "The server lacks what kernel-mode vRouter with hugepages needs (1G pages in the CPU, a balanced NUMA layout).",
        (HardwareUnfit,),
    ),
)

CATEGORIES: tuple[dict[str, Any], ...] = (
    *(
        {
            "name": category.name,
            "description": category.description,
            "matchedStatuses": category.statuses,
            "messageRegex": category.message_regex,
        }
        for category in CAUSES
    ),
    {
        "name": "Not applicable",
        "description": "The check does not apply to this host.",
        "matchedStatuses": ["skipped"],
    },
    {
        # The per-host overview results that `make report` adds (reporting/board.py); no check's message starts so.
        "name": "Hosts held back",
        "description": "One entry per host that failed or could not be checked: its verdict and what to do.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": f"^{re.escape(HOST_VERDICT_PREFIX)}{_ANY}$",
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
