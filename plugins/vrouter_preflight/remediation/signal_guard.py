"""Ctrl-C, SIGTERM and SIGHUP during the destructive stage: stop the forward path once, never the rollback.

While a :class:`SignalGuard` is entered (main thread only), SIGINT, SIGTERM
and SIGHUP are handled by it. During :meth:`SignalGuard.run` the FIRST one
raises :class:`Interrupted` where the forward path is; the handler disarms
itself before raising, so a second signal can never interrupt what follows
(the rollback): from then on, and whenever the forward path is not running,
signals are only noted. ``first`` names the first signal received, so the
stage can stop the session after its rollback.

>>> import os, signal
>>> with SignalGuard() as guard:
...     stop = guard.run(lambda: os.kill(os.getpid(), signal.SIGHUP))
...     os.kill(os.getpid(), signal.SIGTERM)       # during the "rollback": noted only
>>> type(stop).__name__, guard.first, guard.noted
('Interrupted', 'SIGHUP', ['SIGTERM'])
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

GUARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """Raised in the main thread by the guard: a signal stopped the forward path.

    >>> Interrupted("SIGTERM").signal_name
    'SIGTERM'
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name


class SignalGuard:
    """Holds SIGINT/SIGTERM/SIGHUP while the stage runs; see the module doc."""

    def __init__(self) -> None:
        self.active = threading.current_thread() is threading.main_thread()
        self.armed = False
        self.first: str | None = None
        self.noted: list[str] = []
        self._saved: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.first = self.first or name
        if self.armed:
            self.armed = False
            raise Interrupted(name)
        self.noted.append(name)

    def __enter__(self) -> SignalGuard:
        if self.active:
            for sig in GUARDED_SIGNALS:
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._saved.clear()

    def run(self, forward: Callable[[], None]) -> BaseException | None:
        """Run ``forward`` with the first signal raising in it; return what stopped it (None: it finished).

        Whatever ``forward`` raises -- a signal, a transport error, a bug,
        ``SystemExit`` -- is returned, not raised, and when this returns the
        guard only notes signals: the caller's rollback cannot be interrupted.

        >>> SignalGuard().run(lambda: None) is None, type(SignalGuard().run(lambda: 1 / 0)).__name__
        (True, 'ZeroDivisionError')
        """
        try:
            try:
                self.armed = self.active
                if self.first is not None:  # a signal came before the forward path started: obey it now
                    self.armed = False
                    self.noted.clear()
                    raise Interrupted(self.first)
                forward()
            finally:
                self.armed = False
        except BaseException as exc:
            return exc
        return None
