"""Every wait of the destructive stage, bounded whatever the inventory says (pure).

The inventory validates its durations, but the stage does not rely on it: a
value that is huge, infinite, NaN or negative is clamped here, so that no
deadline is ever ``time.monotonic() + 1e308`` and no wait outlives its cap.

>>> bounded_seconds(1.0e308, RELOAD_WAIT_CAP), bounded_seconds(float("nan"), HEALTH_WAIT_CAP)
(3600.0, 3600.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

RELOAD_WAIT_CAP = 3600.0
"""The longest the stage waits for the reload command (``vrouter.reload_timeout`` above it is clamped)."""
HEALTH_WAIT_CAP = 3600.0
"""The longest the stage polls the health command (``vrouter.health_timeout``)."""
HEALTH_INTERVAL_CAP = 300.0
"""The longest pause between two health tries (``vrouter.health_interval``)."""
COMMAND_CAP = 600.0
"""The longest any other command of the forward path may take (the host's ``command_timeout`` above it is clamped)."""
RECONNECT_CAP = 600.0
"""The longest the rollback tries to reconnect to a host that dropped the connection."""
ROLLBACK_COMMAND_SECONDS = 120.0
"""Each command of a rollback (pool write, read-back, compaction, status) ends within this, whatever
the host's ``command_timeout``: the rollback depends on nothing the failed step used."""
RELOAD_GRACE_SECONDS = 10.0
"""After the reload's own deadline, how long the rollback still waits for its exit status."""
MIN_WAIT = 0.05
"""The shortest wait handed to a command or a sleep."""


def bounded_seconds(value: float, cap: float, floor: float = MIN_WAIT) -> float:
    """``value`` clamped to ``[floor, cap]``; NaN and infinity become ``cap``.

    >>> bounded_seconds(600, RELOAD_WAIT_CAP), bounded_seconds(-3, 10.0), bounded_seconds(float("inf"), 10.0)
    (600.0, 0.05, 10.0)
    """
    if not math.isfinite(value):
        return float(cap)
    return float(min(max(value, floor), cap))


class Deadline:
    """A point in time ``seconds`` (clamped to ``cap``) from now on ``clock``; never overflows.

    >>> ticks = iter([100.0, 103.0, 200.0])
    >>> deadline = Deadline(1.0e308, 60.0, clock=lambda: next(ticks))
    >>> deadline.remaining(), deadline.passed()
    (57.0, True)
    """

    def __init__(self, seconds: float, cap: float, *, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.seconds = bounded_seconds(seconds, cap, floor=0.0)
        self.at = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self.at - self.clock())

    def passed(self) -> bool:
        """True once the deadline is reached."""
        return self.clock() >= self.at

    def wait_for(self, cap: float) -> float:
        """A timeout for one command or one sleep: what is left, at least :data:`MIN_WAIT`, at most ``cap``.

        >>> Deadline(5, 60, clock=lambda: 0.0).wait_for(2.0)
        2.0
        """
        return bounded_seconds(self.remaining(), cap)
