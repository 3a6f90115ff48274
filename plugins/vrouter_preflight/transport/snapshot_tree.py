"""Reading a captured tree laid out like ``/``: symlinks kept inside it, every read bounded.

A live path (``/proc/buddyinfo``) is looked up under the tree's root. Symlinks
are followed as if the tree were ``/``: an absolute target starts again at the
tree's root and ``..`` stops at it, so no read ever reaches this machine's own
files. Only regular files are opened, never more than :data:`MAX_FILE_BYTES`
of them: a FIFO, a device, a directory or a symlink loop where a file is
expected is ``unreadable`` with the same words wherever it is met (a plain
path or a glob's match), and a FIFO is never opened, so a read never blocks.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO

from vrouter_preflight.capture import Capture

#: The most one snapshot file may hold (bytes). The largest kernel file the
#: suite reads, /proc/zoneinfo of a 1024-CPU, 8-node machine, is about 4 MiB.
MAX_FILE_BYTES = 8 * 1024 * 1024

_MAX_SYMLINKS = 40  # as Linux (MAXSYMLINKS)

_NOT_REGULAR = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def not_regular_reason(kind: str) -> str:
    """The one wording for a tree entry that stands where a file is expected but is not one.

    >>> not_regular_reason("FIFO")
    'not a regular file: FIFO'
    """
    return f"not a regular file: {kind}"


def too_large_reason(size: int, limit: int = MAX_FILE_BYTES) -> str:
    """The one wording for a file over the per-file limit, naming its size.

    >>> too_large_reason(104857600)
    '104857600 bytes, over the limit of 8388608 bytes per file'
    """
    return f"{size} bytes, over the limit of {limit} bytes per file"


def file_kind(mode: int) -> str | None:
    """What an entry of ``mode`` is when it is not a regular file (None for a regular file).

    >>> file_kind(stat.S_IFIFO | 0o644), file_kind(stat.S_IFREG | 0o644)
    ('FIFO', None)
    """
    for test, kind in _NOT_REGULAR:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "special file"


def read_at_most(handle: BinaryIO, limit: int, chunk: int = 65536) -> bytes:
    """At most ``limit`` bytes of ``handle``, read in chunks (memory follows the file, not the limit).

    >>> import io
    >>> read_at_most(io.BytesIO(b"abcdef"), 4), read_at_most(io.BytesIO(b"ab"), 4)
    (b'abcd', b'ab')
    """
    parts: list[bytes] = []
    total = 0
    while total < limit:
        part = handle.read(min(chunk, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


class SnapshotTree:
    """Reads live paths from the tree at ``root``.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "proc").mkdir()
    >>> _ = (root / "proc" / "cmdline").write_text("ro quiet\\n")
    >>> os.mkfifo(root / "proc" / "buddyinfo")
    >>> tree = SnapshotTree(root)
    >>> tree.read("/proc/cmdline").text, tree.read("/proc/buddyinfo").error, tree.read("/proc/zoneinfo").status
    ('ro quiet\\n', 'not a regular file: FIFO', 'absent')
    """

    def __init__(
        self, root: Path, *, max_file_bytes: int = MAX_FILE_BYTES, oversized: Mapping[str, int] | None = None
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        #: Real paths of files left unwritten for their size (an unpacked archive's), with that size.
        self.oversized = dict(oversized or {})

    def resolve(self, path: str) -> str:
        """The real path in the tree for the live path ``path``; no component of it is a symlink.

        Raises OSError(ELOOP) on a symlink loop.

        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "proc").mkdir()
        >>> (root / "proc" / "mounts").symlink_to("/proc/self/mounts")
        >>> SnapshotTree(root).resolve("/proc/mounts") == f"{root}/proc/self/mounts"
        True
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

    def read(self, path: str) -> Capture:
        """The capture of the live path ``path``: ok, absent, or unreadable with the reason."""
        try:
            real = self.resolve(path)
            info = os.lstat(real)
        except (FileNotFoundError, NotADirectoryError):
            return Capture(path, "absent")
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return Capture(path, "unreadable", error=not_regular_reason("symlink loop"))
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        refused = self._refusal(info) or (
            too_large_reason(self.oversized[real], self.max_file_bytes) if real in self.oversized else ""
        )
        if refused:
            return Capture(path, "unreadable", error=refused)
        try:
            # O_NONBLOCK and O_NOFOLLOW: should the entry turn into a FIFO or a
            # link after the check above, opening it still neither blocks nor leaves the tree.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        with os.fdopen(fd, "rb") as handle:
            refused = self._refusal(os.fstat(handle.fileno()))
            data = b"" if refused else read_at_most(handle, self.max_file_bytes + 1)
            if len(data) > self.max_file_bytes:  # it grew since: name the size it has now
                refused = too_large_reason(max(os.fstat(handle.fileno()).st_size, len(data)), self.max_file_bytes)
        if refused:
            return Capture(path, "unreadable", error=refused)
        return Capture(path, "ok", text=data.decode("utf-8", "replace"))

    def _refusal(self, info: os.stat_result) -> str:
        kind = file_kind(info.st_mode)
        if kind is not None:
            return not_regular_reason(kind)
        if info.st_size > self.max_file_bytes:
            return too_large_reason(info.st_size, self.max_file_bytes)
        return ""

    def glob(self, pattern: str) -> list[str]:
        """Live paths in the tree matching ``pattern``, sorted, as ``sh`` expands it.

        An entry that is there but cannot be followed (a symlink loop) matches,
        so that reading it says why, as for a plain path.
        """
        candidates = [""]
        for part in (p for p in pattern.split("/") if p):
            if not any(ch in part for ch in "*?["):
                candidates = [f"{c}/{part}" for c in candidates]
                continue
            expanded: list[str] = []
            for candidate in candidates:
                try:
                    names = os.listdir(self.resolve(candidate or "/"))
                except OSError:
                    continue
                expanded.extend(
                    f"{candidate}/{name}"
                    for name in names
                    if fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))
                )
            candidates = expanded
        return sorted(c for c in candidates if self.exists(c))

    def exists(self, path: str) -> bool:
        """True when ``path`` names an entry of the tree (a symlink loop counts).

        >>> import tempfile
        >>> SnapshotTree(Path(tempfile.mkdtemp())).exists("/proc/buddyinfo")
        False
        """
        try:
            os.lstat(self.resolve(path))
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError:
            return True
        return True

    def is_dir(self, path: str) -> bool:
        """True when ``path`` is a directory of the tree (links followed inside it).

        >>> import tempfile
        >>> SnapshotTree(Path(tempfile.mkdtemp())).is_dir("/")
        True
        """
        try:
            return stat.S_ISDIR(os.lstat(self.resolve(path)).st_mode)
        except OSError:
            return False
