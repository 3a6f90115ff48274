"""What the fleet bench reads from /proc and from its command wrapper: pure parsers, then small readers.

Every parser takes the text of one file and returns numbers in seconds or
KiB; the readers at the end only open the file and call the parser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Clock ticks per second of /proc's CPU times (``getconf CLK_TCK``; 100 on Linux).
TICKS = os.sysconf("SC_CLK_TCK")
#: The largest /proc or wrapper file the bench reads (a /proc/<pid>/status is ~1.5 KB).
MAX_READ = 64 * 1024


@dataclass(frozen=True)
class ProcessCpu:
    """CPU seconds of one process (``/proc/<pid>/stat``): its own, and its reaped children's."""

    user: float
    system: float
    children_user: float
    children_system: float

    @property
    def total(self) -> float:
        """Own plus reaped children's CPU, in seconds."""
        return self.user + self.system + self.children_user + self.children_system


def parse_proc_stat(text: str, ticks: int = TICKS) -> ProcessCpu:
    """The CPU fields of a ``/proc/<pid>/stat`` line (utime, stime, cutime, cstime).

    The command name may hold spaces and parentheses, so fields are counted
    after the last ``)``.

    >>> line = "4242 (sshd: a) b) S 1 4242 4242 0 -1 4194560 900 5 0 0 12 3 250 75 20 0 1 0 99 1 2"
    >>> parse_proc_stat(line, ticks=100)
    ProcessCpu(user=0.12, system=0.03, children_user=2.5, children_system=0.75)
    >>> parse_proc_stat("4242 (sshd) S 1")
    Traceback (most recent call last):
    ValueError: /proc/<pid>/stat: 2 fields after the name, at least 15 expected
    """
    fields = text.rsplit(")", 1)[-1].split()
    if len(fields) < 15:
        raise ValueError(f"/proc/<pid>/stat: {len(fields)} fields after the name, at least 15 expected")
    utime, stime, cutime, cstime = (int(value) / ticks for value in fields[11:15])
    return ProcessCpu(utime, stime, cutime, cstime)


@dataclass(frozen=True)
class CommandCpu:
    """What the bench's command wrapper recorded for one command (bash ``times``), in seconds.

    ``shell_*`` is the wrapper shell's own CPU (the login shell sshd started,
    which then ran the wrapper); ``command_*`` is the command's with all it ran.
    """

    shell_user: float
    shell_system: float
    command_user: float
    command_system: float

    @property
    def command(self) -> float:
        """The command's CPU seconds (user + system)."""
        return self.command_user + self.command_system

    @property
    def shell(self) -> float:
        """The wrapper shell's own CPU seconds (user + system)."""
        return self.shell_user + self.shell_system


_TIMES_VALUE = re.compile(r"(\d+)m(\d+(?:\.\d+)?)s")


def parse_bash_times(text: str) -> CommandCpu:
    """One wrapper record: bash ``times`` output, the shell's line then its children's.

    >>> parse_bash_times("0m0.002s 0m0.001s\\n1m0.012s 0m0.020s\\n")
    CommandCpu(shell_user=0.002, shell_system=0.001, command_user=60.012, command_system=0.02)
    >>> parse_bash_times("0m0.002s 0m0.001s\\n")
    Traceback (most recent call last):
    ValueError: bash times: 2 values, 4 expected (two lines of user and system time)
    """
    values = [int(minutes) * 60 + float(seconds) for minutes, seconds in _TIMES_VALUE.findall(text)]
    if len(values) != 4:
        raise ValueError(f"bash times: {len(values)} values, 4 expected (two lines of user and system time)")
    return CommandCpu(*values)


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU counters (the ``cpu`` line of ``/proc/stat``), in seconds."""

    busy: float
    total: float


def parse_machine_cpu(text: str, ticks: int = TICKS) -> MachineCpu:
    """Busy and total seconds of all CPUs from ``/proc/stat`` (idle and iowait are not busy).

    >>> parse_machine_cpu("cpu  100 5 50 800 20 1 2 3 0 0\\ncpu0 50 2 25 400 10 0 1 1 0 0\\n", ticks=100)
    MachineCpu(busy=1.61, total=9.81)
    """
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            # user nice system idle iowait irq softirq steal (guest time is already in user)
            numbers = [int(value) for value in fields[1:9]]
            idle = numbers[3] + numbers[4]
            return MachineCpu(busy=(sum(numbers) - idle) / ticks, total=sum(numbers) / ticks)
    raise ValueError("/proc/stat: no 'cpu' line")


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages of ``/proc/loadavg``.

    >>> parse_loadavg("1.52 0.98 0.40 3/210 12345\\n")
    (1.52, 0.98, 0.4)
    """
    one, five, fifteen = (float(value) for value in text.split()[:3])
    return one, five, fifteen


def parse_kib_field(text: str, field: str) -> int | None:
    """A ``Name:  1234 kB`` value of ``/proc/<pid>/status`` or ``/proc/meminfo`` in KiB; None when absent.

    >>> parse_kib_field("Name:\\tpython\\nVmHWM:\\t  81234 kB\\nVmRSS:\\t  80000 kB\\n", "VmHWM")
    81234
    >>> parse_kib_field("MemTotal: 24683256 kB\\n", "MemAvailable") is None
    True
    """
    prefix = field + ":"
    for line in text.splitlines():
        if line.startswith(prefix):
            return int(line[len(prefix) :].split()[0])
    return None


def parse_children(texts: Iterable[str]) -> list[int]:
    """The pids of ``/proc/<pid>/task/<tid>/children`` files (one per thread of a process).

    >>> parse_children(["101 102 ", "", "230\\n"])
    [101, 102, 230]
    """
    return [int(pid) for text in texts for pid in text.split()]


# ---------------------------------------------------------------------- readers


def read_text(path: str) -> str:
    """A /proc (or small) file's text, at most :data:`MAX_READ` characters; "" when it is gone."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_READ)
    except (FileNotFoundError, ProcessLookupError):
        return ""


def process_cpu(pid: int) -> ProcessCpu | None:
    """The CPU seconds of a live process; None when it is gone."""
    text = read_text(f"/proc/{pid}/stat")
    return parse_proc_stat(text) if text else None


def children_of(pid: int) -> list[int]:
    """The live children of ``pid`` (of every thread), from /proc."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return []
    return parse_children(read_text(f"/proc/{pid}/task/{tid}/children") for tid in tids)


def process_tree(root: int) -> list[int]:
    """``root`` and every live descendant of it.

    >>> os.getpid() in process_tree(os.getpid())
    True
    """
    found = [root]
    todo = [root]
    while todo:
        children = children_of(todo.pop())
        found.extend(children)
        todo.extend(children)
    return found


def machine_cpu() -> MachineCpu:
    """The machine's busy and total CPU seconds so far."""
    return parse_machine_cpu(read_text("/proc/stat"))


def loadavg() -> tuple[float, float, float]:
    """The machine's load averages now."""
    return parse_loadavg(read_text("/proc/loadavg"))
