"""The remediation journal: one append-only JSON-lines file per host, written BEFORE each change.

Layout: ``<dir>/<host>.json`` (the stage uses ``reports/journal/``). Every
line is one JSON object ``{"seq", "at", "run", "event", ...data}``; each is
flushed and fsync'd before the change it announces is made, so after a crash
the journal says at least as much as was done.

A run starts with a ``begin`` record holding everything needed to put the
host back without the original process: the host's essentials to reconnect
(name, transport, address, port, user, become -- never a secret or its
variable), the pools as found (per node and size ``nr`` and ``free``), the
buddy state, the ``vm.*`` values, and ``restore``: the ``nr_hugepages`` to
write back per node and size. A run ends with a ``close`` record. A file is
never truncated or rewritten: a later run appends its own ``begin``, and
:func:`load_journal` reads the last run. A run whose journal is still open
(no ``close``: crashed, unreachable, or a restore that fell short) blocks the
next one on that host until the operator replays the rollback
(``--rollback-journal``) or closes it.

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> j = Journal.open(d, "compute-0", begin={"restore": [{"node": 0, "size_kib": 1048576, "nr": 4}]})
>>> j.record("release", node=0, target=3)
>>> load_journal(j.path).state
'open'
>>> j.close("ok")
>>> loaded = load_journal(j.path)
>>> loaded.state, loaded.outcome, [r.event for r in loaded.records]
('closed', 'ok', ['begin', 'release', 'close'])
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from vrouter_preflight.errors import PreflightError

JournalState = Literal["open", "closed", "empty"]

BEGIN = "begin"
CLOSE = "close"


class JournalError(PreflightError):
    """The journal cannot be used as asked (unreadable, or a run is still open)."""


class OpenJournal(JournalError):
    """A previous run on this host left its journal open: replay or close it first.

    >>> print(OpenJournal("j/c0.json", "c0"))  # doctest: +ELLIPSIS
    c0: the journal j/c0.json of an earlier run is still OPEN ... with --rollback-journal j/c0.json ...
    """

    def __init__(self, path: str, host: str) -> None:
        self.path = path
        self.host = host
        super().__init__(
            f"{host}: the journal {path} of an earlier run is still OPEN (that run did not finish putting the "
            f"hugepage pools back); refusing to start. Replay its rollback with --rollback-journal {path} "
            f"(or, after restoring by hand, close it)"
        )


@dataclass(frozen=True)
class JournalRecord:
    """One line of the journal.

    >>> JournalRecord(1, "2026-11-26T10:00:00.000000Z", "ab12", "begin", {}).event
    'begin'
    """

    seq: int
    at: str
    run: str
    event: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class PoolTarget:
    """One pool to write back: ``nr_hugepages`` of ``size_kib`` pages on ``node``.

    >>> PoolTarget(1, 1048576, 170).sysfs_path
    '/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages'
    """

    node: int
    size_kib: int
    nr: int

    @property
    def sysfs_path(self) -> str:
        """The per-node sysfs file holding this pool's size."""
        return f"/sys/devices/system/node/node{self.node}/hugepages/hugepages-{self.size_kib}kB/nr_hugepages"


@dataclass(frozen=True)
class LoadedJournal:
    """The last run of a journal file, as read back (possibly after a crash).

    ``torn_lines`` are line numbers that are not whole JSON records (a crash
    mid-write leaves one at the end); they are skipped. ``restore`` is what
    a rollback must write back; ``host`` the reconnect essentials.
    """

    path: str
    state: JournalState
    run: str | None
    records: tuple[JournalRecord, ...]
    torn_lines: tuple[int, ...]
    outcome: str | None
    host: Mapping[str, Any]
    restore: tuple[PoolTarget, ...]

    @property
    def is_open(self) -> bool:
        """True when the last run has no ``close`` record."""
        return self.state == "open"

    def describe(self) -> str:
        """One paragraph for the operator.

        >>> LoadedJournal("j.json", "empty", None, (), (), None, {}, ()).describe()
        'j.json: empty (no run recorded)'
        """
        if self.state == "empty":
            return f"{self.path}: empty (no run recorded)"
        restore = ", ".join(f"node {t.node} {t.size_kib // 1024}M nr_hugepages={t.nr}" for t in self.restore)
        torn = f"; {len(self.torn_lines)} torn line(s) skipped" if self.torn_lines else ""
        last = self.records[-1].event if self.records else "nothing"
        head = f"{self.path}: run {self.run} of {self.host.get('name', '?')} is {self.state.upper()}"
        if self.state == "closed":
            return f"{head} (outcome {self.outcome}){torn}"
        return f"{head}; last step recorded: {last}; to restore: {restore or 'nothing'}{torn}"


def journal_path(directory: str | os.PathLike[str], host: str) -> Path:
    """``<directory>/<host>.json``.

    >>> str(journal_path("reports/journal", "compute-0"))
    'reports/journal/compute-0.json'
    """
    if not host or "/" in host or host in (".", ".."):
        raise JournalError(f"not a usable host name for a journal file: {host!r}")
    return Path(directory) / f"{host}.json"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refuse_if_open(directory: str | os.PathLike[str], host: str) -> None:
    """Raise :class:`OpenJournal` when ``host``'s journal in ``directory`` has an open run.

    >>> import tempfile
    >>> refuse_if_open(tempfile.mkdtemp(), "c0")   # no journal: nothing to refuse
    """
    path = journal_path(directory, host)
    if path.exists() and load_journal(path).is_open:
        raise OpenJournal(str(path), host)


class Journal:
    """An open run of one host's journal; every :meth:`record` is on disk when it returns."""

    def __init__(self, path: Path, run: str, seq: int) -> None:
        self.path = path
        self.run = run
        self._seq = seq
        self.closed = False

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], host: str, *, begin: Mapping[str, Any], run: str | None = None
    ) -> Journal:
        """Start a run: refuse when the last run is open, then append the ``begin`` record.

        ``begin`` must hold everything a later rollback needs (``restore``,
        ``host``); it is written and fsync'd before this returns.
        """
        path = journal_path(directory, host)
        path.parent.mkdir(parents=True, exist_ok=True)
        seq = 0
        if path.exists():
            loaded = load_journal(path)
            if loaded.is_open:
                raise OpenJournal(str(path), host)
            seq = max((r.seq for r in loaded.records), default=0)
        journal = cls(path, run or secrets.token_hex(6), seq)
        journal.record(BEGIN, **begin)
        _fsync_dir(path.parent)
        return journal

    @classmethod
    def resume(cls, path: str | os.PathLike[str]) -> Journal:
        """Append to the open last run of ``path`` (a rollback replayed later).

        >>> import tempfile
        >>> j = Journal.open(tempfile.mkdtemp(), "c0", begin={})
        >>> Journal.resume(j.path).run == j.run
        True
        """
        loaded = load_journal(path)
        if not loaded.is_open or loaded.run is None:
            raise JournalError(f"{path}: no open run to resume ({loaded.state})")
        return cls(Path(path), loaded.run, max(r.seq for r in loaded.records))

    def record(self, event: str, **data: Any) -> None:
        """Append one record and fsync it; call BEFORE the change it announces."""
        if self.closed:
            raise JournalError(f"{self.path}: run {self.run} is closed; nothing more may be recorded")
        self._seq += 1
        line = json.dumps(
            {"seq": self._seq, "at": _now(), "run": self.run, "event": event, **data}, sort_keys=False, default=str
        )
        with open(self.path, "ab") as handle:
            if handle.tell() > 0 and not _ends_with_newline(self.path):
                handle.write(b"\n")  # after a torn line, start a fresh one
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    def close(self, outcome: str, **data: Any) -> None:
        """Mark the run finished (the pools are as they were); no record may follow."""
        self.record(CLOSE, outcome=outcome, **data)
        self.closed = True


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _parse_line(text: str) -> JournalRecord | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    seq, at, run, event = (value.pop(key, None) for key in ("seq", "at", "run", "event"))
    if not isinstance(seq, int) or not isinstance(at, str) or not isinstance(run, str) or not isinstance(event, str):
        return None
    return JournalRecord(seq, at, run, event, value)


def _targets(begin: JournalRecord | None) -> tuple[PoolTarget, ...]:
    if begin is None:
        return ()
    targets: list[PoolTarget] = []
    for item in begin.data.get("restore", ()):
        try:
            targets.append(PoolTarget(int(item["node"]), int(item["size_kib"]), int(item["nr"])))
        except (KeyError, TypeError, ValueError):
            raise JournalError(f"begin record {begin.seq}: bad restore entry {item!r}") from None
    return tuple(targets)


def load_journal(path: str | os.PathLike[str]) -> LoadedJournal:
    """Read the last run of a journal file; torn lines (a crash mid-write) are skipped and listed.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> j = Journal.open(d, "c0", begin={"host": {"name": "c0"}})
    >>> with open(j.path, "a") as f: _ = f.write('{"seq": 2, "at": "x", "ev')    # crash mid-write
    >>> loaded = load_journal(j.path)
    >>> loaded.state, loaded.torn_lines, loaded.host["name"]
    ('open', (2,), 'c0')
    """
    try:
        raw = Path(path).read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {exc.strerror or exc}") from None
    records: list[JournalRecord] = []
    torn: list[int] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        record = _parse_line(line)
        if record is None:
            torn.append(number)
        elif record.event == BEGIN:
            records, torn = [record], []  # an earlier run's torn lines do not matter
        elif records and record.run == records[0].run:
            records.append(record)
        else:
            torn.append(number)
    if not records:
        return LoadedJournal(str(path), "empty", None, (), tuple(torn), None, {}, ())
    begin = records[0]
    close = next((r for r in records if r.event == CLOSE), None)
    host = begin.data.get("host", {})
    return LoadedJournal(
        path=str(path),
        state="closed" if close is not None else "open",
        run=begin.run,
        records=tuple(records),
        torn_lines=tuple(torn),
        outcome=None if close is None else str(close.data.get("outcome")),
        host=host if isinstance(host, dict) else {},
        restore=_targets(begin),
    )
