"""Delivering a fault to a running destructive stage at a chosen step, from outside the run.

Nothing in the product is paused or patched for it (the product has no pause point): the test
watches what a run shows anyway and strikes the moment the step is seen --

* the run's journal (``<journal-dir>/<host>.json``): one JSON line per event, flushed and fsync'd
  before the change it announces, so its last event says which step the run is in;
* the commands the run has on the host: the run's descendant processes for a local host, the
  sshd's for a host reached over SSH, and the stand-in reload wherever it runs (it is detached).

The fault strikes while one of the step's commands runs: once the step's journal event is there,
its commands are polled for without pause (a pool write of ``release`` or ``restore`` lives a few
milliseconds). A run whose step was not caught goes on unstruck (the test starts another). Where
the fault really landed is read back, never assumed (:func:`landed_step`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.destructive_runs import HEALTH_STANDIN, RELOAD_STANDIN
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.remediation.commands import COMPACT_MEMORY, DROP_CACHES, SYNC, pool_path

CELL_ENV = "VRPF_FAULT_CELL"
"""Set in the environment of a faulted run: every local process it starts (detached or orphaned) carries it."""
NODE0_1G = pool_path(0, GIB_KIB)
_SYNC = re.compile(rf"(^|[\s;']){SYNC}($|[\s;'])")


@dataclass(frozen=True)
class Step:
    """A step of the destructive stage as a run shows it: the journal event that opens it, the one that
    closes it, and the kinds of command it runs on the host (the fault strikes while one runs)."""

    name: str
    opens: str
    closes: str
    kinds: tuple[str, ...] = ()


POOL_KINDS = ("pool write", "pool read")
"""What ``release`` and ``restore`` run: writes of node 0's 1G pool and read-backs."""
STEPS = (
    Step("record", "claim", "baseline", ("capture",)),
    Step("release", "release", "released", POOL_KINDS),
    Step("memory", "memory", "measured", ("sync", "drop_caches", "compact_memory")),
    Step("re-measure", "memory", "measured", ("capture",)),
    Step("reload", "reload", "reloaded", ("reload",)),
    Step("health", "reloaded", "health", ("health",)),
    Step("restore", "rollback", "restored", POOL_KINDS),
)
"""The journal's steps, in order (``memory`` is ``sync``, ``drop_caches`` and ``compact_memory``)."""


@dataclass(frozen=True)
class Command:
    """A process of the run on the host: its pid, its process group and what it is."""

    pid: int
    pgid: int
    kind: str
    argv: tuple[str, ...]


def command_kind(argv: Sequence[str]) -> str | None:
    """What a process of the destructive stage is, from its arguments (None: none of the stage's steps).

    >>> command_kind(["sh", "-c", "sh -c 'echo 3 > /proc/sys/vm/drop_caches'"])
    'drop_caches'
    >>> command_kind(["bash", "-c", "if command -v timeout; then exec timeout -k 5 7 sh -c sync; fi"])
    'sync'
    >>> command_kind(["sh", "-c", f"echo 1 > {NODE0_1G}"]), command_kind(["sleep", "1"])
    ('pool write', None)
    """
    text = "\n".join(argv)
    if "/proc/buddyinfo" in text:
        return "capture"
    if str(RELOAD_STANDIN) in argv:
        return "reload"
    if str(HEALTH_STANDIN) in text:
        return "health"
    for kind, command in (("drop_caches", DROP_CACHES), ("compact_memory", COMPACT_MEMORY)):
        if command in text:
            return kind
    if tuple(argv) == (SYNC,) or any(_SYNC.search(arg) for arg in argv[1:]):
        return "sync"
    if NODE0_1G in text:
        return "pool write" if f"> {NODE0_1G}" in text else "pool read"
    return None


def _argv(pid: int) -> tuple[str, ...] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return tuple(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """The pids below ``root`` (from each task's ``children``; cheap enough to poll without pause).

    >>> child = subprocess.Popen(["sleep", "5"])
    >>> child.pid in descendants(os.getpid())
    True
    >>> child.kill(); child.wait()
    -9
    """
    found: list[int] = []
    todo = [root]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def commands_under(roots: Iterable[int]) -> list[Command]:
    """The stage's commands running below ``roots`` (see :func:`command_kind`)."""
    found: list[Command] = []
    for root in roots:
        for pid in descendants(root):
            found.extend(_command(pid))
    return found


def commands_anywhere(needle: str) -> list[Command]:
    """The stage's commands of any parent whose arguments name ``needle`` (a detached reload)."""
    found: list[Command] = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            argv = _argv(int(entry))
            if argv and any(needle in arg for arg in argv):
                found.extend(_command(int(entry), argv))
    return found


def _command(pid: int, argv: tuple[str, ...] | None = None) -> list[Command]:
    argv = argv or _argv(pid)
    kind = command_kind(argv) if argv else None
    if kind is None or argv is None:
        return []
    try:
        return [Command(pid, os.getpgid(pid), kind, argv)]
    except ProcessLookupError:
        return []


def journal_events(path: Path) -> list[str]:
    """The events of the journal's last run so far, in order (a line being written is left out).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "j.json").write_text('{"event": "begin"}\\n{"event": "claim"}\\n{"eve')
    >>> journal_events(d / "j.json"), journal_events(d / "absent.json")
    (['begin', 'claim'], [])
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    events: list[str] = []
    for line in text.splitlines():
        try:
            event = json.loads(line).get("event")
        except (ValueError, AttributeError):
            continue
        if event == "begin":
            events = []
        if isinstance(event, str):
            events.append(event)
    return events


@dataclass(frozen=True)
class Sighting:
    """The moment a step was seen: the journal's events then, and the command caught running."""

    events: tuple[str, ...]
    command: Command

    @property
    def last_event(self) -> str:
        """The journal's last event when the fault was delivered."""
        return self.events[-1] if self.events else "(none)"


class StepNotSeen(AssertionError):
    """The run never showed the step (it ended first, or the step's command was not caught in its window)."""


@dataclass
class RunWatch:
    """What a faulted run shows: its journal, and its commands below ``roots`` (the run, or the host's sshd)."""

    run: subprocess.Popen[bytes]
    journal: Path
    roots: Callable[[], list[int]]
    cell_dir: Path

    def commands(self, kinds: Sequence[str]) -> list[Command]:
        """The run's commands of ``kinds`` running now (a reload is looked for anywhere: it runs detached)."""
        found = commands_under(self.roots())
        if "reload" in kinds:
            found += commands_anywhere(str(self.cell_dir))
        return [c for c in found if c.kind in kinds]

    def wait_for(self, step: Step, timeout: float = 120.0) -> Sighting:
        """Block until ``step`` is seen: its opening event, then one of its commands running.

        Raises :class:`StepNotSeen` when the run ends, the step closes before one of its commands is
        caught, or ``timeout`` passes.
        """
        kinds = step.kinds
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = journal_events(self.journal)
            if step.opens in events:
                caught = self.commands(kinds)
                if caught:
                    return Sighting(tuple(journal_events(self.journal)), caught[0])
                if step.closes in events[events.index(step.opens) :]:
                    raise StepNotSeen(f"{step.name}: no {'/'.join(kinds)} command caught before {step.closes!r}")
                continue  # the step is open: poll its commands without pause
            if self.run.poll() is not None:
                raise StepNotSeen(f"{step.name}: the run ended (rc {self.run.returncode}) at {events[-1:]}")
            time.sleep(0.002)
        shown = journal_events(self.journal)
        raise StepNotSeen(f"{step.name}: not seen within {timeout:g}s; the journal shows {shown}")


def landed_step(last_event: str, command: str | None) -> str:
    """The step a fault landed in, from the journal's last event when it struck and the command it caught.

    >>> landed_step("claim", "capture"), landed_step("memory", "capture"), landed_step("memory", "sync")
    ('record', 're-measure', 'memory')
    >>> landed_step("rollback", None), landed_step("signatures", None)
    ('restore', 'scan (before restore)')
    """
    if last_event == "memory":
        return "re-measure" if command == "capture" else "memory"
    return {
        "begin": "claim",
        "claim": "record",
        "baseline": "release (before its event)",
        "release": "release",
        "released": "memory (before its event)",
        "measured": "reload (before its event)",
        "reload": "reload",
        "reloaded": "health",
        "health": "scan",
        "signatures": "scan (before restore)",
        "rollback": "restore",
        "restored": "close",
    }.get(last_event, last_event)


def cell_processes(tag: str, cell_dir: Path) -> list[int]:
    """Processes of one faulted run still alive: its environment carries ``CELL_ENV=tag``, or its arguments
    name the run's directory (a stand-in reload started over SSH). Zombies are left out."""
    found: list[int] = []
    mark = f"{CELL_ENV}={tag}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        argv = _argv(int(entry)) or ()
        if state != b"Z" and (mark in environ.split(b"\0") or any(str(cell_dir) in arg for arg in argv)):
            found.append(int(entry))
    return found


def stop_group(pgid: int) -> None:
    """SIGSTOP a command's process group (never this process's own)."""
    if pgid in (os.getpgid(0), 0, 1):
        raise ValueError(f"refusing to stop process group {pgid}")
    os.killpg(pgid, signal.SIGSTOP)


def end_leftovers(tag: str, cell_dir: Path, timeout: float = 30.0) -> list[int]:
    """Wait for the run's orphans (a command in flight when it was killed, a detached reload) to finish;
    SIGKILL what is left after ``timeout`` (a command the test stopped). Returns the pids killed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cell_processes(tag, cell_dir):
            return []
        time.sleep(0.1)
    killed = cell_processes(tag, cell_dir)
    for pid in killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    return killed
