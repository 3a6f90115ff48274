"""How a check states its result: one message for the operator, recorded for every report.

A check ends with :meth:`Verdict.conclude`: the message (what is wrong, where,
by how much, what to do — or what was found) becomes the Allure title, the
JSON summary's ``message`` and, on failure, the one-line pytest failure with
no traceback, raised as the check's typed failure
(:attr:`vrouter_preflight.check_ids.CheckId.failure`). A check that does not
apply calls :meth:`Verdict.not_applicable` (SKIPPED with the reason). A check
that cannot judge raises :class:`CannotJudge` from one of its input fixtures,
so pytest reports an ERROR with the reason — never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from vrouter_preflight.check_ids import CheckFailed
from vrouter_preflight.errors import PreflightError
from vrouter_preflight.wiring.allure_attach import attach_json, attach_png, attach_table, attach_text, retitle
from vrouter_preflight.wiring.items import check_of


class CannotJudge(PreflightError):
    """A check lacks what it needs (a file absent, an unsupported kernel).

    >>> str(CannotJudge("compute-0", "/proc/buddyinfo is absent"))
    'compute-0: cannot judge: /proc/buddyinfo is absent'
    """

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"{host}: cannot judge: {reason}")


class Verdict:
    """The result-recording handle a check receives as its ``verdict`` fixture.

    ``host`` and ``node`` identify what was judged; both go to every report.
    ``check`` is the check's member of the registry, named by its function's ``@check``.
    """

    def __init__(self, item: pytest.Item, host: str, node: int | None = None) -> None:
        self.item = item
        self.host = host
        self.node = node
        self.check = check_of(item)

    def _title(self, message: str) -> str:
        return f"{self.host}: {message}"

    def attach_text(self, name: str, text: str) -> None:
        """Attach a raw file or a note to the report."""
        attach_text(name, text)

    def attach_json(self, name: str, data: Any) -> None:
        """Attach structured figures to the report."""
        attach_json(name, data)

    def attach_table(self, name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Attach a small table (facts, per-order counts) to the report."""
        attach_table(name, header, rows)

    def attach_png(self, name: str, data: bytes) -> None:
        """Attach a picture (a chart) to the report."""
        attach_png(name, data)

    def concluded(self) -> None:
        """Tell the layers above that this check concluded (they attach its pictures); :meth:`conclude` calls it."""
        config = getattr(self.item, "config", None)
        if config is None:  # an item stand-in outside a pytest run
            return
        details = dict(self.item.user_properties).get("details")
        config.hook.pytest_vrouter_preflight_check_concluded(
            item=self.item, check_id=self.check.id, details=details if isinstance(details, dict) else None
        )

    def conclude(self, ok: bool, message: str, *, cause: type[CheckFailed] | None = None) -> None:
        """Record the result; a failure ends the check with ``message`` alone.

        The failure is raised as ``cause``, by default the check's own typed
        failure (:attr:`~vrouter_preflight.check_ids.CheckId.failure`).

        >>> from types import SimpleNamespace
        >>> from vrouter_preflight.check_ids import CheckId, FactsUnusable
        >>> from vrouter_preflight.wiring.items import check
        >>> item = SimpleNamespace(function=check(CheckId.CONTIGUOUS_BLOCKS)(lambda: None), user_properties=[])
        >>> Verdict(item, "c0").conclude(False, "3 free order-10 blocks, 44 needed")
        Traceback (most recent call last):
        ...
        vrouter_preflight.check_ids.ContiguousShortfall: c0: 3 free order-10 blocks, 44 needed
        >>> Verdict(item, "c0").conclude(False, "/proc/buddyinfo does not parse", cause=FactsUnusable)
        Traceback (most recent call last):
        ...
        vrouter_preflight.check_ids.FactsUnusable: c0: /proc/buddyinfo does not parse
        """
        __tracebackhide__ = True
        text = self._title(message)
        self.item.user_properties.append(("message", text))
        retitle(text)
        self.concluded()
        if not ok:
            raise (cause or self.check.failure)(text, pytrace=False)

    def not_applicable(self, reason: str) -> None:
        """Skip the check with ``reason`` (it does not apply to this host); the skip is reported at the check's
        own location, wherever the reason was found (its body, an input, or before its inputs were set up)."""
        __tracebackhide__ = True
        text = self._title(reason)
        self.item.user_properties.append(("message", text))
        retitle(text, severity="minor")
        raise pytest.skip.Exception(text, _use_item_location=True)
