"""Checking an SSH server's host key against OpenSSH known_hosts files.

Policies (inventory ``host_key_policy``):

* ``strict``: the key must already be in a known_hosts file.
* ``accept-new``: an unknown host's key is appended to the known_hosts file;
  a host whose recorded key differs is still rejected (as OpenSSH's
  ``StrictHostKeyChecking accept-new``).

Entries may be plain, wildcard (``*.example.com``, ``!bad``) or hashed
(``|1|salt|hash``, ``HashKnownHosts yes``). ``@revoked`` entries reject the
key; ``@cert-authority`` entries are ignored (no host certificates here).
New entries are written unhashed, one ``name type base64`` line each.
"""

from __future__ import annotations

import binascii
import fcntl
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import paramiko

from vrouter_preflight.inventory import HostKeyPolicy

_write_lock = threading.Lock()


class HostKeyError(Exception):
    """The server's host key is not acceptable; the message says why and what to do."""


class HostKeyUnknown(HostKeyError):
    """No entry for the host (strict policy)."""


class HostKeyChanged(HostKeyError):
    """An entry exists for the host but holds another key."""


@dataclass(frozen=True)
class KnownEntry:
    """One usable known_hosts line."""

    path: str
    lineno: int
    patterns: tuple[str, ...]
    key_type: str
    key: paramiko.PKey
    marker: str | None = None

    def matches(self, name: str) -> bool:
        """True when ``name`` (``host`` or ``[host]:port``) is covered by this line.

        >>> e = KnownEntry("f", 1, ("*.lab", "!bad.lab"), "t", None)  # type: ignore[arg-type]
        >>> e.matches("c0.lab"), e.matches("bad.lab"), e.matches("c0.prod")
        (True, False, False)
        """
        name = name.lower()
        matched = False
        for pattern in self.patterns:
            if pattern.startswith("|1|"):
                try:
                    if paramiko.HostKeys.hash_host(name, pattern) == pattern:
                        matched = True
                except (binascii.Error, AssertionError, IndexError, ValueError):
                    continue
            elif pattern.startswith("!"):
                if _glob_match(name, pattern[1:]):
                    return False
            elif _glob_match(name, pattern):
                matched = True
        return matched


def _glob_match(name: str, pattern: str) -> bool:
    """OpenSSH host pattern match: only ``*`` and ``?`` are special (``[host]:port`` is literal).

    >>> _glob_match("[127.0.0.1]:2222", "[127.0.0.1]:2222"), _glob_match("c1.lab", "c?.LAB")
    (True, True)
    """
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower())
    return re.fullmatch(regex, name.lower()) is not None


def read_known_hosts(path: str) -> list[KnownEntry]:
    """Parse one known_hosts file; a missing file is empty, bad lines are skipped.

    >>> import tempfile
    >>> key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
    >>> lines = ["# lab", f"[127.0.0.1]:2222,c0 {key}", "c1 ssh-rsa not-base64!", f"@revoked old.lab {key}"]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "known_hosts")
    ...     with open(path, "w", encoding="utf-8") as handle:
    ...         _ = handle.write("\\n".join(lines) + "\\n")
    ...     [(e.lineno, e.patterns, e.key_type, e.marker) for e in read_known_hosts(path)]
    [(2, ('[127.0.0.1]:2222', 'c0'), 'ssh-ed25519', None), (4, ('old.lab',), 'ssh-ed25519', '@revoked')]
    >>> read_known_hosts("/nonexistent/known_hosts")
    []
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return []
    entries: list[KnownEntry] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker: str | None = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            continue
        try:
            key = paramiko.PKey.from_type_string(fields[1], binascii.a2b_base64(fields[2]))
        except (binascii.Error, paramiko.SSHException, ValueError, TypeError):
            continue
        entries.append(KnownEntry(path, lineno, tuple(fields[0].split(",")), fields[1], key, marker))
    return entries


class KnownHosts:
    """The known_hosts files for one connection: one to read and write, others read-only.

    >>> KnownHosts("/nonexistent/known_hosts").known_key_types("[127.0.0.1]:2222")
    []
    """

    def __init__(self, path: str, extra_paths: Sequence[str] = ()) -> None:
        self.path = path
        self.extra_paths = tuple(extra_paths)

    def entries_for(self, name: str) -> list[KnownEntry]:
        """Every line (of every file) that covers ``name``."""
        found: list[KnownEntry] = []
        for path in (self.path, *self.extra_paths):
            found.extend(e for e in read_known_hosts(path) if e.matches(name))
        return found

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
            if entry.marker == "@revoked" and entry.key.asbytes() == blob:
                raise HostKeyError(
                    f"host key for {name} is marked @revoked in {entry.path} line {entry.lineno}; refusing to connect"
                )
        plain = [e for e in entries if e.marker is None]
        if any(e.key.asbytes() == blob for e in plain):
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
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                # Another connection may have added it meanwhile.
                blob = key.asbytes()
                current = [e for e in read_known_hosts(self.path) if e.matches(name) and e.marker is None]
                if any(e.key.asbytes() == blob for e in current):
                    return False
                if current:
                    raise HostKeyChanged(
                        f"host key for {name} has CHANGED (known_hosts {self.path} line {current[0].lineno}) — "
                        "possible man-in-the-middle"
                    )
                if handle.tell() > 0 and not _ends_with_newline(self.path):
                    handle.write("\n")
                handle.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        return True


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
