"""Unpacking a sosreport tarball into a temporary directory, refusing any member that could leave it.

``sos report`` writes ``sosreport-<host>-<date>-<id>.tar.xz`` (``.tar.gz``
with ``-z gzip``): one top directory laid out like ``/``. Every member is
checked before anything is written, on every Python the suite supports (the
``data`` extraction filter, where the running Python has it, is applied as
well): an absolute path, ``..`` in a path, a member under a symlink, a
device, FIFO or other special member, and a symlink or hardlink pointing out
of the archive are refused with one message naming the member. The archive
may hold at most :data:`MAX_ARCHIVE_BYTES` in :data:`MAX_ARCHIVE_MEMBERS`
members; a file over the per-file read limit is not written (it is recorded
with its size, so reading it says so).
"""

from __future__ import annotations

import copy
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vrouter_preflight.inventory.local_paths import TAR_ERRORS, archive_error_line, unreadable_archive
from vrouter_preflight.transport.archive_paths import resolve_in_archive, select_members
from vrouter_preflight.transport.snapshot_tree import MAX_FILE_BYTES

#: The most an archive may unpack to, counting every member (bytes).
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
#: The most members an archive may hold (a full sosreport of a large compute has some tens of thousands).
MAX_ARCHIVE_MEMBERS = 200_000

_SHOWN_NAME = 120
#: What the 'data' extraction filter raises, on the Pythons that have it.
_FILTER_ERRORS: tuple[type[Exception], ...] = (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()


class ArchiveRefused(Exception):
    """The file is not a tarball the suite unpacks, or one of its members is unsafe.

    >>> str(ArchiveRefused("/x.tar.xz", "member 'a/../b': '..' in its path"))
    "/x.tar.xz: member 'a/../b': '..' in its path"
    """

    def __init__(self, archive: str, cause: str) -> None:
        super().__init__(f"{archive}: {cause}")
        self.archive = archive
        self.cause = cause


@dataclass(frozen=True)
class UnpackedArchive:
    """Where a tarball was unpacked: the tree that stands for ``/``, and the files left unwritten.

    ``oversized`` maps the real path of every regular file over the per-file
    limit (written empty) to its size in the archive.
    """

    root: Path
    oversized: dict[str, int] = field(default_factory=dict)


def shown(name: str) -> str:
    """A member name for messages: quoted, control characters escaped, at most 120 characters.

    >>> shown("sosreport-c7/proc/\\x1b[2Jbuddyinfo")
    "'sosreport-c7/proc/\\\\x1b[2Jbuddyinfo'"
    """
    text = repr(name)
    return text if len(text) <= _SHOWN_NAME else text[: _SHOWN_NAME - 4] + "...'"


def member_problem(member: tarfile.TarInfo, symlinks: dict[str, str]) -> str | None:
    """Why ``member`` must not be unpacked (None when it may), given the symlinks (name -> target) before it.

    >>> info = tarfile.TarInfo("sosreport-c7/proc/mounts")
    >>> info.type, info.linkname = tarfile.SYMTYPE, "../../../etc/shadow"
    >>> member_problem(info, {})
    "member 'sosreport-c7/proc/mounts': symlink to '../../../etc/shadow' points out of the archive"
    """
    name = member.name
    what = f"member {shown(name)}"
    if name.startswith("/") or not name:
        return f"{what}: absolute or empty path"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return f"{what}: '..' in its path"
    normal = "/".join(parts)
    if normal in symlinks:  # writing it would follow the link
        return f"{what}: replaces the symlink of the same name"
    for depth in range(1, len(parts)):
        if "/".join(parts[:depth]) in symlinks:
            return f"{what}: lies under the symlink {shown('/'.join(parts[:depth]))}"
    if member.issym():
        target = member.linkname
        if target.startswith("/"):
            return f"{what}: symlink to the absolute path {shown(target)}"
        if resolve_in_archive(posixpath.join(posixpath.dirname(normal), target), symlinks) is None:
            return f"{what}: symlink to {shown(target)} points out of the archive"
        symlinks[normal] = target
        return None
    if member.islnk():
        target = member.linkname
        if target.startswith("/") or ".." in target.split("/"):
            return f"{what}: hardlink to {shown(target)} points out of the archive"
        if resolve_in_archive(target, symlinks) != posixpath.normpath(target):
            return f"{what}: hardlink to {shown(target)} goes through a symlink"
        return None
    if member.isreg() or member.isdir():
        return None
    kinds = {
        tarfile.FIFOTYPE: "FIFO",
        tarfile.CHRTYPE: "character device",
        tarfile.BLKTYPE: "block device",
    }
    return f"{what}: is a {kinds.get(member.type, f'special member (type {member.type!r})')}"


def _checked_members(
    tar: tarfile.TarFile, archive: str, dest: Path, max_file_bytes: int, oversized: dict[str, int]
) -> Iterator[tarfile.TarInfo]:
    symlinks: dict[str, str] = {}
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > MAX_ARCHIVE_MEMBERS:
            raise ArchiveRefused(archive, f"holds more than {MAX_ARCHIVE_MEMBERS} members")
        problem = member_problem(member, symlinks)
        if problem is not None:
            raise ArchiveRefused(archive, problem + ": refused")
        if not member.isreg():
            yield member
            continue
        total += member.size
        if total > MAX_ARCHIVE_BYTES:
            raise ArchiveRefused(archive, f"unpacks to more than {MAX_ARCHIVE_BYTES} bytes (at {shown(member.name)})")
        if member.size > max_file_bytes:
            # Written empty; reading it reports the size it has in the archive.
            oversized[os.path.join(dest, posixpath.normpath(member.name))] = member.size
            member = copy.copy(member)
            member.size = 0
        yield member


def _unpack(archive: Path, dest: Path, max_file_bytes: int, live_prefixes: Sequence[str] | None) -> dict[str, int]:
    shown_path = str(archive)
    oversized: dict[str, int] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            # Every member is checked before anything is written; then only what a capture can reach is.
            members = list(_checked_members(tar, shown_path, dest, max_file_bytes, oversized))
            chosen = members if live_prefixes is None else select_members(members, live_prefixes)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=chosen, filter="data")
            else:  # Python without extraction filters: the checks above are the guard
                tar.extractall(dest, members=chosen)
    except ArchiveRefused:
        raise
    except _FILTER_ERRORS as exc:  # the 'data' filter saw what the checks above did not
        member = getattr(exc, "tarinfo", None)
        name = shown(member.name) if member is not None else "?"
        raise ArchiveRefused(shown_path, f"member {name}: {archive_error_line(exc)}: refused") from None
    except TAR_ERRORS as exc:
        raise ArchiveRefused(shown_path, unreadable_archive(archive.name, exc)) from None
    except OSError as exc:
        raise ArchiveRefused(shown_path, f"cannot unpack: {exc.strerror or exc}") from None
    return oversized


def remove_tree(path: Path) -> None:
    """Remove ``path`` and everything under it, read-only directories too (sosreports hold 0555 ``proc/``).

    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "proc").mkdir(mode=0o555)
    >>> remove_tree(root); root.exists()
    False
    """
    for directory, _subdirs, _files in os.walk(path):
        os.chmod(directory, 0o700)
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def unpacked_archive(
    archive: Path, *, live_prefixes: Sequence[str] | None = None, max_file_bytes: int = MAX_FILE_BYTES
) -> Iterator[UnpackedArchive]:
    """Unpack ``archive`` into a new temporary directory, removed on leaving (on failure too).

    The tree is the archive's one top directory (``sosreport-…/``), or the
    temporary directory itself when the archive has several top entries.
    With ``live_prefixes`` (``/proc/buddyinfo``, ``/sys/devices/system/node/node``)
    only the members a capture of those paths can reach are written
    (:func:`~vrouter_preflight.transport.archive_paths.select_members`).

    >>> import io
    >>> tarball = Path(tempfile.mkdtemp()) / "sosreport-c7.tar.xz"
    >>> with tarfile.open(tarball, "w:xz") as tar:
    ...     info = tarfile.TarInfo("sosreport-c7/proc/cmdline"); info.size = 3
    ...     tar.addfile(info, io.BytesIO(b"ro\\n"))
    >>> with unpacked_archive(tarball) as unpacked:
    ...     (unpacked.root / "proc" / "cmdline").read_text(), unpacked.root.name
    ('ro\\n', 'sosreport-c7')
    >>> unpacked.root.exists()
    False
    """
    workdir = Path(tempfile.mkdtemp(prefix="vrpf-sosreport-"))
    try:
        oversized = _unpack(archive, workdir, max_file_bytes, live_prefixes)
        entries = list(workdir.iterdir())
        only = entries[0] if len(entries) == 1 else None
        root = only if only is not None and only.is_dir() and not only.is_symlink() else workdir
        yield UnpackedArchive(root, oversized)
    finally:
        remove_tree(workdir)
