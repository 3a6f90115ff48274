"""The snapshot transport: facts read from a captured tree instead of a live host.

The tree at ``spec.path`` is laid out like ``/`` (``proc/``, ``sys/``,
``etc/`` at its root); an unpacked sosreport works. Capture keys are the
paths as on the live host (``/proc/buddyinfo``), so a snapshot and a live host
give the same records. Symlinks in the tree are followed as if the tree were
``/``: an absolute link target never reaches this machine's own files.

Nothing runs: :meth:`SnapshotTransport.run` raises
:class:`~vrouter_preflight.errors.NotLiveError`.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from vrouter_preflight.capture import CPUINFO_KEY, PAGE_SIZE_KEY, Capture, FactSource
from vrouter_preflight.errors import HostUnreachable, NotLiveError
from vrouter_preflight.transport.base import CommandResult, Transport

_MAX_SYMLINKS = 40  # as Linux (MAXSYMLINKS)


class SnapshotTransport(Transport):
    """Reads fact files from a captured tree; read-only, runs no command.

    >>> import tempfile, pathlib
    >>> from vrouter_preflight.inventory import HostSpec
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "proc").mkdir()
    >>> _ = (root / "proc" / "cmdline").write_text("ro quiet\\n")
    >>> t = SnapshotTransport(HostSpec(name="c7", transport="snapshot", path=str(root)))
    >>> caps = t.capture([FactSource("/proc/cmdline"), FactSource("/proc/buddyinfo")])
    >>> caps["/proc/cmdline"].text, caps["/proc/buddyinfo"].status
    ('ro quiet\\n', 'absent')
    """

    @property
    def root(self) -> Path:
        """The tree that stands for ``/``."""
        return Path(self.spec.path or "")

    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Always raises NotLiveError: a snapshot cannot run commands.

        >>> from vrouter_preflight.inventory import HostSpec
        >>> SnapshotTransport(HostSpec(name="c7", transport="snapshot", path="/cap/c7")).run("id -u")
        Traceback (most recent call last):
        ...
        vrouter_preflight.errors.NotLiveError: c7 (/cap/c7): is a snapshot: `id -u` needs a live host
        """
        raise NotLiveError(self.spec.name, self.address, f"is a snapshot: `{_short(command)}` needs a live host")

    def capture(self, sources: Sequence[FactSource]) -> dict[str, Capture]:
        """Read every source from the tree; keys are the live host's absolute paths.

        A missing file (or a glob with no match, keyed by the pattern) is
        ``absent``; a file that exists but cannot be read is ``unreadable``
        with the OS error. Of the command sources, ``/proc/cpuinfo`` is read
        from the tree (first processor block, as the live command does) and
        the page size comes from the inventory's ``page_size`` (absent when
        not set); any other command is ``unreadable``.
        """
        self._check_root()
        captures: dict[str, Capture] = {}
        for source in sources:
            if source.command is not None:
                captures[source.key] = self._command_source(source)
            elif source.is_glob:
                matches = self._glob(source.pattern)
                if not matches:
                    captures[source.pattern] = Capture(source.pattern, "absent")
                for path in matches:
                    captures[path] = self._read(path)
            else:
                captures[source.pattern] = self._read(source.pattern)
        return captures

    # ------------------------------------------------------------------

    def _check_root(self) -> None:
        root = self.root
        if not self.spec.path or not root.is_dir():
            raise HostUnreachable(self.spec.name, self.address, "snapshot directory does not exist")
        if not any((root / top).is_dir() for top in ("proc", "sys")):
            raise HostUnreachable(
                self.spec.name,
                self.address,
                "snapshot has neither proc/ nor sys/ at its top: expected a tree laid out like / "
                "(point 'path' at the unpacked sosreport directory itself)",
            )

    def _command_source(self, source: FactSource) -> Capture:
        key = source.key
        if key == PAGE_SIZE_KEY:
            if self.spec.page_size is None:
                return Capture(key, "absent")
            return Capture(key, "ok", text=f"{self.spec.page_size}\n")  # as `getconf PAGESIZE` prints it
        if key == CPUINFO_KEY:
            capture = self._read(key)
            return Capture(key, "ok", text=first_block(capture.text)) if capture.ok else capture
        return Capture(key, "unreadable", error=f"`{_short(source.command or '')}` needs a live host")

    def _resolve(self, path: str) -> str:
        """The real path in the tree for the live path ``path``.

        Symlinks are followed inside the tree: an absolute target starts again
        at the tree's root and ``..`` stops at it. Raises OSError(ELOOP) on a
        symlink loop.
        """
        root = str(self.root)
        pending = [part for part in path.split("/") if part]
        resolved: list[str] = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = os.path.join(root, *resolved, part)
            if os.path.islink(candidate):
                hops += 1
                if hops > _MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                target = os.readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            resolved.append(part)
        return os.path.join(root, *resolved)

    def _read(self, path: str) -> Capture:
        try:
            real = self._resolve(path)
            info = os.stat(real)
        except (FileNotFoundError, NotADirectoryError):
            return Capture(path, "absent")
        except OSError as exc:
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        if stat.S_ISDIR(info.st_mode):
            return Capture(path, "unreadable", error=os.strerror(errno.EISDIR))
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or device in a tree would block or never end; never open it.
            return Capture(path, "unreadable", error="not a regular file")
        try:
            with open(real, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        return Capture(path, "ok", text=data.decode("utf-8", "replace"))

    def _glob(self, pattern: str) -> list[str]:
        """Live paths in the tree matching ``pattern``, sorted, as ``sh`` expands it."""
        candidates = [""]
        for part in (p for p in pattern.split("/") if p):
            if not any(ch in part for ch in "*?["):
                candidates = [f"{c}/{part}" for c in candidates]
                continue
            expanded: list[str] = []
            for candidate in candidates:
                try:
                    names = os.listdir(self._resolve(candidate or "/"))
                except OSError:
                    continue
                expanded.extend(
                    f"{candidate}/{name}"
                    for name in names
                    if fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))
                )
            candidates = expanded
        return sorted(c for c in candidates if self._exists(c))

    def _exists(self, path: str) -> bool:
        try:
            return os.path.exists(self._resolve(path))
        except OSError:
            return False


def first_block(cpuinfo: str) -> str:
    """The first processor's block of /proc/cpuinfo, as ``sed '/^$/q'`` prints it.

    >>> first_block("processor\\t: 0\\nflags\\t: fpu\\n\\nprocessor\\t: 1\\n")
    'processor\\t: 0\\nflags\\t: fpu\\n\\n'
    """
    if cpuinfo.startswith("\n"):
        return "\n"
    end = cpuinfo.find("\n\n")
    return cpuinfo if end < 0 else cpuinfo[: end + 2]


def _short(command: str) -> str:
    """The command's first line, cut to 80 characters, for messages."""
    lines = command.strip().splitlines() or [""]
    if len(lines) > 1 or len(lines[0]) > 80:
        return lines[0][:77] + "..."
    return lines[0]
