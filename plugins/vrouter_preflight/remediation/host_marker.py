"""The marker a run leaves on the host while its journal is open: the guard that holds per host (pure).

A journal lives on the controller, under whatever ``--journal-dir`` the run
was given; a second controller, or a second directory, cannot see it. So the
run also claims the host itself: before its first change it writes
``/run/vrouter-preflight/open-journal`` (a temporary file hard-linked into
place: the link either appears whole or fails because another run holds the
host), holding the host's name, the run, the journal's path and the
controller. The marker is removed once the pools read back as found, just
before the journal closes; a new run on a host with a marker is refused with
one message naming that journal. ``/run`` is a tmpfs on systemd hosts, so a
reboot clears the marker together with the runtime pool change it guards.

>>> marker = HostMarker("c0", "ab12", "/srv/j/c0.json", "ctl-1", "2026-11-26T10:00:00Z")
>>> parse_marker(marker.text()) == marker
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vrouter_preflight.shell import quote

MARKER_DIR = "/run/vrouter-preflight"
MARKER_PATH = f"{MARKER_DIR}/open-journal"
MARKER_READ_BYTES = 4096
"""At most this much of a marker is read back (a marker is a few hundred bytes)."""
MAX_VALUE_CHARS = 1024
_FIELDS = ("host", "run", "journal", "controller", "since")
_REPLY = re.compile(r"^vrpf-marker=(\w+)\s*$", re.MULTILINE)

MarkerStatus = Literal["claimed", "held", "removed", "other", "absent", "failed"]


@dataclass(frozen=True)
class HostMarker:
    """Who holds the host: the inventory name, the run, its journal's path and the controller it lives on."""

    host: str
    run: str
    journal: str
    controller: str
    since: str

    def text(self) -> str:
        """The marker's lines, ``key=value``; control characters become ``?``.

        >>> print(HostMarker("c0", "r1", "/j/c0.json", "ctl", "t").text())
        host=c0
        run=r1
        journal=/j/c0.json
        controller=ctl
        since=t
        """
        return "\n".join(f"{key}={_clean(getattr(self, key))}" for key in _FIELDS)

    def describe(self) -> str:
        """The open journal holding the host, for the operator.

        >>> HostMarker("c0", "r1", "/j/c0.json", "ctl", "t").describe()
        'the open journal /j/c0.json on controller ctl (host c0, run r1, since t)'
        """
        return (
            f"the open journal {self.journal} on controller {self.controller} "
            f"(host {self.host}, run {self.run}, since {self.since})"
        )


def _clean(value: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "?", value)[:MAX_VALUE_CHARS]


def parse_marker(text: str) -> HostMarker | None:
    """A marker read back; None when it names no run (empty, unreadable, not ours).

    >>> parse_marker("host=c0\\nrun=r1\\n").journal
    '?'
    >>> parse_marker("garbage") is None
    True
    >>> len(parse_marker("run=" + "x" * 4000 + "\\x1b[2J").run)
    1024
    """
    values: dict[str, str] = {}
    for line in text[:MARKER_READ_BYTES].splitlines():
        key, sep, value = line.partition("=")
        if sep and key in _FIELDS and key not in values:
            values[key] = _clean(value.strip())
    if not values.get("run"):
        return None
    return HostMarker(*(values.get(key) or "?" for key in _FIELDS))


def claim_command(marker: HostMarker, directory: str = MARKER_DIR) -> str:
    """Write ``marker`` atomically unless the host already holds one; print the outcome and the holder.

    Prints ``vrpf-marker=claimed``, or ``vrpf-marker=held`` and the holder's
    marker, or ``vrpf-marker=failed`` (the directory cannot be written).
    Running it twice for the same run (the SSH transport re-runs a command
    after a dropped connection) prints ``held`` with this run as holder.
    ``directory`` is :data:`MARKER_DIR` on every host (tests point it elsewhere).

    >>> script = claim_command(HostMarker("c0", "r1", "/j/c0.json", "ctl", "t"))
    >>> "ln /run/vrouter-preflight/.open-journal.r1 /run/vrouter-preflight/open-journal" in script
    True
    """
    temporary = f"{directory}/.open-journal.{_clean(marker.run)}"
    lines = " ".join(quote(line) for line in marker.text().splitlines())
    t, m = quote(temporary), quote(f"{directory}/open-journal")
    return (
        f"if mkdir -p {quote(directory)} && printf '%s\\n' {lines} > {t}; then "
        f"if ln {t} {m} 2>/dev/null; then rm -f {t}; echo vrpf-marker=claimed; "
        f"else rm -f {t}; echo vrpf-marker=held; head -c {MARKER_READ_BYTES} {m}; fi; "
        "else echo vrpf-marker=failed; fi"
    )


def release_command(run: str, directory: str = MARKER_DIR) -> str:
    """Remove the marker if ``run`` holds it; otherwise print who does (or that there is none).

    Prints ``vrpf-marker=removed``, ``absent``, ``other`` and the holder's
    marker, or ``failed``.

    >>> "grep -qxF run=r1 /run/vrouter-preflight/open-journal" in release_command("r1")
    True
    """
    m = quote(f"{directory}/open-journal")
    return (
        f"if [ ! -e {m} ]; then echo vrpf-marker=absent; "
        f"elif grep -qxF {quote('run=' + _clean(run))} {m}; then "
        f"rm -f {m} && echo vrpf-marker=removed || echo vrpf-marker=failed; "
        f"else echo vrpf-marker=other; head -c {MARKER_READ_BYTES} {m}; fi"
    )


@dataclass(frozen=True)
class MarkerReply:
    """What a claim or a release printed: the status and, when another run holds the host, its marker."""

    status: MarkerStatus
    holder: HostMarker | None


def parse_marker_reply(stdout: str) -> MarkerReply:
    """Parse :func:`claim_command` or :func:`release_command` output; anything else is ``failed``.

    >>> parse_marker_reply("vrpf-marker=held\\nhost=c0\\nrun=r9\\njournal=/j\\ncontroller=x\\nsince=t\\n").holder.run
    'r9'
    >>> parse_marker_reply("sh: 1: cannot create /run/x: Read-only file system").status
    'failed'
    """
    match = _REPLY.search(stdout)
    status = match.group(1) if match else "failed"
    if status not in ("claimed", "held", "removed", "other", "absent"):
        status = "failed"
    holder = parse_marker(stdout[match.end() :]) if match and status in ("held", "other") else None
    return MarkerReply(status, holder)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ClaimDecision:
    """Whether this run may change the host, and if not, the one message that says why."""

    claimed: bool
    refusal: str | None = None


def decide_claim(reply: MarkerReply, run: str, stderr: str = "") -> ClaimDecision:
    """The run holds the host when its claim succeeded or the marker already names it (a re-run claim).

    >>> held = MarkerReply("held", HostMarker("c0", "r0", "/a/j/c0.json", "ctl-1", "t"))
    >>> decide_claim(held, "r1").refusal  # doctest: +ELLIPSIS
    'the host is held by the open journal /a/j/c0.json on controller ctl-1 ...: replay it there with ...'
    >>> decide_claim(MarkerReply("held", HostMarker("c0", "r1", "/b/c0.json", "ctl-2", "t")), "r1").claimed
    True
    """
    if reply.status == "claimed" or (reply.status == "held" and reply.holder is not None and reply.holder.run == run):
        return ClaimDecision(True)
    if reply.status == "held" and reply.holder is not None:
        return ClaimDecision(
            False,
            f"the host is held by {reply.holder.describe()}, a run that has not put the hugepage pools back: "
            f"replay it there with --rollback-journal {reply.holder.journal}",
        )
    if reply.status == "held":
        return ClaimDecision(
            False, f"the host holds a marker {MARKER_PATH} naming no run: inspect it, and remove it only by hand"
        )
    detail = stderr.strip()[:200] or "no reply"
    return ClaimDecision(False, f"cannot write the host marker {MARKER_PATH} ({detail}); nothing was changed")
