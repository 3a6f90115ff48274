"""What the destructive stage reports: the step hook and its figures, each step as it ran, the outcome.

Shared by the forward path (:mod:`~vrouter_preflight.remediation.forward`)
and the rollback (:mod:`~vrouter_preflight.remediation.rollback`): each step
goes through ``step(title, before)``, a context manager factory yielding a
:class:`StepFigures` whose ``after`` the stage fills; the caller makes it an
Allure step with the figures attached.

>>> with plain_step("reload", {"rc": None}) as figures:
...     figures.after["rc"] = 0
>>> figures.after
{'rc': 0}
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from vrouter_preflight.remediation.journal import utc_now
from vrouter_preflight.remediation.signatures import Signature


class StepFigures:
    """Handed to the caller's step hook: the step's title, figures before, and ``after`` (filled by the stage).

    >>> figures = StepFigures("release", {"node 0 nr": 4})
    >>> figures.after["node 0 nr"] = 3
    >>> figures.title, dict(figures.after)
    ('release', {'node 0 nr': 3})
    """

    def __init__(self, title: str, before: Mapping[str, Any]) -> None:
        self.title = title
        self.before: dict[str, Any] = dict(before)
        self.after: dict[str, Any] = {}


StepHook = Callable[[str, Mapping[str, Any]], AbstractContextManager[StepFigures]]


@contextlib.contextmanager
def plain_step(title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
    """The default step hook: no reporting, just the figures.

    >>> with plain_step("reload", {"rc": None}) as figures:
    ...     figures.after["rc"] = 0
    """
    yield StepFigures(title, before)


@dataclass(frozen=True)
class StepRecord:
    """One step as it ran: when, how long, whether it succeeded, its figures.

    >>> StepRecord("reload vRouter", "2026-11-26T10:00:00.000000Z", 2.5, True, {}, {"rc": 0}).ok
    True
    """

    title: str
    started: str
    seconds: float
    ok: bool
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class RemediationOutcome:
    """How the stage ended on one host.

    ``released``/``restored``/``shortfall`` map NUMA node to 1G pages: given
    back to the buddy allocator, put back into the pool, and still missing
    after the rollback. ``changed`` is True whenever the journal records a
    change to a pool (even when the step that made it failed). ``back`` is
    True when the pools are as found (the journal is then closed).
    ``reload_ok``/``health_ok`` are ``None`` when the step did not run.

    >>> RemediationOutcome("c0", ok=True, changed=False, journal_path="j", journal_closed=True, message="m").back
    True
    """

    host: str
    ok: bool
    changed: bool
    journal_path: str
    journal_closed: bool
    message: str
    released: Mapping[int, int] = field(default_factory=dict)
    restored: Mapping[int, int] = field(default_factory=dict)
    shortfall: Mapping[int, int] = field(default_factory=dict)
    reload_ok: bool | None = None
    reload_rc: int | None = None
    health_ok: bool | None = None
    health_attempts: int = 0
    signatures: tuple[Signature, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    failure: str | None = None
    interrupted: str | None = None

    @property
    def back(self) -> bool:
        """The pools are as they were found (nothing missing, journal closed)."""
        return self.journal_closed and not any(self.shortfall.values())


class RemediationInterrupted(KeyboardInterrupt):
    """A signal (Ctrl-C, SIGTERM, SIGHUP) stopped the stage; the rollback ran first. ``outcome`` says how it ended.

    >>> error = RemediationInterrupted(RemediationOutcome("c0", False, True, "j", True, "c0: FAILED: SIGTERM"))
    >>> str(error), error.outcome.journal_closed
    ('c0: FAILED: SIGTERM', True)
    """

    def __init__(self, outcome: RemediationOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass
class Progress:
    """Mutable state of one run, shared by the forward path and the rollback (the outcome is built from it)."""

    released: dict[int, int] = field(default_factory=dict)
    restored: dict[int, int] = field(default_factory=dict)
    shortfall: dict[int, int] = field(default_factory=dict)
    reload_ok: bool | None = None
    reload_rc: int | None = None
    reload_started: bool = False
    reload_deadline: float | None = None
    reload_settled: bool = False
    health_ok: bool | None = None
    health_attempts: int = 0
    signatures: tuple[Signature, ...] = ()
    steps: list[StepRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    interrupted: str | None = None
    unreachable: str | None = None
    claim_sent: bool = False
    claimed: bool = False
    recorded: bool = False
    rolled_back: bool = False


class StepLog:
    """Runs each step through the caller's hook and keeps a :class:`StepRecord` of it in ``progress.steps``.

    :meth:`tolerant_step` is for the rollback: a hook that fails (a broken
    report, a bug) is noted in ``progress.warnings`` and the step goes on
    without it, so reporting can never keep the pools from coming back.

    >>> log = StepLog(plain_step, Progress(), clock=lambda: 0.0)
    >>> with log.step("release 1G pages", {"node 0 nr": 4}) as figures:
    ...     figures.after["node 0 nr"] = 3
    >>> [(s.title, s.ok, dict(s.after)) for s in log.progress.steps]
    [('release 1G pages', True, {'node 0 nr': 3})]
    """

    def __init__(self, hook: StepHook, progress: Progress, *, clock: Callable[[], float]) -> None:
        self.hook = hook
        self.progress = progress
        self.clock = clock

    @contextlib.contextmanager
    def step(self, title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
        """One step through the hook, recorded."""
        with self._recorded(title, before) as holder, self.hook(title, before) as figures:
            holder.append(figures)
            yield figures

    @contextlib.contextmanager
    def tolerant_step(self, title: str, before: Mapping[str, Any]) -> Iterator[StepFigures]:
        """One step, recorded; a failing hook is noted and left out (see the class doc).

        >>> def broken(title, before):
        ...     raise OverflowError("cannot convert float infinity to integer")
        >>> log = StepLog(broken, Progress(), clock=lambda: 0.0)
        >>> with log.tolerant_step("roll back the 1G pools", {}) as figures:
        ...     figures.after["node 0 nr"] = 4
        >>> log.progress.steps[0].ok, log.progress.warnings[0][:40]
        (True, "the report of step 'roll back the 1G poo")
        """
        with self._recorded(title, before) as holder:
            stack = contextlib.ExitStack()
            figures = StepFigures(title, before)
            try:
                figures = stack.enter_context(self.hook(title, before))
            except Exception as exc:
                self._hook_failed(title, exc)
            holder.append(figures)
            try:
                yield figures
            except BaseException:
                with contextlib.suppress(Exception):
                    stack.__exit__(*sys.exc_info())
                raise
            try:
                stack.close()
            except Exception as exc:
                self._hook_failed(title, exc)

    def _hook_failed(self, title: str, exc: Exception) -> None:
        self.progress.warnings.append(
            f"the report of step {title!r} failed ({type(exc).__name__}: {str(exc)[:200]}); the step went on without it"
        )

    @contextlib.contextmanager
    def _recorded(self, title: str, before: Mapping[str, Any]) -> Iterator[list[StepFigures]]:
        started_at, started = utc_now(), self.clock()
        holder: list[StepFigures] = []
        error: str | None = None
        try:
            yield holder
        except BaseException as exc:
            error = (str(exc) or type(exc).__name__)[:500]
            raise
        finally:
            figures = holder[0] if holder else StepFigures(title, before)
            self.progress.steps.append(
                StepRecord(
                    title,
                    started_at,
                    round(self.clock() - started, 3),
                    error is None,
                    MappingProxyType(dict(figures.before)),
                    MappingProxyType(dict(figures.after)),
                    error,
                )
            )
