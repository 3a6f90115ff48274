"""A small JSON state file that several processes on one machine change under a file lock.

Every change happens inside :func:`locked_state`: an exclusive ``fcntl.flock``
on a separate lock file, a fresh read, and an atomic write (temporary file,
``fsync``, ``os.replace``) only when the state changed. A reader therefore
never sees half a file, and a process that dies loses its lock with it.

The directory must be on a local file system: ``flock`` is not reliable over NFS.
Also here: telling whether a process recorded earlier is still alive.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
LOCK_FILE = "lock"


@contextlib.contextmanager
def locked_state(directory: Path, create: Callable[[], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Hold the directory's lock and yield its state, created with ``create()`` on first use.

    Changes made to the yielded dict are written back atomically when the block
    ends normally; when it raises, nothing is written.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with locked_state(d, lambda: {"n": 0}) as state:
    ...     state["n"] += 1
    >>> with locked_state(d, lambda: {"n": 0}) as state:
    ...     state["n"]
    1
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            path = directory / STATE_FILE
            state = json.loads(path.read_text()) if path.exists() else create()
            before = copy.deepcopy(state) if path.exists() else None
            yield state
            if state != before:
                write_atomically(path, state)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON so that readers see the old file or the new one, never a mix.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / STATE_FILE
    ...     write_atomically(path, {"hosts": {"c0": "done"}, "batch": 2})
    ...     json.loads(path.read_text()), os.listdir(d)
    ({'batch': 2, 'hosts': {'c0': 'done'}}, ['state.json'])
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22), or None.

    Recorded with a pid so that a pid reused by a new process is not taken for the old one.

    >>> isinstance(process_start_time(os.getpid()), int)
    True
    """
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def process_alive(pid: int, start_time: int | None) -> bool:
    """True while the process ``pid`` (started at ``start_time``, if known) is running.

    ``os.kill(pid, 0)`` says whether the pid exists; ``/proc`` then rules out a
    zombie (killed, not yet reaped by its parent) and a reused pid.

    >>> process_alive(os.getpid(), process_start_time(os.getpid()))
    True
    >>> process_alive(os.getpid(), -1)
    False
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc here (or it just went away: the next look will tell)
    state, started = stat
    if state in ("Z", "X", "x"):
        return False
    return start_time is None or started == start_time


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) from ``/proc/PID/stat``; the name in parentheses may hold spaces."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return fields[0], int(fields[19])
