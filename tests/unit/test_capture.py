"""The one-command capture script, run by real shells (dash, bash --posix, busybox) against real files."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture_shells import SHELLS, busybox_without, run_capture
from vrouter_preflight.capture import (
    ANSWER_BYTE_LIMIT,
    FACT_SOURCES,
    FILE_BYTE_LIMIT,
    MAX_ANSWER_BYTES,
    CaptureAnswerError,
    FactSource,
    new_boundary,
)
from vrouter_preflight.capture_answer import GZIP_BASE64_START

NEVER = 1 << 40


@pytest.fixture(params=SHELLS)
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tree() -> Iterator[Path]:
    """A temp tree every user can enter (pytest's tmp_path is not traversable by nobody)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)


def sources(root: Path, *names: str) -> list[FactSource]:
    return [FactSource(str(root / name)) for name in names]


TEXTS = {
    "plain": "a\nb\n",
    "no-final-newline": "Node 0, zone   Normal   1   2",
    "empty": "",
    "blank-lines": "\n\n\n",
    "looks-like-a-marker": "@@VRPF F /etc/passwd\n",
    "looks-like-a-header": "x\n==> /proc/meminfo <==\nMemTotal: 1 kB\n\n==> /dev/null <==\n",
    "utf-8": "Zoneinfo für Knoten 0 — ok\n",
}


def test_file_contents_come_back_byte_for_byte(shell: str, tree: Path) -> None:
    for name, text in TEXTS.items():
        (tree / name).write_text(text)
    (tree / "not-utf-8").write_bytes(b"caf\xe9\n\xff")
    captures, _ = run_capture(shell, sources(tree, *TEXTS, "not-utf-8"))
    assert {Path(path).name: (c.status, c.text) for path, c in captures.items()} == {
        **{name: ("ok", text) for name, text in TEXTS.items()},
        "not-utf-8": ("ok", "caf\ufffd\n\ufffd"),
    }


def test_compressed_and_plain_answers_give_the_same_captures(shell: str, tree: Path) -> None:
    for name, text in TEXTS.items():
        (tree / name).write_text(text)
    listed = [*sources(tree, *TEXTS, "missing"), FactSource("cmd:answer", command="echo 42")]
    compressed, answer = run_capture(shell, listed, compress_above=0)
    plain, plain_answer = run_capture(shell, listed, compress_above=NEVER)
    assert answer.startswith(GZIP_BASE64_START.encode()) and plain_answer.startswith(b"@@VRPF")
    assert compressed == plain


def test_without_gzip_the_answer_is_plain(tree: Path) -> None:
    """A busybox host whose busybox lacks gzip and base64 still answers."""
    (tree / "a").write_text("x\n")
    (tree / "bin").mkdir()
    bare = busybox_without(str(tree / "bin"), ("head", "tr", "awk", "stat"))
    captures, answer = run_capture("dash", sources(tree, "a"), compress_above=0, path=bare)
    assert answer.startswith(b"@@VRPF")
    assert captures[str(tree / "a")].text == "x\n"


def test_absent_file_is_absent_not_empty(shell: str, tree: Path) -> None:
    captures, _ = run_capture(shell, sources(tree, "missing"))
    assert captures[str(tree / "missing")].status == "absent"


def test_glob_expands_to_one_capture_per_match(shell: str, tree: Path) -> None:
    for node in (0, 1, 33):
        (tree / f"node{node}").mkdir()
        (tree / f"node{node}" / "meminfo").write_text(f"Node {node} MemTotal: 1 kB\n")
    captures, _ = run_capture(shell, [FactSource(str(tree / "node*" / "meminfo"))])
    assert list(captures) == [str(tree / f"node{n}" / "meminfo") for n in (0, 1, 33)]
    assert captures[str(tree / "node33" / "meminfo")].text == "Node 33 MemTotal: 1 kB\n"


def test_glob_without_match_is_one_absent_record(shell: str, tree: Path) -> None:
    pattern = str(tree / "nothing*" / "x")
    captures, _ = run_capture(shell, [FactSource(pattern)])
    assert list(captures) == [pattern]
    assert captures[pattern].status == "absent"


def test_paths_with_spaces_and_quotes_are_read(shell: str, tree: Path) -> None:
    odd = tree / "it's a dir"
    odd.mkdir()
    (odd / "node 0").write_text("spaced\n")
    captures, _ = run_capture(shell, [FactSource(str(odd / "node*"))])
    assert captures[str(odd / "node 0")].text == "spaced\n"


def test_what_is_not_a_regular_file_says_what_it_is_and_is_never_opened(shell: str, tree: Path) -> None:
    """A FIFO would block a reader forever; a device could stream without end."""
    (tree / "dir").mkdir()
    os.mkfifo(tree / "fifo")
    os.symlink("/dev/zero", tree / "zero")
    os.symlink("loop", tree / "loop")
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tree / "socket"))
        captures, _ = run_capture(shell, sources(tree, "dir", "fifo", "zero", "loop", "socket"))
    assert {Path(path).name: (c.status, c.error) for path, c in captures.items()} == {
        "dir": ("not-regular", "directory"),
        "fifo": ("not-regular", "fifo"),
        "zero": ("not-regular", "device"),
        "loop": ("not-regular", "symlink loop"),
        "socket": ("not-regular", "socket"),
    }


def test_a_dangling_symlink_is_absent(shell: str, tree: Path) -> None:
    os.symlink("nowhere", tree / "dangling")
    captures, _ = run_capture(shell, sources(tree, "dangling"))
    assert captures[str(tree / "dangling")].status == "absent"


def test_permission_denied_is_named(shell: str, tree: Path) -> None:
    """As an unprivileged user, a root-only file (like pagetypeinfo on >= 5.4) is unreadable."""
    assert os.geteuid() == 0, "the suite's tests run as root (make test); this one drops to nobody"
    (tree / "secret").write_text("x")
    (tree / "secret").chmod(0o400)
    (tree / "public").write_text("y\n")
    captures, _ = run_capture(shell, sources(tree, "secret", "public"), as_nobody=True)
    assert (captures[str(tree / "secret")].status, captures[str(tree / "secret")].error) == (
        "unreadable",
        "permission-denied",
    )
    assert captures[str(tree / "public")].text == "y\n"


def test_a_file_over_the_limit_is_too_large_and_the_answer_stays_bounded(shell: str, tree: Path) -> None:
    (tree / "limit").write_bytes(b"x" * FILE_BYTE_LIMIT)
    (tree / "over").write_bytes(b"x" * (FILE_BYTE_LIMIT + 1))
    with open(tree / "sparse-100M", "wb") as handle:  # 100 MB, of which head reads only the limit
        handle.truncate(100 * 1024 * 1024)
        handle.write(b"text, then NUL bytes\n")
    (tree / "after").write_text("read\n")
    names = ("limit", "over", "sparse-100M", "after")
    captures, answer = run_capture(shell, sources(tree, *names), compress_above=NEVER)
    assert captures[str(tree / "limit")].text == "x" * FILE_BYTE_LIMIT
    for name in ("over", "sparse-100M"):
        capture = captures[str(tree / name)]
        assert (capture.status, capture.error, capture.text) == ("too-large", f"more than {FILE_BYTE_LIMIT} bytes", "")
    assert captures[str(tree / "after")].text == "read\n"
    assert len(answer) < 3 * (FILE_BYTE_LIMIT + 1) + 64 * 1024


def test_nul_bytes_come_back(shell: str, tree: Path) -> None:
    """The shell holds the answer and cannot hold NUL: it travels as SOH and is turned back."""
    (tree / "nul").write_bytes(b"a\x00b\x00\x00\n")
    captures, _ = run_capture(shell, sources(tree, "nul"))
    assert captures[str(tree / "nul")].text == "a\x00b\x00\x00\n"


def test_an_answer_over_the_total_limit_is_one_error_naming_its_size(shell: str, tree: Path) -> None:
    names = [f"big{index}" for index in range(ANSWER_BYTE_LIMIT // FILE_BYTE_LIMIT + 1)]
    for name in names:
        (tree / name).write_bytes(b"y" * (FILE_BYTE_LIMIT + 1))
    with pytest.raises(CaptureAnswerError, match=r"answer is \d+ bytes, more than the 16.0 MiB limit of one capture"):
        run_capture(shell, sources(tree, *names))
    assert MAX_ANSWER_BYTES > ANSWER_BYTE_LIMIT


def test_command_source_output_is_stored_under_its_key(shell: str) -> None:
    captures, _ = run_capture(shell, [FactSource("cmd:answer", command="echo 42")])
    assert captures["cmd:answer"].text == "42\n"


def test_failing_command_source_is_unreadable(shell: str) -> None:
    captures, _ = run_capture(shell, [FactSource("cmd:fails", command="false")])
    assert (captures["cmd:fails"].status, captures["cmd:fails"].error) == ("unreadable", "command-failed")


def test_without_awk_the_standard_commands_fail_one_by_one(tree: Path) -> None:
    (tree / "a").write_text("x\n")
    (tree / "bin").mkdir()
    bare = busybox_without(str(tree / "bin"), ("head", "tr"))
    standard = [source for source in FACT_SOURCES if source.command is not None]
    captures, _ = run_capture("dash", [*sources(tree, "a"), *standard], path=bare)
    assert captures[str(tree / "a")].text == "x\n"
    assert {key: c.status for key, c in captures.items() if key != str(tree / "a")} == {
        "/proc/cpuinfo": "unreadable",
        "getconf:PAGESIZE": "unreadable",
        "hugetlbfs:tables": "ok",  # no mounts listed, so no table files: as the old pipeline said
    }


def test_every_standard_source_is_reported_on_this_machine(shell: str) -> None:
    """Each standard source yields at least one record: read, absent, unreadable or not regular."""
    captures, _ = run_capture(shell, list(FACT_SOURCES))
    for source in FACT_SOURCES:
        if source.is_glob:
            prefix = source.pattern.split("*", 1)[0]
            assert any(key.startswith(prefix) for key in captures), source.pattern
        else:
            assert source.key in captures, source.key
    assert captures["/proc/buddyinfo"].status == "ok"
    assert captures["getconf:PAGESIZE"].text == f"{os.sysconf('SC_PAGE_SIZE')}\n"
    assert captures["/proc/cpuinfo"].text.startswith("processor")


def test_boundary_is_random_per_run() -> None:
    assert new_boundary() != new_boundary()
