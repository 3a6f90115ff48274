"""Sending the trial helper to a host and reading back what it found.

Everything here is pure except :func:`run_trial`, the one call to
``transport.run``. The command is a POSIX ``sh`` script that picks the first
Python interpreter the host has and runs ``remote_trial.py`` as
``python -c <source> <JSON arguments>``, both quoted with
:func:`vrouter_preflight.shell.quote`.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from vrouter_preflight.shell import quote
from vrouter_preflight.transport.base import CommandResult, Transport
from vrouter_preflight.trial.report import TrialProtocolError, TrialReport, parse_report

HELPER = Path(__file__).with_name("remote_trial.py")
#: Tried in this order: current distributions, RHEL 8's platform-python, RHEL 7 (Python 2.7 only).
INTERPRETERS = ("python3", "/usr/libexec/platform-python", "python2.7", "python2", "python")
#: Exit status of the wrapper when no interpreter exists (distinct from sh's 126/127 and the helper's own).
NO_INTERPRETER_RC = 96
#: Seconds the transport waits beyond the helper's own deadline.
TRANSPORT_GRACE = 10


class TrialUnavailable(Exception):
    """The trial could not be run or its output not be read (no interpreter, garbled output).

    >>> str(TrialUnavailable("no Python interpreter found"))
    'no Python interpreter found'
    """


def new_marker() -> str:
    """A unique tag carried in the helper's arguments, so its processes can be found on the host.

    >>> new_marker().startswith("vrpf-trial-")
    True
    """
    return f"vrpf-trial-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class TrialRequest:
    """What to try: page sizes, table sizes in bytes, an optional NUMA node, and time limits.

    ``deadline_s`` is the helper's own ``alarm``: it stops and gives everything
    back by then even if nobody is listening. ``hold_s`` (tests only) keeps the
    pages held that many seconds after they were touched.

    >>> r = TrialRequest(sizes_kib=(2048,), flow_bytes=161218560, bridge_bytes=20185088, marker="m")
    >>> r.arguments()
    '{"bridge_bytes":20185088,"deadline":50,"flow_bytes":161218560,"hold":0,"marker":"m","node":null,"sizes_kib":[2048]}'
    """

    sizes_kib: tuple[int, ...]
    flow_bytes: int
    bridge_bytes: int
    node: int | None = None
    deadline_s: int = 50
    hold_s: float = 0
    marker: str = field(default_factory=new_marker)

    def arguments(self) -> str:
        """The JSON the helper reads from its first argument."""
        return json.dumps(
            {
                "sizes_kib": list(self.sizes_kib),
                "flow_bytes": self.flow_bytes,
                "bridge_bytes": self.bridge_bytes,
                "node": self.node,
                "deadline": self.deadline_s,
                "hold": self.hold_s,
                "marker": self.marker,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @property
    def transport_timeout(self) -> float:
        """How long the transport waits: the helper's deadline, its hold, plus a grace period."""
        return self.deadline_s + TRANSPORT_GRACE


def deadline_for(command_timeout: float) -> int:
    """The helper's deadline for a host's ``command_timeout``: 80 % of it, at least 5 s.

    >>> deadline_for(60), deadline_for(3)
    (48, 5)
    """
    return max(5, math.floor(command_timeout * 0.8))


@cache
def helper_source() -> str:
    """The helper as sent: its source without comment-only lines (it stays self-contained).

    >>> source = helper_source()
    >>> "def main(argv):" in source, any(line.lstrip().startswith("#") for line in source.splitlines())
    (True, False)
    """
    lines = HELPER.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#")) + "\n"


def build_command(request: TrialRequest) -> str:
    """The ``sh`` script run on the host: first interpreter found runs the helper, else exit 96.

    >>> cmd = build_command(TrialRequest(sizes_kib=(2048,), flow_bytes=1, bridge_bytes=1, marker="m"))
    >>> cmd.startswith("for py in python3 /usr/libexec/platform-python python2.7 python2 python; do")
    True
    >>> cmd.endswith("exit 96")
    True
    """
    tried = " ".join(INTERPRETERS)
    return (
        f"for py in {' '.join(quote(p) for p in INTERPRETERS)}; do "
        f'if command -v "$py" >/dev/null 2>&1; then exec "$py" -c {quote(helper_source())} '
        f"{quote(request.arguments())}; fi; done; "
        f"echo {quote(f'vrpf-trial: no Python interpreter found (tried: {tried})')} >&2; exit {NO_INTERPRETER_RC}"
    )


def interpret(result: CommandResult, request: TrialRequest) -> TrialReport:
    """Read the helper's report from a command result; TrialUnavailable when there is none.

    >>> r = CommandResult("...", 96, "", "vrpf-trial: no Python interpreter found (tried: python3)\\n", 0.01)
    >>> interpret(r, TrialRequest(sizes_kib=(2048,), flow_bytes=1, bridge_bytes=1))
    Traceback (most recent call last):
    ...
    vrouter_preflight.trial.runner.TrialUnavailable: no Python interpreter found on the host (tried: python3)
    """
    if result.rc == NO_INTERPRETER_RC and "no Python interpreter found" in result.stderr:
        tried = result.stderr.rsplit("(tried: ", 1)[-1].strip().rstrip(")")
        raise TrialUnavailable(f"no Python interpreter found on the host (tried: {tried})")
    try:
        report = parse_report(result.stdout)
    except TrialProtocolError as exc:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.rc}"]
        raise TrialUnavailable(f"the trial helper gave no report ({exc}; rc {result.rc}: {detail[0]})") from None
    if report.marker != request.marker:
        raise TrialUnavailable(f"the trial report belongs to another run ({report.marker!r}, not {request.marker!r})")
    return report


def run_trial(transport: Transport, request: TrialRequest) -> TrialReport:
    """Run the trial on the transport's host (as root when ``become`` says so) and return its report.

    Asked for more than the pools hold, the helper refuses before it allocates anything:

    >>> from vrouter_preflight.inventory import HostSpec
    >>> from vrouter_preflight.transport.local import LocalTransport
    >>> local = LocalTransport(HostSpec(name="me", transport="local"))
    >>> report = run_trial(local, TrialRequest(sizes_kib=(1048576,), flow_bytes=2**50, bridge_bytes=1, marker="m"))
    >>> report.error, [(t.size_kib, t.status, t.reason) for t in report.trials]
    (None, [(1048576, 'short', 'refused without allocating')])
    """
    result = transport.run(build_command(request), timeout=request.transport_timeout + request.hold_s, privileged=True)
    return interpret(result, request)
