"""Checking an SSH server's host key against OpenSSH known_hosts files.

Policies (inventory ``host_key_policy``):

* ``strict``: the key must already be in a known_hosts file.
* ``accept-new``: an unknown host's key is appended to the known_hosts file;
  a host whose recorded key differs is still rejected (as OpenSSH's
  ``StrictHostKeyChecking accept-new``).

Entries may be plain, wildcard (``*.example.com``, ``!bad``) or hashed
(``|1|salt|hash``, ``HashKnownHosts yes``). ``@revoked`` entries reject the
key; lines OpenSSH would skip are skipped (:mod:`vrouter_preflight.transport.known_hosts`).
New entries are written unhashed, one ``name type base64`` line each.

Each file is read and indexed once per process (:data:`KNOWN_HOSTS_FILES`)
and read again only when it changed (its size, mtime or inode); when it only
grew (an append by ``accept-new`` here, by another worker or by ``ssh``) only
the new lines are parsed. A file that is a directory, a FIFO, a device or
larger than :data:`KNOWN_HOSTS_LIMIT` is one clear error.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import paramiko

from vrouter_preflight.inventory import HostKeyPolicy
from vrouter_preflight.transport.known_hosts import REVOKED, KnownHostsIndex, KnownHostsLine
from vrouter_preflight.transport.local_files import MIB, LocalFileError, read_regular_file

log = logging.getLogger(__name__)
_write_lock = threading.Lock()
#: The largest known_hosts file read (about 100,000 hashed RSA entries).
KNOWN_HOSTS_LIMIT = 64 * MIB


class HostKeyError(Exception):
    """The server's host key is not acceptable; the message says why and what to do."""


class HostKeyUnknown(HostKeyError):
    """No entry for the host (strict policy)."""


class HostKeyChanged(HostKeyError):
    """An entry exists for the host but holds another key."""


@dataclass
class _Loaded:
    """One file as last read: its status, its index, and a digest of the bytes indexed."""

    signature: tuple[int, int, int, int] | None
    index: KnownHostsIndex
    size: int = 0
    digest: bytes = b""
    whole_lines: bool = True


def _signature(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class KnownHostsFiles:
    """This process's known_hosts files, each parsed once and parsed again only where it changed.

    A file is stat'ed at each lookup. When its size, mtime or inode changed it
    is read again (bounded, cheap), and when its old bytes are still its first
    bytes (an append: by ``accept-new`` here, by another worker, by ``ssh``)
    only the new lines are parsed; otherwise (``ssh-keygen -R``, an editor)
    the whole file is. ``full_parses`` and ``tail_parses`` count them (tests
    and the bench read them).

    >>> files = KnownHostsFiles()
    >>> files.index("/nonexistent/known_hosts").lines, files.full_parses
    (0, 0)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, _Loaded] = {}
        self.full_parses = 0
        self.tail_parses = 0

    def index(self, path: str) -> KnownHostsIndex:
        """The index of ``path`` as the file is now; raises LocalFileError for an unusable file."""
        with self._lock:
            return self._current(path).index

    def forget(self) -> None:
        """Drop every cached file (the bench starts cold with it)."""
        with self._lock:
            self._files.clear()

    def _current(self, path: str) -> _Loaded:
        cached = self._files.get(path)
        if path == os.devnull:
            info = None
        else:
            try:
                info = os.stat(path)
            except FileNotFoundError:
                info = None
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise LocalFileError(f"known_hosts {path} cannot be read: {reason}") from None
        signature = None if info is None else _signature(info)
        if cached is not None and cached.signature == signature:
            return cached
        loaded = _Loaded(None, KnownHostsIndex(path)) if info is None else self._read(path, cached)
        self._files[path] = loaded
        return loaded

    def _read(self, path: str, cached: _Loaded | None) -> _Loaded:
        data, info = read_regular_file(path, KNOWN_HOSTS_LIMIT, "known_hosts")
        old = cached if cached is not None and cached.signature is not None else None
        if old is not None and old.size <= len(data) and _digest(data[: old.size]) == old.digest:
            if len(data) == old.size:  # touched, not changed
                return replace(old, signature=_signature(info))
            if old.whole_lines:  # appended to
                self.tail_parses += 1
                old.index.add_text(data[old.size :].decode("utf-8", "replace"))
                return _Loaded(_signature(info), old.index, len(data), _digest(data), data.endswith(b"\n"))
        return self._parse(data, info, path)

    def _parse(self, data: bytes, info: os.stat_result, path: str) -> _Loaded:
        self.full_parses += 1
        index = KnownHostsIndex(path)
        index.add_text(data.decode("utf-8", "replace"))
        if index.skipped:
            first = index.skipped[0]
            log.debug("%s: %d lines skipped (line %d: %s)", path, len(index.skipped), first.lineno, first.reason)
        return _Loaded(_signature(info), index, len(data), _digest(data), data.endswith(b"\n") or not data)


KNOWN_HOSTS_FILES = KnownHostsFiles()
"""Every known_hosts file this process has read, indexed."""


class KnownHosts:
    """The known_hosts files for one connection: one to read and write, others read-only.

    >>> KnownHosts("/nonexistent/known_hosts").known_key_types("[127.0.0.1]:2222")
    []
    """

    def __init__(self, path: str, extra_paths: Sequence[str] = (), files: KnownHostsFiles | None = None) -> None:
        self.path = path
        self.extra_paths = tuple(extra_paths)
        self.files = KNOWN_HOSTS_FILES if files is None else files

    def entries_for(self, name: str) -> list[KnownHostsLine]:
        """Every usable line (of every file) that names ``name``; HostKeyError for an unusable file."""
        found: list[KnownHostsLine] = []
        for path in (self.path, *self.extra_paths):
            found.extend(self._index(path).lookup(name))
        return found

    def _index(self, path: str) -> KnownHostsIndex:
        try:
            return self.files.index(path)
        except LocalFileError as exc:
            raise HostKeyError(str(exc)) from None

    def known_key_types(self, name: str) -> list[str]:
        """Key types recorded for ``name``, to prefer in the key exchange (as OpenSSH does)."""
        types: list[str] = []
        for entry in self.entries_for(name):
            if entry.marker is None and entry.key_type not in types:
                types.append(entry.key_type)
        return types

    def verify(self, name: str, key: paramiko.PKey, policy: HostKeyPolicy) -> bool:
        """Accept ``key`` for ``name`` or raise :class:`HostKeyError`.

        Returns True when the key was newly added (``accept-new``).
        """
        entries = self.entries_for(name)
        blob = key.asbytes()
        for entry in entries:
            if entry.marker == REVOKED and entry.blob == blob:
                raise HostKeyError(f"host key for {name} is marked @revoked in {entry.where}; refusing to connect")
        plain = [e for e in entries if e.marker is None]
        if any(e.blob == blob for e in plain):
            return False
        if plain:
            first = plain[0]
            raise HostKeyChanged(
                f"host key for {name} has CHANGED (known_hosts {first.path} line {first.lineno}) — possible "
                f"man-in-the-middle; the server now offers {key.get_name()} {key.fingerprint}. If the host was "
                f"reinstalled, remove the old key with: ssh-keygen -R '{name}' -f {first.path}"
            )
        if policy != "accept-new":
            raise HostKeyUnknown(
                f"host key for {name} is not in {self.path} (host_key_policy: {policy}); verify it and add it "
                f"with ssh-keygen, e.g. ssh-keyscan -p PORT HOST >> {self.path}, or set host_key_policy: accept-new"
            )
        return self._append(name, key)

    def _append(self, name: str, key: paramiko.PKey) -> bool:
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with _write_lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                # Another connection (or process) may have added it meanwhile.
                blob = key.asbytes()
                current = [e for e in self._index(self.path).lookup(name) if e.marker is None]
                if any(e.blob == blob for e in current):
                    return False
                if current:
                    raise HostKeyChanged(
                        f"host key for {name} has CHANGED (known_hosts {current[0].where}) — possible man-in-the-middle"
                    )
                if handle.tell() > 0 and not _ends_with_newline(self.path):
                    handle.write("\n")
                handle.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        return True


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
