"""How cheap the capture is on the compute: the old script against the new, in one run.

    python -m bench.capture_bench [--runs 200] [--ssh-runs 40] [--big-kib 1024]

Both scripts read this machine's FACT_SOURCES. Measured back to back, runs of
the old and the new interleaved so that both meet the same kernel state:

- CPU on the "compute" (this machine), per run: the script's process and every
  process it waited for (``os.wait4``), under ``dash``, ``bash --posix`` and
  busybox ``ash`` with only busybox applets (:mod:`tests.capture_shells`); and,
  in the same rounds, what one read of ``/proc/pagetypeinfo`` costs the kernel
  alone (any reader pays it; it changes with the free lists);
- processes: ``fork``/``clone`` and successful ``execve`` under ``strace -f``;
- the answer's bytes, and over a real sshd on 127.0.0.1 (tests/sshd_rig.py,
  the suite's SSH transport) the SSH data packets the controller receives and
  the controller's CPU per capture, answer parsed;
- the same on a made-up big host (``--big-kib`` of zoneinfo, as with
  hundreds of CPUs), plain and compressed, which is where compression pays.

Results in reports/bench/capture.json; ratios are old / new.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paramiko
from vrouter_preflight.capture import (
    FACT_SOURCES,
    Capture,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)
from vrouter_preflight.transport.pool import TransportPool

from bench.gather_bench import start_fleet
from tests.capture_shells import SHELLS, shell_command
from tests.capture_v1 import build_v1_script, parse_v1_stream, v1_sources
from tests.sshd_rig import SshdServer, make_shared_dir

ROOT = Path(__file__).resolve().parent.parent
NEVER = 1 << 40  # a compress_above no answer reaches
Script = tuple[str, Callable[[str], dict[str, Capture]]]


def scripts(sources: Sequence[FactSource], boundary: str) -> dict[str, Script]:
    """The ways measured: name -> (script, parser of its answer)."""
    return {
        "old": (build_v1_script(v1_sources(sources), boundary), lambda out: parse_v1_stream(out, boundary)),
        "new": (build_capture_script(sources, boundary), lambda out: read_capture_answer(out, boundary)),
        "new, never compressed": (
            build_capture_script(sources, boundary, compress_above=NEVER),
            lambda out: read_capture_answer(out, boundary),
        ),
        "new, always compressed": (
            build_capture_script(sources, boundary, compress_above=0),
            lambda out: read_capture_answer(out, boundary),
        ),
    }


def run_once(shell: str, script: str) -> tuple[float, int]:
    """CPU milliseconds of one run (the script and what it waited for) and its answer's bytes."""
    argv, env = shell_command(shell, script)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    size = len(proc.stdout.read())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (usage.ru_utime + usage.ru_stime) * 1000, size


def pagetypeinfo_ms() -> float:
    """What one read of /proc/pagetypeinfo costs this process (kernel time, mostly)."""
    started = time.process_time()
    with open("/proc/pagetypeinfo", "rb") as handle:
        handle.read()
    return (time.process_time() - started) * 1000


def processes(shell: str, script: str) -> dict[str, int]:
    """Forks and successful execs of one run, counted by ``strace -f -c``."""
    strace = shutil.which("strace")
    if strace is None:
        raise SystemExit("strace is not installed (Debian/Ubuntu package: strace); it counts fork/exec")
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as summary:
        argv, env = shell_command(shell, script)
        trace = [strace, "-f", "-c", "-o", summary.name, "-e", "trace=execve,fork,vfork,clone,clone3", *argv]
        subprocess.run(trace, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        counts = {"fork": 0, "exec": 0}
        for line in summary.read().splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[-1] in ("execve", "fork", "vfork", "clone", "clone3"):
                calls = int(fields[3])
                errors = int(fields[4]) if len(fields) == 6 else 0
                counts["exec" if fields[-1] == "execve" else "fork"] += calls - errors
        counts["exec"] -= 1  # strace's own exec of the shell
        return counts


def local_rounds(ways: dict[str, Script], runs: int) -> dict[str, Any]:
    """Interleaved runs of every way under every shell; medians per run."""
    cpu: dict[tuple[str, str], list[float]] = {(shell, way): [] for shell in SHELLS for way in ways}
    size: dict[tuple[str, str], int] = {}
    kernel: list[float] = []
    for _ in range(runs):
        kernel.append(pagetypeinfo_ms())
        for shell in SHELLS:
            for way, (script, _) in ways.items():
                ms, size[(shell, way)] = run_once(shell, script)
                cpu[(shell, way)].append(ms)
    result: dict[str, Any] = {"pagetypeinfo_read_ms_median": statistics.median(kernel), "shells": {}}
    for shell in SHELLS:
        rows = {}
        for way, (script, _) in ways.items():
            samples = cpu[(shell, way)]
            rows[way] = {
                "cpu_ms_median": statistics.median(samples),
                "cpu_ms_mean": statistics.fmean(samples),
                "answer_bytes": size[(shell, way)],
                **processes(shell, script),
            }
        result["shells"][shell] = rows
    return result


@contextmanager
def one_sshd() -> Iterator[Any]:
    """One loopback sshd and the suite's SSH transport to it."""
    workdir = make_shared_dir("vrpf-capture-bench-")
    servers: list[SshdServer] = []
    pool = TransportPool()
    try:
        servers, specs = start_fleet(1, workdir)
        yield pool.get(specs[0])
    finally:
        pool.close_all()
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class PacketCount:
    """Counts SSH channel data messages (stdout and stderr) the controller receives."""

    _KINDS = (paramiko.common.MSG_CHANNEL_DATA, paramiko.common.MSG_CHANNEL_EXTENDED_DATA)

    def __init__(self) -> None:
        self.packets = 0
        self._table: dict[int, Any] = getattr(paramiko.Transport, "_channel_handler_table")  # noqa: B009 - not in the stubs
        self._handlers = {kind: self._table[kind] for kind in self._KINDS}

    def __enter__(self) -> PacketCount:
        for kind, handler in self._handlers.items():
            self._table[kind] = self._counting(handler)
        return self

    def _counting(self, handler: Callable[[paramiko.Channel, paramiko.Message], None]) -> Any:
        def counted(channel: paramiko.Channel, message: paramiko.Message) -> None:
            self.packets += 1
            handler(channel, message)

        return counted

    def __exit__(self, *exc: object) -> None:
        self._table.update(self._handlers)


def ssh_rounds(transport: Any, ways: dict[str, Script], runs: int) -> dict[str, Any]:
    """Per way over SSH: data packets, bytes received and controller CPU per capture (parse included)."""
    stats: dict[str, dict[str, list[float]]] = {way: {"packets": [], "bytes": [], "cpu": []} for way in ways}
    transport.run("true")  # connect before measuring
    for _ in range(runs):
        for way, (script, parse) in ways.items():
            with PacketCount() as count:
                started = time.process_time()
                result = transport.run(script)
                parse(result.stdout)
                spent = time.process_time() - started
            stats[way]["packets"].append(count.packets)
            stats[way]["bytes"].append(len(result.stdout))
            stats[way]["cpu"].append(spent * 1000)
    return {
        way: {
            "packets_median": statistics.median(s["packets"]),
            "stdout_chars": statistics.median(s["bytes"]),
            "controller_cpu_ms_median": statistics.median(s["cpu"]),
        }
        for way, s in stats.items()
    }


def big_tree(root: str, zoneinfo_kib: int) -> list[FactSource]:
    """FACT_SOURCES read below ``root``, where /proc/zoneinfo is this one's repeated to ``zoneinfo_kib``."""
    live = Path("/proc/zoneinfo").read_bytes()
    target = Path(root, "proc")
    target.mkdir(parents=True)
    (target / "zoneinfo").write_bytes((live * (zoneinfo_kib * 1024 // len(live) + 1))[: zoneinfo_kib * 1024])
    rooted = []
    for source in FACT_SOURCES:
        if source.command is None and source.pattern == "/proc/zoneinfo":
            rooted.append(FactSource(root + source.pattern))
        else:
            rooted.append(source)
    return rooted


def same_captures(ways: dict[str, Script]) -> bool:
    """True when the old and the new script's parse results agree on every stable path here."""
    volatile = re.compile(r"^/proc/(meminfo|buddyinfo|zoneinfo|pagetypeinfo)$|/node\d+/meminfo$")
    results = {}
    for way, (script, parse) in ways.items():
        argv, env = shell_command("dash", script)
        results[way] = parse(subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout)
    old = results.pop("old")
    for captures in results.values():
        if list(captures) != list(old):
            return False
        for path, capture in captures.items():
            if capture.status != old[path].status or (not volatile.search(path) and capture != old[path]):
                return False
    return True


def ratio(old: float, new: float) -> float:
    """old / new, rounded; infinity when new is zero."""
    return round(old / new, 2) if new else float("inf")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="local runs of each way under each shell (default 200)")
    parser.add_argument("--ssh-runs", type=int, default=40, help="runs of each way over SSH (default 40)")
    parser.add_argument(
        "--big-kib", type=int, default=1024, help="zoneinfo size of the made-up big host (default 1024)"
    )
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench" / "capture.json"))
    args = parser.parse_args(argv)

    boundary = new_boundary()
    ways = scripts(FACT_SOURCES, boundary)
    if not same_captures(ways):
        raise SystemExit("the new script's captures differ from the old one's on this machine")
    report: dict[str, Any] = {"runs": args.runs, "ssh_runs": args.ssh_runs, "cpus": os.cpu_count()}
    print(f"local: {args.runs} runs of each way under {', '.join(SHELLS)}, interleaved")
    report["local"] = local_rounds(ways, args.runs)
    with tempfile.TemporaryDirectory(prefix="vrpf-big-") as root:
        big = scripts(big_tree(root, args.big_kib), boundary)
        report["big_host"] = {"zoneinfo_kib": args.big_kib, "local_dash": local_rounds_one(big, args.runs // 4)}
        with one_sshd() as transport:
            print(f"ssh: {args.ssh_runs} runs of each way over one loopback sshd")
            report["ssh"] = ssh_rounds(transport, ways, args.ssh_runs)
            report["big_host"]["ssh"] = ssh_rounds(transport, big, max(4, args.ssh_runs // 4))

    print_report(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {output}")
    return 0


def local_rounds_one(ways: dict[str, Script], runs: int) -> dict[str, Any]:
    """Like :func:`local_rounds` under dash only, without process counts."""
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    size: dict[str, int] = {}
    for _ in range(max(4, runs)):
        for way, (script, _) in ways.items():
            ms, size[way] = run_once("dash", script)
            cpu[way].append(ms)
    return {way: {"cpu_ms_median": statistics.median(cpu[way]), "answer_bytes": size[way]} for way in ways}


def print_report(report: dict[str, Any]) -> None:
    """The figures as a table, with old/new ratios."""
    local = report["local"]
    print(f"\none read of /proc/pagetypeinfo costs the kernel {local['pagetypeinfo_read_ms_median']:.2f} ms here")
    print(f"{'shell':<14}{'way':<24}{'CPU ms':>8}{'fork':>6}{'exec':>6}{'bytes':>9}")
    for shell, rows in local["shells"].items():
        for way, row in rows.items():
            print(
                f"{shell:<14}{way:<24}{row['cpu_ms_median']:8.2f}{row['fork']:6d}{row['exec']:6d}{row['answer_bytes']:9d}"
            )
        old, new = rows["old"], rows["new"]
        print(
            f"{'':<14}{'old / new':<24}{ratio(old['cpu_ms_median'], new['cpu_ms_median']):8.2f}"
            f"{ratio(old['fork'], new['fork']):6.1f}{ratio(old['exec'], new['exec']):6.1f}"
            f"{ratio(old['answer_bytes'], new['answer_bytes']):9.2f}"
        )
    for title, ssh in (("this machine", report["ssh"]), ("big host", report["big_host"]["ssh"])):
        print(f"\nover SSH, {title}: {'packets':>8}{'chars':>10}{'controller CPU ms':>19}")
        for way, row in ssh.items():
            cpu = row["controller_cpu_ms_median"]
            print(f"  {way:<24}{row['packets_median']:8.0f}{row['stdout_chars']:10.0f}{cpu:19.2f}")
    print(f"\nbig host ({report['big_host']['zoneinfo_kib']} KiB zoneinfo), dash:")
    for way, row in report["big_host"]["local_dash"].items():
        print(f"  {way:<24}{row['cpu_ms_median']:8.2f} ms{row['answer_bytes']:10d} bytes")


if __name__ == "__main__":
    sys.exit(main())
