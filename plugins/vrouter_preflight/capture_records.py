"""What reading one fact source gave: its text, or why there is none.

The statuses are distinct on every transport and say the same thing
everywhere:

- ``ok`` — read; the text may be empty (:meth:`Capture.describe` says "empty");
- ``absent`` — no such file (or a glob without a match), never zero or empty;
- ``unreadable`` — it exists but could not be read: ``permission-denied``, a
  read error, or a command that failed;
- ``not-regular`` — a directory, FIFO, device, socket or symlink loop: never
  opened, so it can neither block nor stream forever;
- ``too-large`` — more bytes than the per-file limit; the text is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CaptureStatus = Literal["ok", "absent", "unreadable", "not-regular", "too-large"]

_STATUS_WORDS = {
    "absent": "absent",
    "unreadable": "unreadable",
    "not-regular": "not a regular file",
    "too-large": "too large",
}


@dataclass(frozen=True)
class Capture:
    """What one source gave: its text, or why there is none.

    >>> Capture("/proc/pagetypeinfo", "unreadable", error="permission-denied").ok
    False
    """

    path: str
    status: CaptureStatus
    text: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the text was read."""
        return self.status == "ok"

    def describe(self) -> str:
        """What this capture is, in the words every message uses.

        >>> Capture("/proc/zoneinfo", "ok", "").describe()
        'empty'
        >>> Capture("/x", "not-regular", error="fifo").describe()
        'not a regular file (fifo)'
        >>> Capture("/x", "too-large", error="more than 4194304 bytes").describe()
        'too large (more than 4194304 bytes)'
        """
        if self.ok:
            return f"{len(self.text)} characters" if self.text else "empty"
        return status_words(self.status, self.error)


def status_words(status: str, error: str = "") -> str:
    """A status that is not ``ok``, with its reason, in the words every message uses.

    >>> status_words("not-regular", "fifo"), status_words("absent")
    ('not a regular file (fifo)', 'absent')
    """
    words = _STATUS_WORDS.get(status, status)
    return f"{words} ({error})" if error else words
