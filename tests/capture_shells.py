"""The shells the capture script must run under, as this machine can run them.

- ``dash`` — Debian's and Ubuntu's ``/bin/sh``;
- ``bash --posix`` — what RHEL's ``/bin/sh`` is (bash 4.2 on RHEL 7);
- ``busybox`` — busybox ``ash`` with ONLY busybox applets on ``PATH`` (a
  directory of links made here), as on a busybox-based host: its ``head``,
  ``awk``, ``gzip``, ``base64``, ``stat``, and no ``getconf``.

Every one is required (CI installs busybox): a missing shell is an error, never a skip.

>>> run_in("dash", "echo $((6 * 7))").stdout
b'42\\n'
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence

from vrouter_preflight.capture import (
    COMPRESS_ABOVE,
    Capture,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)

SHELLS = ("dash", "bash --posix", "busybox")


@functools.cache
def busybox_bin_dir() -> str:
    """A directory holding a link to busybox for each of its applets (made once per process)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox is not installed (Debian/Ubuntu package: busybox)")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    directory = tempfile.mkdtemp(prefix="vrpf-busybox-")
    os.chmod(directory, 0o755)  # tests run it as nobody too
    for applet in applets:
        os.symlink(busybox, os.path.join(directory, applet))
    return directory


def busybox_without(directory: str, applets: Sequence[str]) -> str:
    """``directory`` holding dash plus busybox links for ``applets`` only: a busybox host lacking the rest.

    The shell is dash, not busybox sh: a standalone busybox build (Debian's busybox-static) runs
    its own applets whatever PATH says, so only another shell can take applets away.
    """
    os.symlink(_tool("dash"), os.path.join(directory, "dash"))
    for applet in applets:
        os.symlink(os.path.join(busybox_bin_dir(), applet), os.path.join(directory, applet))
    return directory


def shell_command(shell: str, script: str) -> tuple[list[str], dict[str, str] | None]:
    """The argv (and environment, None for ours) that runs ``script`` under ``shell``."""
    if shell == "dash":
        return ["dash", "-c", script], None
    if shell == "bash --posix":
        return ["bash", "--posix", "-c", script], None
    if shell == "busybox":
        directory = busybox_bin_dir()
        return [os.path.join(directory, "sh"), "-c", script], {"PATH": directory}
    raise ValueError(f"unknown shell {shell!r}")


def run_in(shell: str, script: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """Run ``script`` under ``shell``; stdout and stderr captured as bytes."""
    argv, env = shell_command(shell, script)
    return subprocess.run(argv, env=env, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def run_capture(
    shell: str,
    sources: Sequence[FactSource],
    *,
    compress_above: int = COMPRESS_ABOVE,
    as_nobody: bool = False,
    path: str | None = None,
) -> tuple[dict[str, Capture], bytes]:
    """Run the capture script of ``sources`` under ``shell``: its captures and its raw answer.

    ``as_nobody`` drops to uid 65534 with ``setpriv``; ``path`` replaces ``PATH``
    (to take tools away).
    """
    boundary = new_boundary()
    argv, env = shell_command(shell, build_capture_script(sources, boundary, compress_above=compress_above))
    if path is not None:
        env = {"PATH": path}
    if as_nobody:
        argv = [_tool("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    done = subprocess.run(argv, env=env, capture_output=True, check=False, timeout=60)
    return read_capture_answer(
        done.stdout.decode("utf-8", "replace"), boundary, stderr=done.stderr.decode()
    ), done.stdout


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed")
    return found


def rooted(sources: Sequence[FactSource], root: str) -> list[FactSource]:
    """``sources`` with every file path read below ``root`` (command sources unchanged).

    >>> rooted([FactSource("/proc/x"), FactSource("k", command="true")], "/t")
    [FactSource(pattern='/t/proc/x', command=None), FactSource(pattern='k', command='true')]
    """
    return [source if source.command is not None else FactSource(root + source.pattern) for source in sources]
