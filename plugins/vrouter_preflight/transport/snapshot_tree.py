"""Reading a captured tree laid out like ``/``: symlinks kept inside it, every read bounded.

A live path (``/proc/buddyinfo``) is looked up under the tree's root. Symlinks
are followed as if the tree were ``/``: an absolute target starts again at the
tree's root and ``..`` stops at it, so no read ever reaches this machine's own
files. Only regular files are opened, never more than :data:`MAX_FILE_BYTES`
of them (the live capture's per-file limit): a FIFO, a device, a directory or a
symlink loop where a file is expected is ``not-regular``, a bigger file
``too-large``, with the live capture's words wherever it is met (a plain path or
a glob's match), and a FIFO is never opened, so a read never blocks.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO

from vrouter_preflight.capture import FILE_BYTE_LIMIT, Capture

#: The most one snapshot file may hold (bytes): the live capture's per-file limit.
MAX_FILE_BYTES = FILE_BYTE_LIMIT

_MAX_SYMLINKS = 40  # as Linux (MAXSYMLINKS)

#: The kinds of entry that are not regular files, in the live capture's words.
_NOT_REGULAR = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "device"),
    (stat.S_ISBLK, "device"),
    (stat.S_ISSOCK, "socket"),
)
SYMLINK_LOOP = "symlink loop"


def too_large_reason(size: int, limit: int = MAX_FILE_BYTES) -> str:
    """The ``too-large`` reason for a file over the per-file limit: the live capture's words, then its size.

    >>> too_large_reason(104857600)
    'more than 4194304 bytes: 104857600 bytes'
    """
    return f"more than {limit} bytes: {size} bytes"


def file_kind(mode: int) -> str | None:
    """What an entry of ``mode`` is when it is not a regular file (None for a regular file).

    >>> file_kind(stat.S_IFIFO | 0o644), file_kind(stat.S_IFREG | 0o644)
    ('fifo', None)
    """
    for test, kind in _NOT_REGULAR:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "device"


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
    ('ro quiet\\n', 'fifo', 'absent')
    """

    def __init__(
        self, root: Path, *, max_file_bytes: int = MAX_FILE_BYTES, oversized: Mapping[str, int] | None = None
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        #: Real paths of files left unwritten for their size (an unpacked archive's), with that size.
        self.oversized = dict(oversized or {})
        self._links: dict[str, str | None] = {}

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
        pending = [part for part in reversed(path.split("/")) if part]  # a stack: the next part is last
        walked = [str(self.root)]  # the real path after each part resolved so far
        hops = 0
        while pending:
            part = pending.pop()
            if part == ".":
                continue
            if part == "..":
                if len(walked) > 1:
                    walked.pop()
                continue
            candidate = os.path.join(walked[-1], part)
            target = self._link_target(candidate)
            if target is not None:
                hops += 1
                if hops > _MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                if target.startswith("/"):
                    del walked[1:]
                pending.extend(p for p in reversed(target.split("/")) if p)
                continue
            walked.append(candidate)
        return walked[-1]

    def _link_target(self, real: str) -> str | None:
        """What the entry ``real`` links to, None when it is not a symlink (or not there); asked once per
        entry: a capture resolves the same directories for every file under them."""
        try:
            return self._links[real]
        except KeyError:
            pass
        target = os.readlink(real) if os.path.islink(real) else None
        self._links[real] = target
        return target

    def read(self, path: str) -> Capture:
        """The capture of the live path ``path``: ok, absent, not-regular, too-large, or unreadable with the reason."""
        try:
            real = self.resolve(path)
            info = os.lstat(real)
        except (FileNotFoundError, NotADirectoryError):
            return Capture(path, "absent")
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return Capture(path, "not-regular", error=SYMLINK_LOOP)
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        refusal = self._refusal(info)
        if refusal is None and real in self.oversized:
            refusal = Capture(path, "too-large", error=too_large_reason(self.oversized[real], self.max_file_bytes))
        if refusal is not None:
            return dataclasses.replace(refusal, path=path)
        try:
            # O_NONBLOCK and O_NOFOLLOW: should the entry turn into a FIFO or a
            # link after the check above, opening it still neither blocks nor leaves the tree.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            return Capture(path, "unreadable", error=exc.strerror or str(exc))
        with os.fdopen(fd, "rb") as handle:
            refusal = self._refusal(os.fstat(handle.fileno()))
            data = b"" if refusal is not None else read_at_most(handle, self.max_file_bytes + 1)
            if len(data) > self.max_file_bytes:  # it grew since: name the size it has now
                size = max(os.fstat(handle.fileno()).st_size, len(data))
                refusal = Capture(path, "too-large", error=too_large_reason(size, self.max_file_bytes))
        if refusal is not None:
            return dataclasses.replace(refusal, path=path)
        return Capture(path, "ok", text=data.decode("utf-8", "replace"))

    def _refusal(self, info: os.stat_result) -> Capture | None:
        """The capture an entry gets without being read (path filled in by the caller), or None to read it."""
        kind = file_kind(info.st_mode)
        if kind is not None:
            return Capture("", "not-regular", error=kind)
        if info.st_size > self.max_file_bytes:
            return Capture("", "too-large", error=too_large_reason(info.st_size, self.max_file_bytes))
        return None

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
