"""Inventory paths on the machine running the suite: resolved against the inventory file, then looked at.

``~`` is expanded and a relative path is relative to the inventory file's
directory. A key file that exists must be a regular file (``/dev/zero`` would
be read until the memory runs out, a FIFO would hang the connection), or
``/dev/null``, which reads as empty; a snapshot must be a captured tree, never
this machine's own root, or a tar archive (a sosreport tarball) whose first
member reads (:func:`tar_archive_problem`; the snapshot transport checks every
member when it unpacks it).

>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> KEY_FILE.resolve("id_ed25519", base) == str(base / "id_ed25519")    # absent: the transport says so later
True
>>> KEY_FILE.resolve("/dev/null", base)
'/dev/null'
>>> KEY_FILE.resolve("/dev/zero", base)
Traceback (most recent call last):
...
vrouter_preflight.keys.checks.Invalid: /dev/zero is a character device, not a regular file
>>> CAPTURE_TREE.resolve("../../../../../../../../..", base)
Traceback (most recent call last):
...
vrouter_preflight.keys.checks.Invalid: / is this machine's own root, not a captured tree (transport: local checks \
this machine)
"""

from __future__ import annotations

import errno
import lzma
import os
import stat
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

from vrouter_preflight.keys.checks import Invalid, Text

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def describe_kind(mode: int) -> str:
    """What a non-regular file is, in words (for messages about local files).

    >>> describe_kind(stat.S_IFDIR), describe_kind(stat.S_IFIFO), describe_kind(stat.S_IFCHR)
    ('a directory', 'a FIFO (named pipe)', 'a character device')
    """
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _regular_file_if_present(path: str) -> None:
    """Refuse a path that exists and is not a regular file (symlinks followed); ``/dev/null`` reads as empty."""
    if path == os.devnull:  # ssh_config: /dev/null and known_hosts: /dev/null, as with OpenSSH's -F and -o
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Invalid(f"{path} is a symlink loop, not a regular file") from None
        return  # absent or not reachable from here: the transport reports it when it reads the file
    if not stat.S_ISREG(mode):
        raise Invalid(f"{path} is {describe_kind(mode)}, not a regular file")


#: What reading a tar archive raises when the file is not one, or is cut short (bz2 raises OSError).
TAR_ERRORS: tuple[type[Exception], ...] = (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error)


def archive_error_line(exc: BaseException) -> str:
    """The first line of a tar reading error, at most 200 characters (tarfile lists every method it tried).

    >>> archive_error_line(tarfile.ReadError("file could not be opened successfully:\\n- method gz: ..."))
    'neither plain tar nor gzip, bzip2 or xz compressed'
    """
    line = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
    if line == "file could not be opened successfully":
        return "neither plain tar nor gzip, bzip2 or xz compressed"
    return line if len(line) <= 200 else line[:197] + "..."


def unreadable_archive(name: str, exc: BaseException) -> str:
    """Why a file is not a tarball the suite reads: ``not a readable tar archive: …`` (a ``.gpg`` one: decrypt it).

    >>> unreadable_archive("sosreport-c7.tar.xz.gpg", tarfile.ReadError("bad header"))
    'not a readable tar archive (an encrypted sosreport: decrypt it with gpg first): bad header'
    """
    hint = " (an encrypted sosreport: decrypt it with gpg first)" if name.endswith(".gpg") else ""
    return f"not a readable tar archive{hint}: {archive_error_line(exc)}"


def tar_archive_problem(path: str) -> str | None:
    """Why the file at ``path`` is not a tar archive (plain, gzip, bzip2 or xz), or None when it is one.

    Cheap: the archive is opened and its first member read, nothing more.

    >>> import io, tempfile
    >>> directory = tempfile.mkdtemp()
    >>> tarball = os.path.join(directory, "sosreport-c7.tar.xz")
    >>> with tarfile.open(tarball, "w:xz") as tar:
    ...     tar.addfile(tarfile.TarInfo("sosreport-c7/version.txt"), io.BytesIO(b""))
    >>> tar_archive_problem(tarball) is None
    True
    >>> with open(os.path.join(directory, "notes.tar.xz"), "w") as notes:
    ...     _ = notes.write("not a tarball")
    >>> tar_archive_problem(os.path.join(directory, "notes.tar.xz"))
    'not a readable tar archive: neither plain tar nor gzip, bzip2 or xz compressed'
    """
    try:
        with tarfile.open(path, "r:*") as tar:
            if tar.next() is None:
                return "not a readable tar archive: it holds no member"
    except TAR_ERRORS as exc:
        return unreadable_archive(path, exc)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    return None


def _captured_tree(path: str) -> None:
    """Refuse a snapshot path that is absent, a file that is not a tar archive (a sosreport tarball), neither a
    directory nor a file, or this machine's live root; the snapshot transport checks a tarball's members when
    it unpacks it."""
    if not os.path.exists(path):
        raise Invalid(f"{path} does not exist")
    if os.path.isfile(path):
        problem = tar_archive_problem(path)
        if problem is not None:
            raise Invalid(f"{path} is {problem}" if problem.startswith("not ") else f"{path} {problem}")
        return
    if not os.path.isdir(path):
        raise Invalid(f"{path} is {describe_kind(os.stat(path).st_mode)}, not a captured tree or a sosreport tarball")
    if os.path.realpath(path) == os.sep:
        what = "this machine's own root"
    else:
        live = next((name for name in ("proc", "sys") if _same(os.path.join(path, name), os.sep + name)), None)
        if live is None:
            return
        what = f"a tree whose {live}/ is this machine's live /{live}"
    raise Invalid(f"{path} is {what}, not a captured tree (transport: local checks this machine)")


def _same(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


class LocalPath(Text):
    """A path on this machine: :meth:`resolve` makes it absolute and applies ``inspect``.

    >>> LocalPath("a file path", _regular_file_if_present).expected
    'a file path'
    """

    def __init__(self, expected: str, inspect: Callable[[str], None]) -> None:
        super().__init__("a file path")
        self.expected = expected
        self._inspect = inspect

    def resolve(self, text: str, base: Path) -> str:
        """``text`` (already checked) with ``~`` expanded, made absolute against ``base``, and inspected.

        >>> CAPTURE_TREE.resolve("~", Path("/")) == os.path.expanduser("~")
        True
        """
        path = os.path.normpath(os.path.join(base, os.path.expanduser(text)))
        self._inspect(path)
        return path


KEY_FILE = LocalPath("a file path (a regular file when it exists, or /dev/null)", _regular_file_if_present)
"""``identity_file``, ``known_hosts``, ``ssh_config``."""
CAPTURE_TREE = LocalPath(
    "a directory holding a captured tree (not this machine's root), or a sosreport tarball", _captured_tree
)
"""A snapshot host's ``path``."""
