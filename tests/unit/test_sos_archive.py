"""Hostile sosreport tarballs: every member that could leave the temporary directory is refused, by name."""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from vrouter_preflight.capture import FACT_SOURCES, Capture, FactSource
from vrouter_preflight.errors import HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport import sos_archive
from vrouter_preflight.transport.snapshot import SnapshotTransport
from vrouter_preflight.transport.snapshot_tree import MAX_FILE_BYTES

TOP = "sosreport-c7-2024-01-01-abcdefg"


def add(tar: tarfile.TarFile, name: str, *, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if kind == tarfile.REGTYPE:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@dataclass(frozen=True)
class M:
    """One member to append: a file of ``data``, or a link to ``link``."""

    name: str
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    data: bytes = b"x"


def sosreport_tarball(path: Path, extra: Sequence[M] = ()) -> Path:
    """A small sos-like tarball (proc/cmdline, proc/buddyinfo) with ``extra`` members appended."""
    with tarfile.open(path, "w:xz") as tar:
        add(tar, TOP, kind=tarfile.DIRTYPE)
        add(tar, f"{TOP}/proc", kind=tarfile.DIRTYPE)
        add(tar, f"{TOP}/proc/cmdline", data=b"ro quiet\n")
        add(tar, f"{TOP}/version.txt", data=b"sosreport: 4.0\nkernel: unversioned\n")
        for member in extra:
            add(tar, member.name, data=member.data, kind=member.kind, link=member.link)
    return path


def sym(name: str, target: str) -> M:
    return M(name, tarfile.SYMTYPE, target)


def hard(name: str, target: str) -> M:
    return M(name, tarfile.LNKTYPE, target)


BUDDY = f"{TOP}/proc/buddyinfo"
OUT = "points out of the archive"

# case -> (members appended to a sane sosreport, why the first bad one is refused)
HOSTILE: dict[str, tuple[list[M], str]] = {
    "absolute path": ([M("/tmp/vrpf-pwned")], "member '/tmp/vrpf-pwned': absolute or empty path"),
    "dot-dot": ([M(f"{TOP}/../../vrpf-pwned")], f"member '{TOP}/../../vrpf-pwned': '..' in its path"),
    "absolute symlink": (
        [sym(f"{TOP}/proc/mounts", "/etc/shadow")],
        f"member '{TOP}/proc/mounts': symlink to the absolute path '/etc/shadow'",
    ),
    "symlink out": ([sym(f"{TOP}/escape", "../../..")], f"member '{TOP}/escape': symlink to '../../..' {OUT}"),
    # l1 is the temporary directory itself (inside); l2 looks inside but is its parent.
    "symlink out through another": (
        [sym(f"{TOP}/l1", ".."), sym(f"{TOP}/l2", "l1/..")],
        f"member '{TOP}/l2': symlink to 'l1/..' {OUT}",
    ),
    "member under a symlink": (  # it would be written through the link
        [sym(f"{TOP}/p", "proc"), M(f"{TOP}/p/buddyinfo")],
        f"member '{TOP}/p/buddyinfo': lies under the symlink '{TOP}/p'",
    ),
    "member replacing a symlink": (  # open() would follow the link
        [sym(BUDDY, "cmdline"), M(BUDDY)],
        f"member '{BUDDY}': replaces the symlink of the same name",
    ),
    "hardlink out": ([hard(BUDDY, "../etc/passwd")], f"member '{BUDDY}': hardlink to '../etc/passwd' {OUT}"),
    "absolute hardlink": ([hard(BUDDY, "/etc/passwd")], f"member '{BUDDY}': hardlink to '/etc/passwd' {OUT}"),
    "hardlink through a symlink": (
        [sym(f"{TOP}/up", "proc"), hard(BUDDY, f"{TOP}/up/cmdline")],
        f"member '{BUDDY}': hardlink to '{TOP}/up/cmdline' goes through a symlink",
    ),
    "FIFO": ([M(BUDDY, tarfile.FIFOTYPE)], f"member '{BUDDY}': is a FIFO"),
    "character device": (
        [M(f"{TOP}/proc/kcore", tarfile.CHRTYPE)],
        f"member '{TOP}/proc/kcore': is a character device",
    ),
    "block device": ([M(f"{TOP}/dev/vda", tarfile.BLKTYPE)], f"member '{TOP}/dev/vda': is a block device"),
}


@pytest.fixture(params=["data filter", "own checks only"])
def extraction(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both guards: with the 'data' filter (Python >= 3.12, 3.11.4) and as on a Python without it."""
    if request.param == "own checks only":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    else:
        assert hasattr(tarfile, "data_filter"), "this Python has no tarfile extraction filters"
    return str(request.param)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the unpacked tree goes (tempfile's directory), inside this test's own directory."""
    path = tmp_path / "deep" / "scratch"
    path.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def capture(path: Path, sources: list[FactSource] | None = None) -> dict[str, Capture]:
    spec = HostSpec(name="compute-7", transport="snapshot", path=str(path))
    return SnapshotTransport(spec).capture(FACT_SOURCES if sources is None else sources)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_member_is_refused_by_name(case: str, extraction: str, tmp_path: Path, scratch: Path) -> None:
    members, why = HOSTILE[case]
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz", members)
    before = files_under(tmp_path)
    with pytest.raises(HostUnreachable) as info:
        capture(tarball)
    assert str(info.value) == f"compute-7 ({tarball}): sosreport tarball refused: {why}: refused"
    assert files_under(tmp_path) == before  # nothing written anywhere, the temporary directory removed
    assert not Path("/tmp/vrpf-pwned").exists()


def test_a_sos_like_tarball_unpacks_with_both_guards(extraction: str, tmp_path: Path, scratch: Path) -> None:
    links = [
        sym(f"{TOP}/proc/self", "4242"),  # as sos writes /proc/mounts
        M(f"{TOP}/proc/4242", tarfile.DIRTYPE),
        M(f"{TOP}/proc/4242/mounts", data=b"proc /proc proc rw 0 0\n"),
        sym(f"{TOP}/proc/mounts", "self/mounts"),
        hard(f"{TOP}/proc/cmdline.copy", f"{TOP}/proc/cmdline"),
    ]
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz", links)
    captures = capture(tarball, [FactSource("/proc/mounts"), FactSource("/proc/cmdline.copy")])
    assert captures["/proc/mounts"].text == "proc /proc proc rw 0 0\n"
    assert captures["/proc/cmdline.copy"].text == "ro quiet\n"
    assert list(scratch.iterdir()) == []


def test_a_member_over_the_file_limit_is_not_written(tmp_path: Path, scratch: Path) -> None:
    size = MAX_FILE_BYTES + 4096
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz", [M(f"{TOP}/proc/zoneinfo", data=bytes(size))])
    captures = capture(tarball, [FactSource("/proc/zoneinfo"), FactSource("/proc/zone*"), FactSource("/proc/cmdline")])
    reason = f"more than {MAX_FILE_BYTES} bytes: {size} bytes"
    assert captures["/proc/zoneinfo"] == Capture("/proc/zoneinfo", "too-large", error=reason)
    assert captures["/proc/cmdline"].text == "ro quiet\n"


def test_an_archive_over_the_total_limit_is_refused(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sos_archive, "MAX_ARCHIVE_BYTES", 4096)
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz", [M(f"{TOP}/big", data=bytes(8192))])
    with pytest.raises(
        HostUnreachable, match=rf"sosreport tarball refused: unpacks to more than 4096 bytes \(at '{TOP}/big'\)$"
    ):
        capture(tarball)
    assert list(scratch.iterdir()) == []


def test_an_archive_with_too_many_members_is_refused(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sos_archive, "MAX_ARCHIVE_MEMBERS", 3)
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz")
    with pytest.raises(HostUnreachable, match=r"sosreport tarball refused: holds more than 3 members$"):
        capture(tarball)


def test_a_member_name_is_shown_escaped_and_cut(tmp_path: Path, scratch: Path) -> None:
    name = f"{TOP}/\x1b[2J" + "a" * 300 + "/../x"
    tarball = sosreport_tarball(tmp_path / "sosreport-c7.tar.xz", [M(name)])
    with pytest.raises(HostUnreachable) as info:
        capture(tarball)
    message = str(info.value)
    assert "\x1b" not in message and "\\x1b[2J" in message
    assert len(message) < len(str(tarball)) + 250
