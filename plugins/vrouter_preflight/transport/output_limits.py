"""How much a command may send back, and how much of it a message may quote.

A target can print without end; what it prints becomes facts, results and
messages. Every live transport reads a command's stdout and stderr through an
:class:`OutputCollector`: past :data:`STDOUT_LIMIT` or :data:`STDERR_LIMIT`
reading stops (the command is killed, the channel closed) and the host gets
one :class:`OutputTooLarge` error naming the stream and the bytes seen.
Messages built from a command's output quote at most :data:`MESSAGE_LIMIT`
characters (:func:`excerpt`).

Why 16 MiB for stdout: the largest part of a capture is ``/proc/zoneinfo``,
about 170 bytes per CPU per populated zone on Linux 6.x. This machine's whole
capture is 19 KB; a 2-socket 256-CPU compute with 8 NUMA nodes (10 populated
zones) about 0.45 MB; even a 1792-CPU, 32-node machine about 10.4 MB. 16 MiB
keeps a margin over the largest machines Linux runs on while a hostile host
costs at most that. The capture itself stops at 16 MiB on the host, and its
compressed worst case (:data:`~vrouter_preflight.capture.MAX_ANSWER_BYTES`, about
22.7 MB) is what the stdout limit allows at least.
"""

from __future__ import annotations

from vrouter_preflight.capture import MAX_ANSWER_BYTES
from vrouter_preflight.errors import HostError
from vrouter_preflight.transport.local_files import KIB, MIB, human_size

STDOUT_LIMIT = max(16 * MIB, -(-MAX_ANSWER_BYTES // MIB) * MIB)  # whole MiB: 22 MiB
STDERR_LIMIT = 64 * KIB
MESSAGE_LIMIT = 300


class OutputTooLarge(HostError):
    """A command sent more than its stream's limit; reading stopped there.

    ``detail`` is the cause without the command (to reword it, as the fact
    gathering does).
    """

    def __init__(self, host: str, address: str, detail: str, command: str = "") -> None:
        self.detail = detail
        super().__init__(host, address, f"{detail} while running: {short_command(command)}" if command else detail)


def excerpt(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how much was left out.

    >>> excerpt("short")
    'short'
    >>> excerpt("x" * 50, 10)
    'xxxxxxxxxx… [40 more characters cut]'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


class OutputCollector:
    """Collects one command's stdout and stderr up to their limits.

    :meth:`add` returns False once a stream went past its limit; the caller
    then stops reading and raises :meth:`too_large`.

    >>> collector = OutputCollector(stdout_limit=8, stderr_limit=4)
    >>> collector.add("stdout", b"12345"), collector.add("stderr", b"123456")
    (True, False)
    >>> print(collector.too_large("c0", "", "cat /proc/zoneinfo").cause)  # doctest: +NORMALIZE_WHITESPACE
    output too large: more than 4 bytes on stderr (6 bytes read when reading stopped)
    while running: cat /proc/zoneinfo
    """

    def __init__(self, *, stdout_limit: int = STDOUT_LIMIT, stderr_limit: int = STDERR_LIMIT) -> None:
        self.limits = {"stdout": stdout_limit, "stderr": stderr_limit}
        self.sizes = {"stdout": 0, "stderr": 0}
        self._chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        self.over: str | None = None

    def add(self, stream: str, chunk: bytes) -> bool:
        """Keep ``chunk`` of ``stream`` (``"stdout"`` or ``"stderr"``); False once over a limit."""
        self.sizes[stream] += len(chunk)
        if self.sizes[stream] > self.limits[stream]:
            self.over = self.over or stream
            self._chunks[stream].clear()  # nothing over the limit is kept
            return False
        self._chunks[stream].append(chunk)
        return self.over is None

    def room(self, stream: str, chunk: int) -> int:
        """How many bytes to read next from ``stream``: ``chunk``, or one past its limit, whichever is less.

        >>> OutputCollector(stdout_limit=10).room("stdout", 65536)
        11
        """
        return max(1, min(chunk, self.limits[stream] - self.sizes[stream] + 1))

    def output(self, stream: str) -> bytes:
        """Everything kept from ``stream``."""
        return b"".join(self._chunks[stream])

    def too_large(self, host: str, address: str, command: str) -> OutputTooLarge:
        """The error for the stream that went over its limit."""
        stream = self.over or "stdout"
        return OutputTooLarge(
            host,
            address,
            f"output too large: more than {human_size(self.limits[stream])} on {stream} "
            f"({self.sizes[stream]} bytes read when reading stopped)",
            command,
        )


def short_command(command: str) -> str:
    """The first line of a command, cut to 80 characters, for messages.

    >>> short_command("B=x\\nemit /proc/cmdline")
    'B=x…'
    """
    first = command.strip().splitlines()[0] if command.strip() else ""
    return first[:80] + ("…" if len(first) > 80 or "\n" in command.strip() else "")
