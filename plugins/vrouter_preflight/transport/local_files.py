"""Reading the controller's own small files (keys, known_hosts, ssh_config) safely.

An inventory may name any path: a directory, ``/dev/zero`` (endless), a FIFO
(opening it blocks until a writer comes), a file of gigabytes. Each must cost
one clear message, at once: the file is opened without blocking, checked to
be a regular file on the open descriptor (no race with a rename), and read up
to a size limit.
"""

from __future__ import annotations

import os
import stat

from vrouter_preflight.inventory.local_paths import describe_kind

KIB = 1024
MIB = 1024 * KIB


class LocalFileError(Exception):
    """A local file the suite needs cannot be used; the message names it and says why."""


def human_size(size: int) -> str:
    """A byte count as the README writes limits.

    >>> human_size(64 * KIB), human_size(16 * MIB), human_size(1000)
    ('64 KiB', '16 MiB', '1000 bytes')
    """
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} bytes"


def read_local_file(path: str, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``what`` names the file's role in messages ("known_hosts", "key file").
    A missing file raises :class:`FileNotFoundError` (callers decide whether
    that is an error); everything else that makes the file unusable raises
    :class:`LocalFileError`. ``os.devnull`` reads as empty.

    >>> read_local_file(os.devnull, 10, "known_hosts")
    b''
    >>> read_local_file("/", 10, "known_hosts")
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.local_files.LocalFileError: known_hosts / is a directory, not a regular file
    >>> read_local_file("/proc/self/status", 10, "key file")  # /proc reports size 0: the read itself stops
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.local_files.LocalFileError: key file /proc/self/status is more than the 10 bytes allowed
    """
    if path == os.devnull:
        return b""
    return read_regular_file(path, limit, what)[0]


def read_regular_file(path: str, limit: int, what: str) -> tuple[bytes, os.stat_result]:
    """Like :func:`read_local_file`, with the file's status as read (the same open file).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     _ = handle.write(b"line 1\\n"); handle.flush()
    ...     data, info = read_regular_file(handle.name, 100, "known_hosts")
    >>> data, info.st_size
    (b'line 1\\n', 7)
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LocalFileError(f"{what} {path} cannot be opened: {_strerror(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalFileError(f"{what} {path} is {describe_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise LocalFileError(f"{what} {path} is {info.st_size} bytes, more than the {human_size(limit)} allowed")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(MIB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # /proc-like files report size 0 and can still be long
            raise LocalFileError(f"{what} {path} is more than the {human_size(limit)} allowed")
        return b"".join(chunks), info
    except OSError as exc:
        raise LocalFileError(f"{what} {path} cannot be read: {_strerror(exc)}") from None
    finally:
        os.close(fd)


def _strerror(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
