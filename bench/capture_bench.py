"""How cheap the capture is on the compute: the old script against the new, in one run.

    python -m bench.capture_bench [--runs 200] [--ssh-runs 40] [--big-nodes 8] [--big-cpus 768]

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
- the same on a made-up big host (``--big-nodes``, ``--big-cpus``: its
  zoneinfo has a pageset per CPU per zone, 1.4 MB by default), plain and
  compressed, which is where compression pays.

Results in reports/bench/capture.json; ratios are old / new.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

from bench.gather_bench import start_fleet
from tests.capture_shells import SHELLS, shell_command
from tests.capture_v1 import build_v1_script, parse_v1_stream, v1_sources
from tests.sshd_rig import SshdServer, make_shared_dir
from vrouter_preflight.capture import (
    FACT_SOURCES,
    Capture,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)
from vrouter_preflight.transport.pool import TransportPool

ROOT = Path(__file__).resolve().parent.parent
NEVER = 1 << 40  # a compress_above no answer reaches
PAGETYPEINFO = "/proc/pagetypeinfo"
# The kernel walks every free list to print pagetypeinfo (milliseconds when much memory is free, and it
# changes from one minute to the next); both scripts pay it alike, so it is also measured without it.
OLD_WITHOUT, NEW_WITHOUT = "old, no pagetypeinfo", "new, no pagetypeinfo"
Script = tuple[str, Callable[[str], dict[str, Capture]]]


def scripts(sources: Sequence[FactSource], boundary: str) -> dict[str, Script]:
    """The ways measured: name -> (script, parser of its answer)."""
    without = [source for source in sources if source.key != PAGETYPEINFO]
    return {
        "shell alone (floor)": ("true", lambda out: {}),
        "old": (build_v1_script(v1_sources(sources), boundary), lambda out: parse_v1_stream(out, boundary)),
        "new": (build_capture_script(sources, boundary), lambda out: read_capture_answer(out, boundary)),
        OLD_WITHOUT: (build_v1_script(v1_sources(without), boundary), lambda out: parse_v1_stream(out, boundary)),
        NEW_WITHOUT: (build_capture_script(without, boundary), lambda out: read_capture_answer(out, boundary)),
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
                "cpu_ms_min": min(samples),
                "answer_bytes": size[(shell, way)],
                **processes(shell, script),
            }
        result["shells"][shell] = rows
    return result


@contextmanager
def one_sshd() -> Iterator[tuple[Any, int]]:
    """One loopback sshd: the suite's SSH transport to it and the listener's pid."""
    workdir = make_shared_dir("vrpf-capture-bench-")
    servers: list[SshdServer] = []
    pool = TransportPool()
    try:
        servers, specs = start_fleet(1, workdir)
        assert servers[0].pid is not None
        yield pool.get(specs[0]), servers[0].pid
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


def tree_cpu_ms(root: int) -> float:
    """CPU milliseconds used so far by every process below ``root`` and the children they reaped."""
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            parents.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            total += sum(int(value) for value in stats[child][11:15])  # utime stime cutime cstime
            todo.append(child)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def ssh_rounds(transport: Any, listener: int, ways: dict[str, Script], runs: int) -> dict[str, Any]:
    """Per way over SSH: data packets, characters, controller CPU (parse included), sshd + compute CPU."""
    keys = ("packets", "chars", "controller", "target")
    stats: dict[str, dict[str, list[float]]] = {way: {key: [] for key in keys} for way in ways}
    transport.run("true")  # connect before measuring
    for _ in range(runs):
        for way, (script, parse) in ways.items():
            target = tree_cpu_ms(listener)
            with PacketCount() as count:
                started = time.process_time()
                result = transport.run(script)
                parse(result.stdout)
                spent = time.process_time() - started
            stats[way]["target"].append(tree_cpu_ms(listener) - target)
            stats[way]["packets"].append(count.packets)
            stats[way]["chars"].append(len(result.stdout))
            stats[way]["controller"].append(spent * 1000)
    return {
        way: {
            "packets_median": statistics.median(s["packets"]),
            "stdout_chars": statistics.median(s["chars"]),
            "controller_cpu_ms_median": statistics.median(s["controller"]),
            "sshd_and_compute_cpu_ms_mean": statistics.fmean(s["target"]),  # clock ticks: the mean is the figure
        }
        for way, s in stats.items()
    }


def big_zoneinfo(nodes: int, cpus: int) -> str:
    """A zoneinfo as a host with ``cpus`` CPUs on ``nodes`` nodes prints it: a pageset per CPU per zone."""
    rng = random.Random(15)
    parts = []
    for node in range(nodes):
        for zone in ("DMA32", "Normal") if node == 0 else ("Normal",):
            parts.append(
                f"Node {node}, zone {zone:>8}\n  pages free     {rng.randrange(10**7)}\n"
                f"        min      {rng.randrange(10**5)}\n        managed  {rng.randrange(10**8)}\n  pagesets\n"
            )
            parts.extend(
                f"    cpu: {cpu}\n              count: {rng.randrange(400)}\n"
                f"              high:  {rng.choice((378, 4096))}\n              batch: 63\n"
                f"  vm stats threshold: {rng.choice((48, 64, 125))}\n"
                for cpu in range(cpus)
            )
    return "".join(parts)


def big_tree(root: str, nodes: int, cpus: int) -> list[FactSource]:
    """FACT_SOURCES, with /proc/zoneinfo read below ``root`` from a made-up big host."""
    target = Path(root, "proc")
    target.mkdir(parents=True)
    (target / "zoneinfo").write_text(big_zoneinfo(nodes, cpus))
    return [FactSource(root + s.pattern) if s.pattern == "/proc/zoneinfo" else s for s in FACT_SOURCES]


def same_captures(ways: dict[str, Script]) -> bool:
    """True when each new way's parse results agree with its old way's here (what the kernel rewrites: status only)."""
    volatile = re.compile(r"^/proc/(meminfo|buddyinfo|zoneinfo|pagetypeinfo|cpuinfo)$|/node\d+/meminfo$")
    results = {}
    for way, (script, parse) in ways.items():
        argv, env = shell_command("dash", script)
        results[way] = parse(subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout)
    for way, captures in results.items():
        old = results[OLD_WITHOUT if way == NEW_WITHOUT else "old"]
        if not way.startswith("new"):
            continue
        if list(captures) != list(old):
            return False
        for path, capture in captures.items():
            if capture.status != old[path].status or (not volatile.search(path) and capture != old[path]):
                return False
    return True


def ratio(old: float, new: float) -> float:
    """old / new, rounded; infinity when new is zero."""
    return round(old / new, 2) if new else float("inf")


def local_dash(ways: dict[str, Script], runs: int) -> dict[str, Any]:
    """Interleaved runs under dash only: median CPU and the answer's bytes."""
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    size: dict[str, int] = {}
    for _ in range(runs):
        for way, (script, _) in ways.items():
            ms, size[way] = run_once("dash", script)
            cpu[way].append(ms)
    return {way: {"cpu_ms_median": statistics.median(cpu[way]), "answer_bytes": size[way]} for way in ways}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="local runs of each way under each shell (default 200)")
    parser.add_argument("--ssh-runs", type=int, default=40, help="runs of each way over SSH (default 40)")
    parser.add_argument("--big-nodes", type=int, default=8, help="NUMA nodes of the made-up big host (default 8)")
    parser.add_argument("--big-cpus", type=int, default=768, help="CPUs of the made-up big host (default 768)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench" / "capture.json"))
    args = parser.parse_args(argv)

    boundary = new_boundary()
    ways = scripts(FACT_SOURCES, boundary)
    if not same_captures(ways):
        raise SystemExit("the new script's captures differ from the old one's on this machine")
    report: dict[str, Any] = {"runs": args.runs, "ssh_runs": args.ssh_runs, "cpus": os.cpu_count()}
    report["load_average_before"] = os.getloadavg()
    print(f"local: {args.runs} runs of each way under {', '.join(SHELLS)}, interleaved")
    report["local"] = local_rounds(ways, args.runs)
    ssh_ways = {way: ways[way] for way in ways if way not in (OLD_WITHOUT, NEW_WITHOUT)}
    with tempfile.TemporaryDirectory(prefix="vrpf-big-") as root:
        big = scripts(big_tree(root, args.big_nodes, args.big_cpus), boundary)
        for way in ("shell alone (floor)", OLD_WITHOUT, NEW_WITHOUT):
            big.pop(way)
        report["big_host"] = {"nodes": args.big_nodes, "cpus": args.big_cpus}
        report["big_host"]["local_dash"] = local_dash(big, max(4, args.runs // 8))
        with one_sshd() as (transport, listener):
            print(f"ssh: {args.ssh_runs} runs of each way over one loopback sshd")
            report["ssh"] = ssh_rounds(transport, listener, ssh_ways, args.ssh_runs)
            report["big_host"]["ssh"] = ssh_rounds(transport, listener, big, max(4, args.ssh_runs // 4))
    report["load_average_after"] = os.getloadavg()

    print_report(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {output}")
    return 0


def print_report(report: dict[str, Any]) -> None:
    """The figures as tables, with old/new ratios."""
    local = report["local"]
    print(
        f"\nload average before/after: {report['load_average_before'][0]:.1f} / {report['load_average_after'][0]:.1f}"
    )
    print(f"one read of /proc/pagetypeinfo costs the kernel {local['pagetypeinfo_read_ms_median']:.2f} ms (median)")
    print(f"{'shell':<14}{'way':<24}{'CPU ms':>8}{'(min)':>8}{'fork':>6}{'exec':>6}{'bytes':>9}")
    for shell, rows in local["shells"].items():
        for way, row in rows.items():
            print(
                f"{shell:<14}{way:<24}{row['cpu_ms_median']:8.2f}{row['cpu_ms_min']:8.2f}"
                f"{row['fork']:6d}{row['exec']:6d}{row['answer_bytes']:9d}"
            )
        for old_way, new_way in (("old", "new"), (OLD_WITHOUT, NEW_WITHOUT)):
            old, new = rows[old_way], rows[new_way]
            print(
                f"{'':<14}{old_way + ' / new':<24}{ratio(old['cpu_ms_median'], new['cpu_ms_median']):8.2f}"
                f"{ratio(old['cpu_ms_min'], new['cpu_ms_min']):8.2f}"
                f"{ratio(old['fork'], new['fork']):6.1f}{ratio(old['exec'], new['exec']):6.1f}"
                f"{ratio(old['answer_bytes'], new['answer_bytes']):9.2f}"
            )
    big = report["big_host"]
    for title, ssh in (
        ("this machine", report["ssh"]),
        (f"big host ({big['nodes']} nodes, {big['cpus']} CPUs)", big["ssh"]),
    ):
        print(f"\nover SSH, {title}:")
        print(f"  {'way':<24}{'packets':>8}{'chars':>10}{'controller ms':>15}{'sshd+compute ms':>17}")
        for way, row in ssh.items():
            print(
                f"  {way:<24}{row['packets_median']:8.0f}{row['stdout_chars']:10.0f}"
                f"{row['controller_cpu_ms_median']:15.2f}{row['sshd_and_compute_cpu_ms_mean']:17.2f}"
            )
    print("\nbig host, run locally under dash:")
    for way, row in big["local_dash"].items():
        print(f"  {way:<24}{row['cpu_ms_median']:8.2f} ms{row['answer_bytes']:10d} bytes")


if __name__ == "__main__":
    sys.exit(main())
