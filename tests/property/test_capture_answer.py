"""The capture answer reader on real answers of this machine, mutated: captures, or CaptureAnswerError.

The answers are made by running the real capture script under ``sh`` once (plain, and gzip + base64);
the mutations stand for a login shell that prints noise, an answer cut by a dropped connection, a host
that prints garbage, a compressed answer with a byte changed.
"""

from __future__ import annotations

import functools
import subprocess

from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error, touch
from tests.property.strategies import WEIRD_CHARS, mutated, random_text
from vrouter_preflight.capture_answer import CaptureAnswerError, read_capture_answer
from vrouter_preflight.capture_script import build_capture_script, new_boundary
from vrouter_preflight.capture_sources import FACT_SOURCES

BOUNDARY = new_boundary()
MESSAGE_LIMIT = 2000


@functools.cache
def real_answer(compress_above: int) -> str:
    """This machine's answer to the capture script (``compress_above`` 0: compressed)."""
    script = build_capture_script(FACT_SOURCES, BOUNDARY, compress_above=compress_above)
    done = subprocess.run(["sh", "-c", script], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8", "replace")


def _small_answer() -> str:
    b = BOUNDARY
    return (
        f"motd noise\n{b} R /proc/a\n{b} A /proc/b\n{b} N directory /proc/c\n{b} F cmd:x\nhello\n\n{b} E 0 \n"
        f"{b} F cmd:y\n\n{b} E 127 not found\n{b} H\n==> /proc/a <==\nx\n{b} S 0\n\n{b} Z\n"
    )


def check_answer(stdout: str, stderr: str = "", rc: int | None = None) -> None:
    """The property: captures that can all be read, or one bounded CaptureAnswerError."""
    result, error = result_or_own_error(
        lambda: read_capture_answer(stdout, BOUNDARY, stderr=stderr, rc=rc), CaptureAnswerError
    )
    touch(result)
    assert error is None or len(str(error)) < MESSAGE_LIMIT, f"a message of {len(str(error))} characters"


def test_the_seeds_are_whole_answers() -> None:
    for answer in (real_answer(1 << 30), real_answer(0), _small_answer()):
        assert read_capture_answer(answer, BOUNDARY)


@given(
    stdout=mutated((_small_answer(), real_answer(1 << 30))) | random_text(),
    stderr=st.text(st.sampled_from(WEIRD_CHARS) | st.characters(codec="utf-8"), max_size=60),
    rc=st.none() | st.integers(-1, 255),
)
@example(stdout="Welcome!\n" * 40000, stderr="", rc=0)
@example(stdout="x" * 300_000, stderr="e" * 300_000, rc=1)
def test_plain_answers_read_or_raise_capture_answer_error(stdout: str, stderr: str, rc: int | None) -> None:
    check_answer(stdout, stderr, rc)


@given(stdout=mutated((real_answer(0),), max_mutations=2))
@example(stdout="H4sI" + "A" * 4000)
def test_compressed_answers_read_or_raise_capture_answer_error(stdout: str) -> None:
    check_answer(stdout)
