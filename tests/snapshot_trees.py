"""Build snapshot trees (laid out like ``/``) from the captured corpus, for tests.

>>> import tempfile, pathlib
>>> files = build_tree(pathlib.Path(tempfile.mkdtemp()), buddyinfo="lkml-fb-4.0-2node-fragmented.txt")
>>> list(files)
['/proc/buddyinfo']
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Mapping
from pathlib import Path

from tests.unit.facts.corpus import CORPUS, sysfs_files_from_grep

# keyword of build_tree -> (corpus kind, live path)
_PROC_FILES = {
    "buddyinfo": ("buddyinfo", "/proc/buddyinfo"),
    "zoneinfo": ("zoneinfo", "/proc/zoneinfo"),
    "pagetypeinfo": ("pagetypeinfo", "/proc/pagetypeinfo"),
    "meminfo": ("meminfo", "/proc/meminfo"),
    "cmdline": ("cmdline", "/proc/cmdline"),
}


def corpus_bytes(kind: str, name: str) -> bytes:
    """The exact bytes of one corpus sample, e.g. ``corpus_bytes("buddyinfo", "x.txt")``."""
    return (CORPUS / kind / name).read_bytes()


def hugepage_files(name: str) -> dict[str, bytes]:
    """A ``node-hugepages`` sample (``path:content`` lines) as live path -> file bytes.

    >>> files = hugepage_files("hwloc-el7-3.10-2node-2m-reserved.txt")
    >>> files["/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"]
    b'2048\\n'
    """
    text = corpus_bytes("node-hugepages", name).decode()
    return {path: content.encode() for path, content in sysfs_files_from_grep(text).items()}


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Write live path -> bytes under ``root`` (``/proc/x`` becomes ``root/proc/x``)."""
    for live, data in files.items():
        target = root / live.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def build_tree(
    root: Path,
    *,
    buddyinfo: str | None = None,
    zoneinfo: str | None = None,
    pagetypeinfo: str | None = None,
    meminfo: str | None = None,
    cmdline: str | None = None,
    node_meminfo: Mapping[int, str] | None = None,
    node_hugepages: str | None = None,
    extra: Mapping[str, bytes | str] | None = None,
) -> dict[str, bytes]:
    """Write corpus samples into ``root`` where a live host has them.

    Each keyword names a corpus file of that kind; ``node_meminfo`` maps a
    NUMA node id to a ``node-meminfo`` sample; ``extra`` adds any live path
    with literal content. Returns what was written: live path -> bytes.
    """
    files: dict[str, bytes] = {}
    chosen = {
        "buddyinfo": buddyinfo,
        "zoneinfo": zoneinfo,
        "pagetypeinfo": pagetypeinfo,
        "meminfo": meminfo,
        "cmdline": cmdline,
    }
    for keyword, name in chosen.items():
        if name is not None:
            kind, live = _PROC_FILES[keyword]
            files[live] = corpus_bytes(kind, name)
    for node, name in (node_meminfo or {}).items():
        files[f"/sys/devices/system/node/node{node}/meminfo"] = corpus_bytes("node-meminfo", name)
    if node_hugepages is not None:
        files.update(hugepage_files(node_hugepages))
    for live, content in (extra or {}).items():
        files[live] = content.encode() if isinstance(content, str) else content
    write_files(root, files)
    return files


#: A real sosreport of a Debian 12 VM (sos 4.0, ``-o kernel,memory,numa,filesys,processor,release,hardware``),
#: cut to the files the suite reads (tests/data/sosreport/SOURCE.md).
SOSREPORT_TREE = Path(__file__).resolve().parent / "data" / "sosreport" / "sosreport-vm-debian12"


def copy_sosreport(destination: Path) -> Path:
    """A writable copy of :data:`SOSREPORT_TREE` (symlinks kept) at ``destination``/<its name>.

    >>> import tempfile
    >>> copy = copy_sosreport(Path(tempfile.mkdtemp()))
    >>> (copy / "proc" / "mounts").is_symlink(), copy.name
    (True, 'sosreport-vm-debian12')
    """
    target = destination / SOSREPORT_TREE.name
    shutil.copytree(SOSREPORT_TREE, target, symlinks=True)
    return target


def tar_tree(tree: Path, tarball: Path) -> Path:
    """Pack ``tree`` as sos does: one top directory named like the tree, symlinks kept, xz-compressed.

    >>> import tempfile
    >>> ball = tar_tree(SOSREPORT_TREE, Path(tempfile.mkdtemp()) / "sosreport.tar.xz")
    >>> with tarfile.open(ball) as tar:
    ...     tar.getmember("sosreport-vm-debian12/proc/mounts").linkname
    'self/mounts'
    """
    with tarfile.open(tarball, "w:xz") as tar:
        tar.add(tree, arcname=tree.name)
    return tarball
