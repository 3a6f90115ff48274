"""Reading the capture script's answer back: one :class:`Capture` per path.

The answer (see :mod:`vrouter_preflight.capture_script`) is plain text, or
gzip + base64 when the host compressed it: :func:`read_capture_answer`
detects that and unpacks at most :data:`ANSWER_BYTE_LIMIT` bytes. Anything
that is not a whole answer — nothing, garbage, an answer cut short, one too
large, a compressed answer that does not unpack — raises
:class:`CaptureAnswerError` with words that say what came back.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Mapping

from vrouter_preflight.capture_records import Capture, CaptureStatus
from vrouter_preflight.capture_script import ANSWER_BYTE_LIMIT, FILE_BYTE_LIMIT, header_prefix
from vrouter_preflight.errors import PreflightError

#: How a base64-encoded gzip stream begins (the bytes 1f 8b 08).
GZIP_BASE64_START = "H4sI"
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/=]+")
_REASON_LIMIT = 200

# head's messages for a file it could not open, by errno text (C locale).
_OPEN_FAILURES: dict[str, tuple[CaptureStatus, str]] = {
    "No such file or directory": ("absent", ""),
    "Not a directory": ("absent", ""),
    "Permission denied": ("unreadable", "permission-denied"),
    "Too many levels of symbolic links": ("not-regular", "symlink loop"),
}


class CaptureAnswerError(PreflightError):
    """What came back is not a whole capture answer; the message says what it was.

    >>> str(CaptureAnswerError("fact gathering printed nothing (rc 1)"))
    'fact gathering printed nothing (rc 1)'
    """


def read_capture_answer(stdout: str, boundary: str, *, stderr: str = "", rc: int | None = None) -> dict[str, Capture]:
    """Every Capture of one answer, in the order of the sources; raises CaptureAnswerError.

    ``stderr`` and ``rc`` (when known) only make the error messages precise.

    >>> out = "@@X R /a\\n@@X A /b\\n@@X Z\\n"
    >>> read_capture_answer(out, "@@X")["/b"].status
    'absent'
    >>> try:
    ...     read_capture_answer("Welcome!\\n" * 40000, "@@X", rc=0)
    ... except CaptureAnswerError as exc:
    ...     print(str(exc)[:96])
    fact gathering answered 352 KiB without the capture's boundary markers (rc 0); first bytes: 'Wel
    """
    mark = boundary + " "
    if stdout.startswith(mark) or "\n" + mark in stdout:
        text = stdout
    else:
        compressed = _compressed_block(stdout)
        if compressed is None:
            raise CaptureAnswerError(_not_an_answer(stdout, stderr, rc))
        text = inflate_answer(compressed)
    return _AnswerReader(text, boundary, stderr, rc).captures()


def parse_capture_stream(stdout: str, boundary: str) -> dict[str, Capture]:
    """Like :func:`read_capture_answer`, but an empty ``stdout`` gives ``{}`` for the caller to word.

    >>> parse_capture_stream("", "@@X")
    {}
    >>> out = "@@X F /a\\nhello\\n\\n@@X E 0 \\n@@X A /b\\n@@X Z\\n"
    >>> caps = parse_capture_stream(out, "@@X")
    >>> caps["/a"].text, caps["/b"].status
    ('hello\\n', 'absent')
    """
    return read_capture_answer(stdout, boundary) if stdout else {}


def inflate_answer(encoded: str) -> str:
    """Decode a base64 gzip answer, at most ANSWER_BYTE_LIMIT bytes of it.

    >>> import gzip
    >>> inflate_answer(base64.b64encode(gzip.compress(b"@@X Z\\n")).decode())
    '@@X Z\\n'
    >>> inflate_answer("H4sIAAAA")
    Traceback (most recent call last):
    ...
    vrouter_preflight.capture_answer.CaptureAnswerError: fact gathering answered 8 bytes of compressed data that \
end before the compressed answer does
    """
    size = _size(len(encoded))
    try:
        packed = base64.b64decode(encoded)
        unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = unpacker.decompress(packed, ANSWER_BYTE_LIMIT + 1)
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise CaptureAnswerError(
            f"fact gathering answered {size} of compressed data that do not unpack: {exc}"
        ) from None
    if len(data) > ANSWER_BYTE_LIMIT:
        raise CaptureAnswerError(
            f"fact gathering answered {size} of compressed data that unpack to more than "
            f"the {_size(ANSWER_BYTE_LIMIT)} limit of one capture"
        )
    if not unpacker.eof:
        raise CaptureAnswerError(
            f"fact gathering answered {size} of compressed data that end before the compressed answer does"
        )
    return data.decode("utf-8", "replace")


def too_large(text: str) -> bool:
    """True when ``text`` stands for more than FILE_BYTE_LIMIT bytes of a file.

    ``head`` cut the file at FILE_BYTE_LIMIT + 1 bytes; decoding with
    replacement never makes text shorter in UTF-8, so its encoded length
    tells.

    >>> too_large("x" * 10), too_large("x" * (FILE_BYTE_LIMIT + 1))
    (False, True)
    """
    return len(text) * 4 > FILE_BYTE_LIMIT and len(text.encode("utf-8")) > FILE_BYTE_LIMIT


def _compressed_block(stdout: str) -> str | None:
    """The base64 lines from the one starting like gzip (shell start-up noise may come first)."""
    lines = stdout.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(GZIP_BASE64_START):
            block = []
            for part in lines[index:]:
                if not _BASE64_LINE.fullmatch(part):
                    break
                block.append(part)
            return "".join(block)
    return None


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"


def _exit(rc: int | None) -> str:
    return "" if rc is None else f" (rc {rc})"


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0]
    return line[:_REASON_LIMIT] + ("…" if len(line) > _REASON_LIMIT else "")


def _not_an_answer(stdout: str, stderr: str, rc: int | None) -> str:
    said = f"; stderr: {_first_line(stderr)}" if stderr.strip() else ""
    if not stdout:
        return f"fact gathering printed nothing{_exit(rc)}{said}"
    first = repr(stdout[:64]) + ("…" if len(stdout) > 64 else "")
    size = _size(len(stdout))
    return (
        f"fact gathering answered {size} without the capture's boundary markers{_exit(rc)}; first bytes: {first}{said}"
    )


class _AnswerReader:
    """One pass over a plain answer; files read by head are filled in at the end."""

    def __init__(self, text: str, boundary: str, stderr: str, rc: int | None) -> None:
        self.text = text
        self.mark = boundary + " "
        self.prefix = header_prefix(boundary)
        self.stderr = stderr
        self.rc = rc
        self.pos = 0
        self.found: dict[str, Capture | None] = {}
        self.head_output = ""
        self.head_rc = ""
        self.head_errors = ""

    def captures(self) -> dict[str, Capture]:
        if not self._read_records():
            said = f"; stderr: {_first_line(self.stderr)}" if self.stderr.strip() else ""
            raise CaptureAnswerError(
                f"fact gathering answer was cut short after {_size(len(self.text))}, "
                f"before its end marker{_exit(self.rc)}{said}"
            )
        files = split_head_output(self.head_output, self.prefix)
        errors = head_errors(self.head_errors, self.prefix)
        return {
            path: capture if capture is not None else self._from_head(path, files, errors)
            for path, capture in self.found.items()
        }

    def _line(self) -> str:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        line = self.text[self.pos : end]
        self.pos = end + 1
        return line

    def _until(self, kind: str) -> str | None:
        """The text from here to the next ``\\nB kind`` line, which is consumed; None if none."""
        stop = self.text.find("\n" + self.mark + kind, self.pos)
        if stop < 0:
            return None
        body = self.text[self.pos : stop]
        self.pos = stop + 1
        return body

    def _read_records(self) -> bool:
        """Walk the records; True when the end marker was reached."""
        while self.pos < len(self.text):
            line = self._line()
            if not line.startswith(self.mark):
                continue  # start-up noise of the login shell
            kind, _, rest = line[len(self.mark) :].partition(" ")
            if kind == "Z":
                return True
            if kind == "T":
                raise CaptureAnswerError(
                    f"fact gathering answer is {rest.strip()} bytes, more than the "
                    f"{_size(ANSWER_BYTE_LIMIT)} limit of one capture"
                )
            if not self._record(kind, rest):
                return False
        return False

    def _record(self, kind: str, rest: str) -> bool:
        if kind == "R":
            self.found[rest] = None
        elif kind == "A":
            self.found[rest] = Capture(rest, "absent")
        elif kind == "N":
            what, _, path = rest.partition(" ")
            self.found[path] = Capture(path, "not-regular", error=what)
        elif kind == "F":
            body = self._until("E ")
            if body is None:
                return False
            rc, _, why = self._line()[len(self.mark) + 2 :].partition(" ")
            self.found[rest] = _command_capture(rest, body, rc, why)
        elif kind == "H":
            output = self._until("S ")
            if output is None:
                return False
            self.head_output, self.head_rc = output, self._line()[len(self.mark) + 2 :]
            errors = self._until("")
            if errors is None:
                return False
            self.head_errors = errors
        return True

    def _from_head(self, path: str, files: Mapping[str, str], errors: Mapping[str, str]) -> Capture:
        reason = errors.get(path)
        if path in files:
            if reason is not None:
                return Capture(path, "unreadable", error=f"read-error: {reason}")
            text = files[path].replace("\x01", "\x00")  # tr carried NUL bytes as SOH
            if too_large(text):
                return Capture(path, "too-large", error=f"more than {FILE_BYTE_LIMIT} bytes")
            return Capture(path, "ok", text=text)
        if reason is not None:
            status, error = _OPEN_FAILURES.get(reason, ("unreadable", f"read-error: {reason}"))
            return Capture(path, status, error=error)
        said = f": {_first_line(self.head_errors)}" if self.head_errors.strip() else ""
        return Capture(path, "unreadable", error=f"not read (exit status {self.head_rc.strip()}{said})")


def _command_capture(key: str, body: str, rc: str, why: str) -> Capture:
    # Too large first: a command cut at the limit ends on SIGPIPE, which is not its failure.
    if too_large(body):
        return Capture(key, "too-large", error=f"more than {FILE_BYTE_LIMIT} bytes")
    if rc != "0":
        return Capture(key, "unreadable", error=why.strip() or f"exit status {rc}")
    return Capture(key, "ok", text=body)


def split_head_output(output: str, prefix: str) -> dict[str, str]:
    """``head``'s output for many files as path -> content (the prefix taken off the names).

    Every file after the first is introduced by a newline and ``==> NAME <==``;
    ``NAME`` starts with the run's random prefix, which no content can forge.

    >>> split_head_output("==> /.//dev/null <==\\n\\n==> /.//proc/a <==\\nx\\n\\n==> /.//proc/b <==\\ny", "/./")
    {'/dev/null': '', '/proc/a': 'x\\n', '/proc/b': 'y'}
    """
    marker = "\n==> " + prefix
    text = "\n" + output
    starts = []
    found = text.find(marker)
    while found >= 0:
        starts.append(found)
        found = text.find(marker, found + len(marker))
    starts.append(len(text))
    files: dict[str, str] = {}
    for start, stop in zip(starts, starts[1:]):
        name_start = start + len(marker)
        name_end = text.find(" <==\n", name_start, stop)
        if name_end >= 0:
            files[text[name_start:name_end]] = text[name_end + 5 : stop]
    return files


def head_errors(messages: str, prefix: str) -> dict[str, str]:
    """``head``'s error messages as path -> reason (coreutils and busybox wording).

    >>> head_errors("head: cannot open '/.//a' for reading: Permission denied\\nhead: /.//b: Is a directory", "/./")
    {'/a': 'Permission denied', '/b': 'Is a directory'}
    """
    reasons: dict[str, str] = {}
    for line in messages.split("\n"):
        start = line.find(prefix)
        if start < 0:
            continue
        rest = line[start + len(prefix) :]
        ends = [end for end in (rest.find("'"), rest.find(": ")) if end >= 0]
        if not ends:
            continue
        reason = line.rsplit(": ", 1)[-1].strip()[:_REASON_LIMIT]
        reasons.setdefault(rest[: min(ends)], reason)
    return reasons
