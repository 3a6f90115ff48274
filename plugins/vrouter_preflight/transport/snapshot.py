"""The snapshot transport: facts read from a captured tree instead of a live host.

``spec.path`` is a tree laid out like ``/`` (``proc/``, ``sys/``, ``etc/`` at
its root), an unpacked sosreport, or a sosreport tarball (``.tar.xz``), which
is unpacked into a temporary directory for the capture and removed right
after, whatever happens. Capture keys are the paths as on the live host
(``/proc/buddyinfo``), so a snapshot and a live host give the same records;
a sosreport's ``sysctl -a`` and ``uname -a`` stand in for the ``/proc/sys``
files sos does not copy (:mod:`vrouter_preflight.transport.sosreport`).
Reads stay inside the tree and are bounded
(:class:`~vrouter_preflight.transport.snapshot_tree.SnapshotTree`). A path
that is this machine's own root (``/``, ``../../..``) or holds a mounted
``proc``/``sys`` is refused: it would judge the live machine as a capture.

Nothing runs: :meth:`SnapshotTransport.run` raises
:class:`~vrouter_preflight.errors.NotLiveError`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from pathlib import Path

from vrouter_preflight.capture import CPUINFO_KEY, PAGE_SIZE_KEY, Capture, FactSource
from vrouter_preflight.errors import HostUnreachable, NotLiveError
from vrouter_preflight.transport.base import CommandResult, Transport
from vrouter_preflight.transport.snapshot_tree import SnapshotTree, file_kind
from vrouter_preflight.transport.sos_archive import ArchiveRefused, unpacked_archive
from vrouter_preflight.transport.sosreport import (
    COMMANDS_DIR,
    SYSCTL_FILE,
    UNAME_FILE,
    VERSION_FILE,
    SosreportEvidence,
    fill_from_sosreport,
    looks_like_sosreport,
    parse_sysctl_all,
    plugins_in_version_txt,
    release_from_uname,
)


class SnapshotTransport(Transport):
    """Reads fact files from a captured tree or sosreport; read-only, runs no command.

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
        """The tree (or tarball) that stands for ``/``."""
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
        with the reason. Of the command sources, ``/proc/cpuinfo`` is read
        from the tree (first processor block, as the live command does) and
        the page size comes from the inventory's ``page_size`` (absent when
        not set); any other command is ``unreadable``. In a sosreport, facts
        sos keeps elsewhere are filled in and facts it lacks say so.
        """
        info = self._path_info()
        if stat.S_ISDIR(info.st_mode):
            return self._capture_tree(SnapshotTree(self.root), sources)
        try:
            with unpacked_archive(self.root, live_prefixes=live_prefixes(sources)) as unpacked:
                return self._capture_tree(SnapshotTree(unpacked.root, oversized=unpacked.oversized), sources)
        except ArchiveRefused as exc:
            raise HostUnreachable(self.spec.name, self.address, f"sosreport tarball refused: {exc.cause}") from None

    # ------------------------------------------------------------------

    def _unreachable(self, cause: str) -> HostUnreachable:
        return HostUnreachable(self.spec.name, self.address, cause)

    def _path_info(self) -> os.stat_result:
        """The stat of ``path``: a directory or a regular file (a tarball), else the host is unreachable."""
        if not self.spec.path:
            raise self._unreachable("snapshot directory does not exist")
        try:
            info = os.stat(self.root)
        except FileNotFoundError:
            raise self._unreachable("snapshot directory does not exist") from None
        except OSError as exc:
            raise self._unreachable(f"snapshot path unusable: {exc.strerror or exc}") from None
        if stat.S_ISDIR(info.st_mode):
            problem = live_root_problem(self.root)
            if problem:
                raise self._unreachable(problem)
        elif not stat.S_ISREG(info.st_mode):
            raise self._unreachable(
                f"snapshot path is a {file_kind(info.st_mode)}, not a directory or a sosreport tarball"
            )
        return info

    def _capture_tree(self, tree: SnapshotTree, sources: Sequence[FactSource]) -> dict[str, Capture]:
        if not any(tree.is_dir(top) for top in ("/proc", "/sys")):
            raise self._unreachable(
                "snapshot has neither proc/ nor sys/ at its top: expected a tree laid out like / "
                "(point 'path' at the unpacked sosreport directory itself, or at its .tar.xz)"
            )
        captures: dict[str, Capture] = {}
        for source in sources:
            if source.command is not None:
                captures[source.key] = self._command_source(tree, source)
            elif source.is_glob:
                matches = tree.glob(source.pattern)
                if not matches:
                    captures[source.pattern] = Capture(source.pattern, "absent")
                for path in matches:
                    captures[path] = tree.read(path)
            else:
                captures[source.pattern] = tree.read(source.pattern)
        evidence = sosreport_evidence(tree, wanted=captures.keys())
        return captures if evidence is None else fill_from_sosreport(captures, evidence)

    def _command_source(self, tree: SnapshotTree, source: FactSource) -> Capture:
        key = source.key
        if key == PAGE_SIZE_KEY:
            if self.spec.page_size is None:
                return Capture(key, "absent")
            return Capture(key, "ok", text=f"{self.spec.page_size}\n")  # as `getconf PAGESIZE` prints it
        if key == CPUINFO_KEY:
            capture = tree.read(key)
            return Capture(key, "ok", text=first_block(capture.text)) if capture.ok else capture
        return Capture(key, "unreadable", error=f"`{_short(source.command or '')}` needs a live host")


def live_root_problem(root: Path) -> str:
    """Why the directory ``root`` is this machine itself rather than a capture ('' when it is not).

    ``/`` (however it is spelt: ``../../..``, a symlink) and a tree with a
    mounted ``proc`` or ``sys`` would judge the live machine as if it were a capture.

    >>> live_root_problem(Path("/")).startswith("snapshot path is this machine's own root directory")
    True
    >>> import tempfile
    >>> live_root_problem(Path(tempfile.mkdtemp()))
    ''
    """
    if os.path.samefile(root, "/"):
        return (
            "snapshot path is this machine's own root directory: "
            "it would judge the live machine as a capture (use transport: local)"
        )
    for top in ("proc", "sys"):
        if os.path.ismount(root / top):
            return f"snapshot has a mounted filesystem at {top}/ (a live {top}), not a capture"
    return ""


def live_prefixes(sources: Sequence[FactSource]) -> list[str]:
    """The live paths (up to any glob character) a capture of ``sources`` reads, sosreport files included.

    >>> sources = [FactSource("/sys/devices/system/node/node*/meminfo"), FactSource("getconf:PAGESIZE", "getconf")]
    >>> live_prefixes(sources)[-1]
    '/sys/devices/system/node/node'
    """
    prefixes = [VERSION_FILE, SYSCTL_FILE, UNAME_FILE]
    for source in sources:
        if source.pattern.startswith("/"):
            cut = min((source.pattern.index(ch) for ch in "*?[" if ch in source.pattern), default=len(source.pattern))
            prefixes.append(source.pattern[:cut])
    return prefixes


def sosreport_evidence(tree: SnapshotTree, wanted: Collection[str] | None = None) -> SosreportEvidence | None:
    """What the tree holds as a sosreport (sysctl values, release, plugins run); None when it is not one.

    ``wanted``: the fact paths to be filled in; only those of its ``sysctl -a`` are kept (None: all).

    >>> import tempfile
    >>> sosreport_evidence(SnapshotTree(Path(tempfile.mkdtemp()))) is None
    True
    """
    version = _text(tree, VERSION_FILE)
    has_commands = tree.is_dir(COMMANDS_DIR)
    if not looks_like_sosreport(version, has_commands):
        return None
    sysctl = _text(tree, SYSCTL_FILE)
    uname = _text(tree, UNAME_FILE)
    plugins = set(plugins_in_version_txt(version or ""))
    plugins.update(path.rsplit("/", 1)[1] for path in tree.glob(f"{COMMANDS_DIR}/*") if tree.is_dir(path))
    return SosreportEvidence(
        sysctl=None if sysctl is None else parse_sysctl_all(sysctl, only=wanted),
        release=None if uname is None else release_from_uname(uname),
        plugins=frozenset(plugins),
    )


def _text(tree: SnapshotTree, path: str) -> str | None:
    capture = tree.read(path)
    return capture.text if capture.ok else None


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
