"""One rolling change shared by several processes (pytest-xdist workers) on one machine.

Every process builds the same :class:`Rollout` (same directory, run id, hosts,
``serial`` and failure settings) and wraps each host's change in
:meth:`Rollout.slot`. The processes agree through one state file under a
lock (:mod:`vrouter_preflight.rollout.shared_state`), so:

- a host starts only when every earlier batch has finished and none stopped
  the rollout, so never more than one batch's hosts are in flight, whichever
  processes run them;
- a host whose batch may not start waits, even when its process has nothing
  else to do;
- when a batch stops the rollout, the hosts not yet started are not run, and
  the report says why;
- a host held by a process that died counts as failed ("worker died");
- a wait that sees no host start or finish for ``wait_timeout`` seconds ends
  with :class:`RolloutTimeout`, naming what it waited for;
- a host whose change went well may take another slot in the same run (the
  remediation and the certification cycles of one host, one after the
  other); after a failed or skipped change its later ones are not run.

A process must ask for its hosts in batch order (:meth:`Rollout.batch_of` is
the sort key); a process that waits on a later batch while holding back a host
of an earlier one would wait for itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vrouter_preflight.rollout.batching import RolloutError, SerialSpec, batches, parse_serial, stop_reason
from vrouter_preflight.rollout.shared_state import STATE_FILE, locked_state, process_alive, process_start_time

PENDING, RUNNING, OK, FAILED, NOT_RUN = "pending", "running", "ok", "failed", "not run"
DONE = frozenset({OK, FAILED, NOT_RUN})
FORMAT = 1
DEFAULT_WAIT_TIMEOUT = 1800.0
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def new_run_id() -> str:
    """A run id unique to this run: UTC time, then random hex (created once, by the controller).

    >>> import re
    >>> bool(re.match(r"^\\d{8}T\\d{6}Z-[0-9a-f]{8}$", new_run_id()))
    True
    """
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


class RolloutTimeout(RolloutError):
    """A host waited ``wait_timeout`` seconds for its batch while nothing in the rollout moved."""


@dataclass(frozen=True)
class Decision:
    """What :meth:`Rollout.slot` decided for a host: ``action`` "run" or "skip", and why.

    >>> d = Decision("c3", "skip", "not run: the rollout stopped after batch 1 (...)", batch=2)
    >>> d.run, d.batch
    (False, 2)
    """

    host: str
    action: Literal["run", "skip"]
    reason: str
    batch: int  # 1-based, as in the messages

    @property
    def run(self) -> bool:
        """Whether the host may make its change now (``action == "run"``)."""
        return self.action == "run"


class Rollout:
    """The rolling change of ``hosts``, ``spec`` hosts at a time, shared through ``state_dir/run_id``.

    ``max_fail_percentage`` None means Ansible's default: only a batch whose
    every host failed stops the rollout. ``clock`` gives the recorded
    timestamps (``time.time`` by default).

    >>> import tempfile
    >>> from vrouter_preflight.rollout.batching import parse_serial
    >>> r = Rollout(tempfile.mkdtemp(), "run-1", ["c0", "c1", "c2"], parse_serial("2"), max_fail_percentage=0)
    >>> with r.slot("c0") as decision:
    ...     r.finish("c0", ok=False, reason="vRouter did not come back")
    >>> with r.slot("c2") as decision:
    ...     print(decision.action, decision.reason)
    skip not run: the rollout stopped after batch 1 (1 of 2 hosts failed, more than max_fail_percentage 0)
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        run_id: str,
        hosts: Sequence[str],
        spec: SerialSpec,
        max_fail_percentage: float | None = None,
        any_errors_fatal: bool = False,
        *,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = 0.02,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _RUN_ID.match(run_id):
            raise RolloutError(f"rollout run id {run_id!r}: use letters, digits, '.', '_' and '-' only")
        if max_fail_percentage is not None and not 0 <= max_fail_percentage <= 100:
            raise RolloutError(f"max_fail_percentage {max_fail_percentage:g}: expected 0 to 100")
        self.run_id = run_id
        self.directory = Path(state_dir) / run_id
        self.spec = spec
        self.max_fail_percentage = max_fail_percentage
        self.any_errors_fatal = any_errors_fatal
        self.batches = batches(hosts, spec)
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self._clock = clock
        self._batch_of = {host: number for number, batch in enumerate(self.batches, 1) for host in batch}

    @classmethod
    def open(cls, state_dir: str | os.PathLike[str], run_id: str, **options: Any) -> Rollout | None:
        """The rollout that processes recorded under ``state_dir/run_id``, or None when none did.

        For the pytest-xdist controller, which does not collect the items and so
        may not know the hosts: it reads the settings the workers wrote.

        >>> import tempfile
        >>> from vrouter_preflight.rollout.batching import parse_serial
        >>> d = tempfile.mkdtemp()
        >>> Rollout.open(d, "run-1") is None
        True
        >>> _ = Rollout(d, "run-1", ["c0", "c1"], parse_serial("1"), 0).report()
        >>> Rollout.open(d, "run-1").batches
        [['c0'], ['c1']]
        """
        path = Path(state_dir) / run_id / STATE_FILE
        if not path.exists():
            return None
        settings = json.loads(path.read_text())["settings"]
        hosts = [host for batch in settings["batches"] for host in batch]
        return cls(
            state_dir,
            run_id,
            hosts,
            parse_serial(settings["serial"]),
            settings["max_fail_percentage"],
            settings["any_errors_fatal"],
            **options,
        )

    def batch_of(self, host: str) -> int:
        """The 1-based batch of ``host``; sort each process's hosts by it.

        >>> from vrouter_preflight.rollout.batching import parse_serial
        >>> Rollout("/tmp", "r", ["a", "b", "c"], parse_serial("1,2")).batch_of("c")
        2
        """
        try:
            return self._batch_of[host]
        except KeyError:
            raise RolloutError(f"{host}: not one of this rollout's hosts") from None

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[Decision]:
        """Wait until ``host`` may start, then yield the :class:`Decision`.

        On "run" the host is in flight until :meth:`finish`; leaving the block
        by an exception records it as failed with the exception, and leaving it
        without :meth:`finish` records it as failed too. On "skip" the host is
        already recorded as not run, with ``decision.reason``.
        """
        decision = self._acquire(host)
        if not decision.run:
            yield decision
            return
        try:
            yield decision
        except BaseException as exc:
            self._settle_if_running(host, FAILED, f"{type(exc).__name__}: {exc}".rstrip(": "))
            raise
        self._settle_if_running(host, FAILED, "left its rollout slot without reporting a result")

    def finish(self, host: str, ok: bool, reason: str = "") -> None:
        """Record the end of ``host``'s change: ``ok`` False for failed or unreachable.

        A failure may stop the rollout (:func:`vrouter_preflight.rollout.batching.stop_reason`).
        """
        self.batch_of(host)
        pid = os.getpid()
        with self._state() as state:
            record = state["hosts"][host]
            if record["state"] != RUNNING or record["pid"] != pid:
                raise RolloutError(
                    f"{host}: finish() without a slot held by this process (pid {pid}); the host is {record['state']}"
                )
            self._settle(state, host, OK if ok else FAILED, reason)

    def report(self) -> dict[str, Any]:
        """The rollout so far, as JSON-able data for the summary and the terminal.

        ``hosts`` maps every host to its ``batch``, ``outcome`` (ok, failed,
        running, not run), ``reason``, ``start``/``end`` (``time.time()``) and
        ``pid``; ``ran`` lists the hosts that started, in start order;
        ``not_run`` maps each host that did not run to the reason.
        """
        with self._state() as state:
            self._reap(state)
        stopped = state["stopped"]
        hosts: dict[str, dict[str, Any]] = {}
        for name, record in state["hosts"].items():
            outcome, reason = record["state"], record["reason"]
            if outcome == PENDING:
                outcome = NOT_RUN
                reason = (
                    self._stopped_reason(stopped, record["batch"]) if stopped else "not run: its test never started"
                )
            hosts[name] = {
                "batch": record["batch"],
                "outcome": outcome,
                "reason": reason,
                "start": record["start"],
                "end": record["end"],
                "pid": record["pid"],
            }
        started = sorted((h for h in hosts if hosts[h]["start"] is not None), key=lambda h: hosts[h]["start"])
        return {
            "run_id": self.run_id,
            "state_dir": str(self.directory),
            "serial": str(self.spec),
            "max_fail_percentage": self.max_fail_percentage,
            "any_errors_fatal": self.any_errors_fatal,
            "batches": self.batches,
            "stopped": stopped,
            "hosts": hosts,
            "ran": started,
            "failed": [h for h in started if hosts[h]["outcome"] == FAILED],
            "not_run": {h: hosts[h]["reason"] for h in hosts if hosts[h]["outcome"] == NOT_RUN},
        }

    # -- inside the lock ---------------------------------------------------------------------------

    def _state(self) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return _checked(locked_state(self.directory, self._fresh_state), self)

    def _fresh_state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "run_id": self.run_id,
            "settings": self._settings(),
            "stopped": None,
            "changes": 0,
            "hosts": {
                host: {
                    "batch": number,
                    "state": PENDING,
                    "reason": "",
                    "pid": None,
                    "pid_start": None,
                    "start": None,
                    "end": None,
                }
                for number, batch in enumerate(self.batches, 1)
                for host in batch
            },
        }

    def _settings(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "serial": str(self.spec),
            "max_fail_percentage": self.max_fail_percentage,
            "any_errors_fatal": self.any_errors_fatal,
        }

    def _acquire(self, host: str) -> Decision:
        number = self.batch_of(host)
        pid = os.getpid()
        last_changes, last_progress = -1, time.monotonic()
        while True:
            timed_out: str | None = None
            with self._state() as state:
                self._reap(state)
                record = state["hosts"][host]
                if record["state"] == RUNNING:
                    raise RolloutError(
                        f"{host}: already running in rollout {self.run_id} (pid {record['pid']}); "
                        "finish its change before starting another"
                    )
                if record["state"] in (FAILED, NOT_RUN):
                    reason = f"not run: an earlier change on {host} in this run: {record['state']}: {record['reason']}"
                    return Decision(host, "skip", reason, number)
                if state["stopped"] is not None:
                    reason = self._stopped_reason(state["stopped"], number)
                    self._settle(state, host, NOT_RUN, reason)
                    return Decision(host, "skip", reason, number)
                if record["state"] == OK:  # a further change: only its own batch may be in flight meanwhile
                    waiting = [h for h, r in state["hosts"].items() if r["state"] == RUNNING and r["batch"] != number]
                else:
                    waiting = [
                        h
                        for batch in self.batches[: number - 1]
                        for h in batch
                        if state["hosts"][h]["state"] not in DONE
                    ]
                if not waiting:
                    again = record["state"] == OK
                    record.update(state=RUNNING, pid=pid, pid_start=process_start_time(pid), start=self._clock())
                    record["slots"] = record.get("slots", 0) + 1
                    state["changes"] += 1
                    where = f"batch {number} of {len(self.batches)}"
                    return Decision(
                        host, "run", f"{where}, change {record['slots']} on this host" if again else where, number
                    )
                mine = [h for h in waiting if state["hosts"][h]["pid"] == pid]
                if mine:
                    raise RolloutError(
                        f"{host} (batch {number}) waits for {', '.join(mine)}, held by this same process: "
                        "finish a host before asking for a later batch"
                    )
                if state["changes"] != last_changes:
                    last_changes, last_progress = state["changes"], time.monotonic()
                elif time.monotonic() - last_progress > self.wait_timeout:
                    timed_out = self._timeout_message(state, host, number, waiting)
                    self._settle(state, host, NOT_RUN, f"not run: {timed_out}")
            if timed_out is not None:
                raise RolloutTimeout(timed_out)
            time.sleep(self.poll_interval)

    def _timeout_message(self, state: dict[str, Any], host: str, number: int, waiting: list[str]) -> str:
        described = []
        for h in waiting:
            record = state["hosts"][h]
            if record["state"] == RUNNING:
                since = time.strftime("%H:%M:%S", time.localtime(record["start"]))
                described.append(f"{h} (batch {record['batch']}, running in pid {record['pid']} since {since})")
            else:
                described.append(f"{h} (batch {record['batch']}, not started)")
        return (
            f"{host} (batch {number}) waited {self.wait_timeout:g} s and no host of rollout {self.run_id} "
            f"started or finished; still waiting for {', '.join(described)}. A host whose change never starts "
            "holds back every later batch: each process must take its hosts in batch order"
        )

    def _reap(self, state: dict[str, Any]) -> None:
        """Hosts held by a process that died count as failed."""
        for host, record in state["hosts"].items():
            if record["state"] == RUNNING and not process_alive(record["pid"], record["pid_start"]):
                self._settle(state, host, FAILED, f"worker died (pid {record['pid']}) while the host was in flight")

    def _settle(self, state: dict[str, Any], host: str, outcome: str, reason: str) -> None:
        record = state["hosts"][host]
        record.update(state=outcome, reason=reason, end=self._clock())
        state["changes"] += 1
        if outcome != FAILED or state["stopped"] is not None:
            return
        number = record["batch"]
        batch = self.batches[number - 1]
        failed = sum(1 for h in batch if state["hosts"][h]["state"] == FAILED)
        why = stop_reason(failed, len(batch), self.max_fail_percentage, self.any_errors_fatal)
        if why is not None:
            state["stopped"] = {"batch": number, "reason": why, "at": self._clock()}

    def _settle_if_running(self, host: str, outcome: str, reason: str) -> None:
        with self._state() as state:
            record = state["hosts"][host]
            if record["state"] == RUNNING and record["pid"] == os.getpid():
                self._settle(state, host, outcome, reason)

    @staticmethod
    def _stopped_reason(stopped: dict[str, Any], number: int) -> str:
        when = "during" if stopped["batch"] == number else "after"
        return f"not run: the rollout stopped {when} batch {stopped['batch']} ({stopped['reason']})"


@contextlib.contextmanager
def _checked(states: contextlib.AbstractContextManager[dict[str, Any]], rollout: Rollout) -> Iterator[dict[str, Any]]:
    """The locked state, refused when it was made for another rollout under the same run id."""
    with states as state:
        if state.get("format") != FORMAT or state.get("settings") != rollout._settings():
            raise RolloutError(
                f"{rollout.directory}: holds a different rollout (other hosts, serial or failure settings); "
                "every process of a run must use the same settings, and every run a new run id"
            )
        yield state
