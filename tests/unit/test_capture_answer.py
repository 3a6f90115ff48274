"""Reading the capture's answer back: what is not an answer is said in words that fit (issue 13, item 11)."""

from __future__ import annotations

import base64
import gzip
import random
import subprocess
from pathlib import Path

import pytest

from vrouter_preflight.capture import (
    ANSWER_BYTE_LIMIT,
    FACT_SOURCES,
    Capture,
    CaptureAnswerError,
    FactSource,
    build_capture_script,
    new_boundary,
    parse_capture_stream,
    read_capture_answer,
)
from vrouter_preflight.capture_answer import head_errors, split_head_output
from vrouter_preflight.capture_script import header_prefix

NEVER = 1 << 40


def answer_of(sources: list[FactSource], boundary: str, *, compress_above: int = NEVER) -> str:
    script = build_capture_script(sources, boundary, compress_above=compress_above)
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout


def test_garbage_is_reported_with_its_size_and_first_bytes_not_as_nothing() -> None:
    garbage = "\x1b[31mWelcome to compute-7!\x1b[0m " * 10_000  # about 300 KB, no boundary anywhere
    with pytest.raises(CaptureAnswerError) as raised:
        read_capture_answer(garbage, new_boundary(), stderr="", rc=0)
    message = str(raised.value)
    assert message.startswith("fact gathering answered 303 KiB without the capture's boundary markers (rc 0)")
    assert "first bytes: '\\x1b[31mWelcome to compute-7!" in message
    assert "printed nothing" not in message
    assert len(message) < 300


def test_nothing_is_nothing_with_the_first_line_of_stderr() -> None:
    with pytest.raises(
        CaptureAnswerError, match=r"^fact gathering printed nothing \(rc 127\); stderr: sh: 1: head: not"
    ):
        read_capture_answer("", "@@X", stderr="sh: 1: head: not found\nmore\n", rc=127)
    assert parse_capture_stream("", "@@X") == {}


def test_an_answer_cut_short_is_an_error_not_fewer_files() -> None:
    boundary = new_boundary()
    answer = answer_of(list(FACT_SOURCES), boundary)
    assert read_capture_answer(answer, boundary)
    cut = answer[: answer.index(f"{boundary} Z")]
    with pytest.raises(
        CaptureAnswerError, match=r"answer was cut short after \d+ KiB, before its end marker \(rc -1\)"
    ):
        read_capture_answer(cut, boundary, rc=-1)
    inside_a_command = answer[: answer.index(f"{boundary} F /proc/cpuinfo") + 200]
    with pytest.raises(CaptureAnswerError, match="cut short"):
        read_capture_answer(inside_a_command, boundary)


def test_the_too_large_record_names_the_size_and_the_limit() -> None:
    with pytest.raises(
        CaptureAnswerError, match=r"^fact gathering answer is 20971521 bytes, more than the 16.0 MiB limit"
    ):
        read_capture_answer("@@X T 20971521\n", "@@X")


def test_compressed_answers_are_detected_and_unpacked_behind_login_noise() -> None:
    boundary = new_boundary()
    sources = [FactSource("/proc/version"), FactSource("/proc/no-such-file")]
    plain = read_capture_answer(answer_of(sources, boundary), boundary)
    compressed = answer_of(sources, boundary, compress_above=0)
    assert compressed.startswith("H4sI")
    assert read_capture_answer("Last login: yesterday\n" + compressed, boundary) == plain
    assert read_capture_answer("motd line\n" + answer_of(sources, boundary), boundary) == plain


def test_a_corrupt_or_truncated_compressed_answer_says_so() -> None:
    packed = base64.b64encode(gzip.compress(b"@@X Z\n" * 1000)).decode()
    with pytest.raises(CaptureAnswerError, match="compressed data that end before the compressed answer does"):
        read_capture_answer(packed[: len(packed) // 2], "@@X")
    flipped = packed[:40] + ("A" if packed[40] != "A" else "B") + packed[41:]
    with pytest.raises(CaptureAnswerError, match="compressed data that do not unpack"):
        read_capture_answer(flipped, "@@X")


def test_a_compressed_answer_may_not_unpack_past_the_limit() -> None:
    bomb = base64.b64encode(gzip.compress(b"a" * (ANSWER_BYTE_LIMIT + 2))).decode()
    assert len(bomb) < 100_000
    with pytest.raises(CaptureAnswerError, match=r"unpack to more than the 16\.0 MiB limit of one capture"):
        read_capture_answer(bomb, "@@X")


def test_head_sections_split_only_on_headers_with_the_runs_prefix() -> None:
    prefix = header_prefix("@@X")
    forged = "x\n\n==> /proc/b <==\nnot b\n\n==> /./proc/b <==\n"
    output = f"==> {prefix}/dev/null <==\n\n==> {prefix}/proc/a <==\n{forged}\n==> {prefix}/proc/b <==\nb"
    assert split_head_output(output, prefix) == {"/dev/null": "", "/proc/a": forged, "/proc/b": "b"}


def test_head_messages_of_coreutils_and_busybox_name_the_file() -> None:
    prefix = "/./"
    messages = "\n".join(
        [
            "head: cannot open '/.//a' for reading: Permission denied",
            "head: error reading '/.//b': Input/output error",
            "head: /.//c: Too many levels of symbolic links",
            "sh: 1: something unrelated",
        ]
    )
    assert head_errors(messages, prefix) == {
        "/a": "Permission denied",
        "/b": "Input/output error",
        "/c": "Too many levels of symbolic links",
    }


def test_a_file_head_never_printed_says_why_from_the_messages() -> None:
    answer = "@@X R /proc/a\n@@X H\n\n@@X S 127\nsh: 1: head: not found\n@@X Z\n"
    capture = read_capture_answer(answer, "@@X")["/proc/a"]
    assert (capture.status, capture.error) == ("unreadable", "not read (exit status 127: sh: 1: head: not found)")


def test_a_read_error_after_the_header_drops_the_partial_text() -> None:
    prefix = header_prefix("@@X")
    answer = (
        f"@@X R /sys/x\n@@X H\n==> {prefix}/dev/null <==\n\n==> {prefix}/sys/x <==\npart\n"
        f"@@X S 1\nhead: error reading '{prefix}/sys/x': Input/output error\n@@X Z\n"
    )
    assert read_capture_answer(answer, "@@X")["/sys/x"] == Capture(
        "/sys/x", "unreadable", error="read-error: Input/output error"
    )


def test_statuses_are_described_in_one_set_of_words() -> None:
    words = [
        Capture("/a", "ok", "x\n").describe(),
        Capture("/a", "ok", "").describe(),
        Capture("/a", "absent").describe(),
        Capture("/a", "unreadable", error="permission-denied").describe(),
        Capture("/a", "not-regular", error="symlink loop").describe(),
        Capture("/a", "too-large", error="more than 4194304 bytes").describe(),
    ]
    assert words == [
        "2 characters",
        "empty",
        "absent",
        "unreadable (permission-denied)",
        "not a regular file (symlink loop)",
        "too large (more than 4194304 bytes)",
    ]


def test_any_damage_to_an_answer_is_a_capture_or_one_clear_error(tmp_path: Path) -> None:
    """Cut, spliced, flipped or shuffled answers never raise anything but CaptureAnswerError."""
    boundary = new_boundary()
    answers = [answer_of(list(FACT_SOURCES), boundary), answer_of(list(FACT_SOURCES), boundary, compress_above=0)]
    rng = random.Random(15)
    messages: list[str] = []
    for _ in range(400):
        text = rng.choice(answers)
        cut = rng.randrange(len(text) + 1)
        damage = rng.choice(["cut", "flip", "splice", "shuffle"])
        if damage == "cut":
            text = text[:cut]
        elif damage == "flip":
            text = text[:cut] + chr(rng.randrange(1, 0x250)) + text[cut + 1 :]
        elif damage == "splice":
            text = (
                text[:cut]
                + f"\n{boundary} {rng.choice('RANFHSZTE')} {rng.choice(['', '/x', '7 a', 'b c d'])}\n"
                + text[cut:]
            )
        else:
            lines = text.split("\n")
            rng.shuffle(lines)
            text = "\n".join(lines)
        try:
            captures = read_capture_answer(text, boundary)
        except CaptureAnswerError as exc:
            messages.append(str(exc))
        else:
            assert all(isinstance(capture, Capture) for capture in captures.values())
    assert messages and all(message.startswith("fact gathering ") for message in messages)
