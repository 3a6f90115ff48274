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
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from vrouter_preflight.errors import PreflightError
from vrouter_preflight.facts.lines import is_plain_number
from vrouter_preflight.remediation.baseline import JournalHost

JournalState = Literal["open", "closed", "empty"]

BEGIN = "begin"
CLOSE = "close"


MAX_JOURNAL_BYTES = 64 * 1024 * 1024
"""A journal file larger than this is refused (a run writes a few dozen KiB; move an old file away)."""
MAX_NODE = 1023
"""The highest NUMA node number a journal may name (the kernel's MAX_NUMNODES is at most 1024)."""
MAX_POOL_PAGES = 1 << 28
"""The most pages a journal may name for one pool (2**28: more than any real host holds, whatever the page size)."""
MAX_PAGE_KIB = 16 * 1024 * 1024
"""The largest hugepage size a journal may name (16 GiB, the largest the kernel knows)."""
POOL_READING_EVENTS = ("released", "restored")
"""Events holding the pools as read back (``nr`` per node)."""
CHANGE_EVENTS = ("release",)
"""Events announcing a change to a pool: once one is recorded, the run counts as having changed the host."""


class JournalError(PreflightError):
    """A journal cannot be used as asked: unreadable, not a file, empty or truncated, a bad entry, or still open.

    ``path`` names the file (or the journal directory) and ``cause`` says what is wrong with it.

    >>> error = JournalError("reports/journal/c0.json", "no run recorded")
    >>> str(error), error.cause
    ('reports/journal/c0.json: no run recorded', 'no run recorded')
    """

    def __init__(self, path: str | os.PathLike[str], cause: str, *, message: str | None = None) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(message or f"{self.path}: {cause}")


class OpenJournal(JournalError):
    """A previous run on this host left its journal open: replay or close it first.

    >>> print(OpenJournal("j/c0.json", "c0"))  # doctest: +ELLIPSIS
    c0: the journal j/c0.json of an earlier run is still OPEN ... with --rollback-journal j/c0.json ...
    """

    def __init__(self, path: str, host: str) -> None:
        self.host = host
        super().__init__(
            path,
            "the journal of an earlier run is still OPEN",
            message=f"{host}: the journal {path} of an earlier run is still OPEN (that run did not finish putting "
            f"the hugepage pools back); refusing to start. Replay its rollback with --rollback-journal {path} "
            f"(or, after restoring by hand, close it)",
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

    @property
    def changed(self) -> bool:
        """True when the run announced a change to a pool (a ``release`` record), whether or not it took.

        >>> rec = JournalRecord(2, "t", "r1", "release", {})
        >>> LoadedJournal("j", "open", "r1", (rec,), (), None, {}, ()).changed
        True
        """
        return any(record.event in CHANGE_EVENTS for record in self.records)

    def last_nr(self, events: tuple[str, ...]) -> dict[int, int]:
        """Per node, ``nr_hugepages`` as last read back in one of ``events`` (``released``, ``restored``).

        A reading that is not a node number and a plausible page count is a
        :class:`JournalError` (a hand-edited or corrupted journal).

        >>> rec = JournalRecord(3, "t", "r1", "released", {"nr": {"0": 3, "1": None}})
        >>> LoadedJournal("j", "open", "r1", (rec,), (), None, {}, ()).last_nr(("released",))
        {0: 3}
        >>> bad = JournalRecord(3, "t", "r1", "released", {"nr": {"0": 1e30}})
        >>> LoadedJournal("j", "open", "r1", (bad,), (), None, {}, ()).last_nr(("released",))
        Traceback (most recent call last):
        ...
        vrouter_preflight.remediation.journal.JournalError: j: record 3 (released): bad pool reading '0': 1e+30
        """
        last: dict[int, int] = {}
        for record in self.records:
            if record.event not in events:
                continue
            readings = record.data.get("nr", {})
            if not isinstance(readings, dict):
                raise JournalError(
                    self.path, f"record {record.seq} ({record.event}): bad pool readings {readings!r:.80}"
                )
            for node, nr in readings.items():
                if nr is None:
                    continue
                if not (_is_count(node, MAX_NODE) and _is_count(nr, MAX_POOL_PAGES)):
                    raise JournalError(
                        self.path, f"record {record.seq} ({record.event}): bad pool reading {node!r:.40}: {nr!r:.40}"
                    )
                last[int(node)] = int(nr)
        return last

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
        raise JournalError(directory, f"not a usable host name for a journal file: {host[:80]!r}")
    return Path(directory) / f"{host}.json"


def utc_now() -> str:
    """The time now, UTC, to the microsecond (every record's ``at``).

    >>> utc_now().endswith("Z")
    True
    """
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
    """An open run of one host's journal; every :meth:`record` is on disk when it returns.

    ``changed`` turns True once a record announcing a pool change (:data:`CHANGE_EVENTS`) is written:
    the run's outcome says "changed" from it, whatever step failed afterwards.
    """

    def __init__(self, path: Path, run: str, seq: int, *, changed: bool = False) -> None:
        self.path = path
        self.run = run
        self._seq = seq
        self.closed = False
        self.changed = changed

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], host: str, *, begin: Mapping[str, Any], run: str | None = None
    ) -> Journal:
        """Start a run: refuse when the last run is open, then append the ``begin`` record.

        ``begin`` must hold everything a later rollback needs (``restore``,
        ``host``); it is written and fsync'd before this returns.
        """
        path = journal_path(directory, host)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(path.parent, f"cannot create the journal directory: {exc.strerror or exc}") from None
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
            raise JournalError(path, f"no open run to resume ({loaded.state})")
        return cls(Path(path), loaded.run, max(r.seq for r in loaded.records), changed=loaded.changed)

    def record(self, event: str, **data: Any) -> None:
        """Append one record and fsync it; call BEFORE the change it announces."""
        if self.closed:
            raise JournalError(self.path, f"run {self.run} is closed; nothing more may be recorded")
        self._seq += 1
        line = json.dumps(
            {"seq": self._seq, "at": utc_now(), "run": self.run, "event": event, **data}, sort_keys=False, default=str
        )
        try:
            with open(self.path, "ab") as handle:
                if handle.tell() > 0 and not _ends_with_newline(self.path):
                    handle.write(b"\n")  # after a torn line, start a fresh one
                handle.write(line.encode("utf-8") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise JournalError(self.path, f"cannot write the journal: {exc.strerror or exc}") from None
        self.changed = self.changed or event in CHANGE_EVENTS

    def close(self, outcome: str, **data: Any) -> None:
        """Mark the run finished (the pools are as they were); no record may follow."""
        self.record(CLOSE, outcome=outcome, **data)
        self.closed = True


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _is_count(value: object, maximum: int) -> bool:
    """An int (or a string of digits: a JSON key) from 0 to ``maximum``; never a bool or a float.

    >>> _is_count("3", 10), _is_count(3, 10), _is_count(True, 10), _is_count(1e3, 10_000), _is_count(-1, 10)
    (True, True, False, False, False)
    """
    if isinstance(value, str):
        return is_plain_number(value, 12) and int(value) <= maximum
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def _parse_line(text: str) -> JournalRecord | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    seq, at, run, event = (value.pop(key, None) for key in ("seq", "at", "run", "event"))
    if not isinstance(seq, int) or not isinstance(at, str) or not isinstance(run, str) or not isinstance(event, str):
        return None
    return JournalRecord(seq, at, run, event, value)


def _pool_target(item: object) -> PoolTarget | None:
    """One ``restore`` entry, or None when it is not a plausible pool."""
    if not isinstance(item, dict):
        return None
    node, size, nr = item.get("node"), item.get("size_kib"), item.get("nr")
    if not (_is_count(node, MAX_NODE) and _is_count(size, MAX_PAGE_KIB) and _is_count(nr, MAX_POOL_PAGES)):
        return None
    size_kib = int(size)  # type: ignore[arg-type]
    if size_kib < 4 or size_kib & (size_kib - 1):
        return None  # a page size is a power of two
    return PoolTarget(int(node), size_kib, int(nr))  # type: ignore[arg-type]


def _targets(path: str, begin: JournalRecord | None) -> tuple[PoolTarget, ...]:
    if begin is None:
        return ()
    entries = begin.data.get("restore", [])
    if not isinstance(entries, list):
        raise JournalError(path, f"begin record {begin.seq}: 'restore' is not a list: {entries!r:.80}")
    targets: list[PoolTarget] = []
    for item in entries:
        target = _pool_target(item)
        if target is None:
            raise JournalError(path, f"begin record {begin.seq}: bad restore entry {item!r:.120}")
        if any((t.node, t.size_kib) == (target.node, target.size_kib) for t in targets):
            raise JournalError(path, f"begin record {begin.seq}: node {target.node} named twice in 'restore'")
        targets.append(target)
    return tuple(targets)


def _read_capped(path: str | os.PathLike[str]) -> str:
    """The journal's text; a directory, a device or a file over :data:`MAX_JOURNAL_BYTES` is a JournalError."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                raise JournalError(path, f"cannot read the journal: {kind}")
            data = handle.read(MAX_JOURNAL_BYTES + 1)
    except IsADirectoryError:
        raise JournalError(path, "cannot read the journal: a directory") from None
    except OSError as exc:
        raise JournalError(path, f"cannot read the journal: {exc.strerror or exc}") from None
    if len(data) > MAX_JOURNAL_BYTES:
        raise JournalError(
            path, f"larger than {MAX_JOURNAL_BYTES // (1024 * 1024)} MiB: not a journal this suite wrote (move it away)"
        )
    return data.decode("utf-8", "replace")


def load_journal(path: str | os.PathLike[str]) -> LoadedJournal:
    """Read the last run of a journal file; torn lines (a crash mid-write) are skipped and listed.

    A file that cannot be read (a directory, too large) or whose ``begin``
    record names an implausible pool raises :class:`JournalError`.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> j = Journal.open(d, "c0", begin={"host": {"name": "c0"}})
    >>> with open(j.path, "a") as f: _ = f.write('{"seq": 2, "at": "x", "ev')    # crash mid-write
    >>> loaded = load_journal(j.path)
    >>> loaded.state, loaded.torn_lines, loaded.host["name"]
    ('open', (2,), 'c0')
    >>> load_journal(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.remediation.journal.JournalError: /...: cannot read the journal: a directory
    """
    raw = _read_capped(path)
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
        restore=_targets(str(path), begin),
    )


def replayable_journal(path: str | os.PathLike[str]) -> LoadedJournal:
    """A journal fit for ``--rollback-journal``: one run with a host to reach and readable pool entries.

    Everything :func:`load_journal` refuses, plus an empty or truncated file
    (no whole ``begin`` record), a ``begin`` naming no usable host, and a
    bad pool reading, is one :class:`JournalError` naming the file.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with open(f"{d}/c0.json", "w") as f: _ = f.write('{"seq": 1, "at": "2026-11-26T10:00:00Z", "run": "ab", "ev')
    >>> replayable_journal(f"{d}/c0.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.remediation.journal.JournalError: /.../c0.json: no run recorded: the file is empty or ...
    """
    loaded = load_journal(path)
    if loaded.state == "empty":
        raise JournalError(
            path,
            f"no run recorded: the file is empty or truncated before its first whole record "
            f"({len(loaded.torn_lines)} unreadable line(s))",
        )
    name = loaded.host.get("name")
    if not isinstance(name, str) or not name or len(name) > 255 or "/" in name or name in (".", ".."):
        raise JournalError(path, f"run {loaded.run}: the begin record names no usable host ({name!r:.80})")
    try:
        JournalHost.from_record(loaded.host)
    except ValueError as exc:
        raise JournalError(path, f"run {loaded.run}: the begin record's host: {exc}") from None
    loaded.last_nr(POOL_READING_EVENTS)
    return loaded
