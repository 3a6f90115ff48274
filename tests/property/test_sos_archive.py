"""A sosreport tarball with its bytes damaged: unpacked, or ArchiveRefused naming the archive.

The seed is the real sosreport of tests/data packed as sos packs it (one top directory, symlinks kept), as
a plain tar (so most damage lands in headers and names) and gzip-compressed; the damage is bytes changed,
a cut, or bytes inserted.
"""

from __future__ import annotations

import functools
import itertools
import tarfile
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error
from tests.snapshot_trees import SOSREPORT_TREE
from vrouter_preflight.transport.sos_archive import ArchiveRefused, unpacked_archive

_WORKDIR = Path(tempfile.mkdtemp(prefix="vrpf-property-sos-"))
_NUMBERS = itertools.count()


@functools.cache
def packed(compressed: bool) -> bytes:
    """The real sosreport tree as a tarball, plain or gzip-compressed."""
    ball = _WORKDIR / f"seed-{compressed}.tar"
    with tarfile.open(ball, "w:gz") if compressed else tarfile.open(ball, "w") as tar:
        tar.add(SOSREPORT_TREE, arcname=SOSREPORT_TREE.name)
    return ball.read_bytes()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from((packed(False), packed(True)))))
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(("change", "cut", "insert")))
        if kind == "change" and data:
            data[where] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[where:]
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


@given(data=damaged() | st.binary(max_size=2000))
@example(data=b"")
@example(data=b"\x1f\x8b\x08\x00")
def test_damaged_archives_unpack_or_are_refused_naming_the_archive(data: bytes) -> None:
    archive = _WORKDIR / f"sosreport-{next(_NUMBERS)}.tar.gz"
    archive.write_bytes(data)

    def unpack() -> object:
        with unpacked_archive(archive, live_prefixes=("/proc/buddyinfo", "/sys/devices/system/node/node")) as tree:
            return sorted(path.name for path in tree.root.rglob("*"))

    _, error = result_or_own_error(unpack, ArchiveRefused)
    assert error is None or str(error).startswith(f"{archive}: "), str(error)
    archive.unlink()
