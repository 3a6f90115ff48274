"""The exact shell commands the destructive stage runs, built in one place (pure).

Every value goes through :func:`vrouter_preflight.shell.quote`. Every command that
changes the host is safe to run twice, because the SSH transport re-runs a
command once after a dropped connection:

* pool writes set an absolute value (``echo 3 > .../nr_hugepages``);
* ``sync``, ``drop_caches`` and ``compact_memory`` may repeat harmlessly;
* the reload is NOT idempotent, so :func:`reload_once_command` starts it at
  most once per run (``mkdir`` of a per-run directory is the lock), detached
  from the session (double fork + ``setsid``: a dropped connection, or sshd
  killing its session's processes, does not kill the reload), and then waits
  for its exit status; a re-run after reconnecting only waits.

>>> print(write_pool_command(0, 1048576, 3))
echo 3 > /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vrouter_preflight.facts.lines import is_plain_number
from vrouter_preflight.remediation.bounds import RELOAD_WAIT_CAP, bounded_seconds
from vrouter_preflight.shell import quote

SYNC = "sync"
DROP_CACHES = "echo 3 > /proc/sys/vm/drop_caches"
COMPACT_MEMORY = "echo 1 > /proc/sys/vm/compact_memory"
KMSG = "/dev/kmsg"
RUN_DIR_PREFIX = "/tmp/vrouter-preflight."


def pool_path(node: int, size_kib: int, name: str = "nr_hugepages") -> str:
    """A per-node hugepage pool file.

    >>> pool_path(1, 2048, "free_hugepages")
    '/sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages'
    """
    return f"/sys/devices/system/node/node{int(node)}/hugepages/hugepages-{int(size_kib)}kB/{name}"


def write_pool_command(node: int, size_kib: int, nr: int) -> str:
    """Set one node's pool to ``nr`` pages (an absolute value: idempotent).

    >>> write_pool_command(1, 2048, 0)
    'echo 0 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages'
    """
    if nr < 0:
        raise ValueError(f"negative page count {nr}")
    return f"echo {quote(nr)} > {quote(pool_path(node, size_kib))}"


def read_pools_command(pools: Iterable[tuple[int, int]]) -> str:
    """Print ``node size_kib nr free`` for each ``(node, size_kib)`` (one round trip).

    >>> print(read_pools_command([(0, 2048)]).replace("/sys/devices/system/node/node0/hugepages", "$D"))
    printf '%s %s %s %s\\n' 0 2048 "$(cat $D/hugepages-2048kB/nr_hugepages)" "$(cat $D/hugepages-2048kB/free_hugepages)"
    """
    return "\n".join(
        f"printf '%s %s %s %s\\n' {quote(node)} {quote(size)} "
        f'"$(cat {quote(pool_path(node, size))})" "$(cat {quote(pool_path(node, size, "free_hugepages"))})"'
        for node, size in pools
    )


@dataclass(frozen=True)
class PoolReading:
    """One pool read back: ``nr`` and ``free`` (``None`` when the file could not be read).

    >>> PoolReading(0, 1048576, 4, 4).nr
    4
    """

    node: int
    size_kib: int
    nr: int | None
    free: int | None


def parse_pool_readback(text: str) -> dict[tuple[int, int], PoolReading]:
    """Parse :func:`read_pools_command` output, keyed by ``(node, size_kib)``.

    >>> parse_pool_readback("0 1048576 4 3\\n1 1048576  \\n")[(1, 1048576)]
    PoolReading(node=1, size_kib=1048576, nr=None, free=None)
    """
    readings: dict[tuple[int, int], PoolReading] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or not is_plain_number(fields[0]) or not is_plain_number(fields[1]):
            continue
        numbers = [int(value) if is_plain_number(value) else None for value in fields[2:4]]
        numbers += [None] * (2 - len(numbers))
        node, size = int(fields[0]), int(fields[1])
        readings[(node, size)] = PoolReading(node, size, numbers[0], numbers[1])
    return readings


def run_dir(run: str) -> str:
    """The host directory of one run (reload lock, its output and exit status).

    >>> run_dir("ab12cd")
    '/tmp/vrouter-preflight.ab12cd'
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", run):
        raise ValueError(f"not a run id: {run!r}")
    return RUN_DIR_PREFIX + run


def reload_once_command(reload_command: str, run: str, wait_seconds: float = 3600) -> str:
    """Start ``reload_command`` at most once per run, detached, and wait for its exit status.

    Prints the reload's output and then ``vrpf-reload-rc=<status>``. Run
    again (after a reconnect) it does not start a second reload: it waits
    for the first one's status. The wait itself ends after ``wait_seconds``
    (``vrpf-reload-rc=timeout``, exit 124) so that no waiter outlives its run.

    >>> script = reload_once_command("service supervisor-vrouter restart", "r1")
    >>> "mkdir /tmp/vrouter-preflight.r1/reload" in script, "setsid" in script
    (True, True)
    >>> "n=18300;" in reload_once_command("x", "r1", 1.0e308)    # the wait is clamped, never overflows
    True
    """
    directory = run_dir(run)
    lock = quote(f"{directory}/reload")
    out, rc = quote(f"{directory}/reload/out"), quote(f"{directory}/reload/rc")
    inner = f"({reload_command}) >{out} 2>&1 </dev/null; echo $? >{rc}.tmp; mv {rc}.tmp {rc}"
    ticks = max(1, int(bounded_seconds(wait_seconds, RELOAD_WAIT_CAP + 60) * 5))
    return (
        f"mkdir -p {quote(directory)} && if mkdir {lock} 2>/dev/null; then "
        f"(setsid sh -c {quote(inner)} </dev/null >/dev/null 2>&1 &); fi; "
        f"n={ticks}; while [ ! -s {rc} ] && [ $n -gt 0 ]; do sleep 0.2; n=$((n-1)); done; "
        f"if [ ! -s {rc} ]; then echo vrpf-reload-rc=timeout; exit 124; fi; "
        f"cat {out}; printf 'vrpf-reload-rc=%s\\n' \"$(cat {rc})\""
    )


_RELOAD_RC = re.compile(r"^vrpf-reload-rc=(-?\d+)\s*$", re.MULTILINE)


def parse_reload_status(stdout: str) -> tuple[int | None, str]:
    """The reload's exit status and output from :func:`reload_once_command`'s stdout.

    >>> parse_reload_status("stopping\\nvrpf-reload-rc=0\\n")
    (0, 'stopping')
    >>> parse_reload_status("garbage")
    (None, 'garbage')
    """
    match = _RELOAD_RC.search(stdout)
    if match is None:
        return None, stdout.strip()
    return int(match.group(1)), stdout[: match.start()].strip()


def reload_status_command(run: str) -> str:
    """Where the run's reload is, without waiting: and if it never started, make sure it never will.

    Prints ``vrpf-reload=done <status>``, ``vrpf-reload=running``, or
    ``vrpf-reload=not-started`` -- in which case it has just taken the
    reload's lock, so a :func:`reload_once_command` still on its way to the
    host (a dropped connection) cannot start it behind the rollback.

    >>> script = reload_status_command("r1")
    >>> "if mkdir /tmp/vrouter-preflight.r1/reload 2>/dev/null; then echo vrpf-reload=not-started" in script
    True
    """
    directory = run_dir(run)
    lock, rc = quote(f"{directory}/reload"), quote(f"{directory}/reload/rc")
    return (
        f"mkdir -p {quote(directory)} && if mkdir {lock} 2>/dev/null; then echo vrpf-reload=not-started; "
        f"elif [ -s {rc} ]; then printf 'vrpf-reload=done %s\\n' \"$(cat {rc})\"; else echo vrpf-reload=running; fi"
    )


_RELOAD_STATE = re.compile(r"^vrpf-reload=(done|running|not-started)(?: (-?\d+))?\s*$", re.MULTILINE)


def parse_reload_state(stdout: str) -> tuple[str, int | None]:
    """``(state, exit status)`` from :func:`reload_status_command`; ``("unknown", None)`` for anything else.

    >>> parse_reload_state("vrpf-reload=done 0\\n"), parse_reload_state("vrpf-reload=running\\n")
    (('done', 0), ('running', None))
    >>> parse_reload_state("sudo: a password is required")
    ('unknown', None)
    """
    match = _RELOAD_STATE.search(stdout)
    if match is None:
        return "unknown", None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def cleanup_command(run: str) -> str:
    """Remove the run's host directory.

    >>> cleanup_command("r1")
    'rm -rf /tmp/vrouter-preflight.r1'
    """
    return f"rm -rf {quote(run_dir(run))}"


def marker_text(host: str, run: str) -> str:
    """The line written to the kernel log right before the reload (the start of the signature scan).

    >>> marker_text("compute-0", "r1")
    'vrouter-preflight: compute-0 run r1: vRouter reload starts'
    """
    return f"vrouter-preflight: {host} run {run}: vRouter reload starts"


def before_reload_command(marker: str, agent_log: str | None) -> str:
    """Print the uptime and the agent log's size, then mark the kernel log (all before the reload).

    >>> print(before_reload_command("M", "/var/log/a.log"))
    printf 'uptime %s\\n' "$(cut -d' ' -f1 /proc/uptime)"
    printf 'log %s\\n' "$(wc -c < /var/log/a.log 2>/dev/null || echo absent)"
    printf '%s\\n' M > /dev/kmsg 2>/dev/null && echo marked; true
    """
    lines = ["printf 'uptime %s\\n' \"$(cut -d' ' -f1 /proc/uptime)\""]
    if agent_log:
        lines.append(f"printf 'log %s\\n' \"$(wc -c < {quote(agent_log)} 2>/dev/null || echo absent)\"")
    lines.append(f"printf '%s\\n' {quote(marker)} > {KMSG} 2>/dev/null && echo marked; true")
    return "\n".join(lines)


@dataclass(frozen=True)
class BeforeReload:
    """What :func:`before_reload_command` printed.

    >>> parse_before_reload("uptime 812.34\\nlog 1200\\nmarked\\n")
    BeforeReload(uptime=812.34, log_bytes=1200, marked=True)
    """

    uptime: float | None
    log_bytes: int | None
    marked: bool


def parse_before_reload(stdout: str) -> BeforeReload:
    """Parse the output of :func:`before_reload_command`.

    >>> parse_before_reload("uptime 812.34\\nlog absent\\n")    # no agent log yet, /dev/kmsg not writable
    BeforeReload(uptime=812.34, log_bytes=None, marked=False)
    """
    values: Mapping[str, str] = dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)
    uptime_text = values.get("uptime", "").strip()
    log_text = values.get("log", "").strip()
    try:
        uptime = float(uptime_text)
    except ValueError:
        uptime = None
    return BeforeReload(
        uptime=uptime,
        log_bytes=int(log_text) if is_plain_number(log_text) else None,
        marked="marked" in stdout.splitlines(),
    )


def kernel_log_command() -> str:
    """The kernel log with monotonic timestamps (``[  812.345678] text``).

    >>> kernel_log_command()
    'dmesg 2>/dev/null || cat /var/log/kern.log'
    """
    return "dmesg 2>/dev/null || cat /var/log/kern.log"


def agent_log_tail_command(agent_log: str, from_byte: int | None) -> str:
    """The agent log's lines written after ``from_byte`` (the whole file when it shrank: rotated).

    >>> agent_log_tail_command("/var/log/a.log", 1200)
    'f=/var/log/a.log; if [ "$(wc -c < "$f")" -ge 1200 ]; then tail -c +1201 "$f"; else echo @@rotated; cat "$f"; fi'
    """
    start = from_byte or 0
    return (
        f'f={quote(agent_log)}; if [ "$(wc -c < "$f")" -ge {start} ]; then tail -c +{start + 1} "$f"; '
        'else echo @@rotated; cat "$f"; fi'
    )


PERSISTED_SYSCTL_COMMAND = "grep -Hn 'nr_hugepages' /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null; true"
"""Every line naming ``nr_hugepages`` in the persisted sysctl files, as ``path:line:text`` (one command)."""
