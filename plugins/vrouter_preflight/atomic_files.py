"""Writing files that pipelines and collectors read: atomically, so a reader never sees half a file."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_json_atomic(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON atomically: a temporary file in the same directory, fsync, then a rename.

    Parent directories are created. A reader never sees a half-written file,
    and a value JSON cannot represent (NaN, a set) raises before anything is
    replaced. Returns the path written.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_json_atomic(Path(d, "reports", "summary.json"), {"verdict": "pass", "hosts": {}})
    ...     try:
    ...         write_json_atomic(path, {"verdict": float("nan")})
    ...     except ValueError:
    ...         print("NaN refused")
    ...     print(path.read_text(encoding="utf-8"), end="")
    ...     os.listdir(path.parent)  # no temporary file left behind
    NaN refused
    {
      "verdict": "pass",
      "hosts": {}
    }
    ['summary.json']
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) atomically: a temporary file in the same directory, fsync, then a rename.

    Parent directories are created; the file is world-readable (0644), as
    node_exporter's textfile collector and CI artifact uploads expect. A path
    that exists and is not a regular file (``/dev/null``, a FIFO a collector
    reads) is written in place: a rename would replace the device or pipe with
    a file (as root, ``/dev/null`` itself).

    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_text_atomic(Path(d, "m.prom"), "up 1\\n").read_text(encoding="utf-8")
    'up 1\\n'
    >>> write_text_atomic(os.devnull, "discarded\\n"), stat.S_ISCHR(os.stat(os.devnull).st_mode)
    (PosixPath('/dev/null'), True)
    """
    target = Path(path)
    if _exists_and_not_a_regular_file(target):
        with open(target, "w", encoding="utf-8") as stream:
            stream.write(text)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _exists_and_not_a_regular_file(path: Path) -> bool:
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
