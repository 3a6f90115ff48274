"""Run one command and measure its whole process tree: CPU, peak memory, wall, within a wall cap.

    python -m bench.tree_run --out STATS.json --cap SECONDS [--stdout FILE] -- COMMAND...

The fleet bench starts this in a fresh process for every run, so that
``getrusage(RUSAGE_CHILDREN)`` here covers exactly that run. It becomes a
child subreaper (``PR_SET_CHILD_SUBREAPER``): a process of the tree that is
orphaned (an xdist worker whose parent did not wait, an ``ssh`` ControlMaster
that daemonised) is re-parented here, sent SIGTERM once the command has
exited, and reaped, so its CPU counts too.

Peak memory comes three ways: ``ru_maxrss`` (exact, but of the single largest
process); the peak of the tree's total RSS (the sum of ``VmRSS`` over the
tree's live processes, sampled every ``--sample`` seconds: a lower bound); and
the sum over every process the samples saw of its own peak (``VmHWM``), which
overstates a tree of many short-lived processes.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.proc_stats import loadavg, machine_cpu, parse_kib_field, process_tree, read_text

PR_SET_CHILD_SUBREAPER = 36
#: How long orphans left behind (e.g. ssh ControlMasters) get to exit after SIGTERM before SIGKILL.
ORPHAN_GRACE = 5.0


class TreeSampler(threading.Thread):
    """Every ``interval`` seconds: each process's peak RSS in the tree under ``root``, the machine's free memory."""

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_kib: dict[int, int] = {}
        self.peak_total_kib = 0
        self.lowest_available_kib: int | None = None
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self) -> None:
        """Read VmHWM and VmRSS of every process in the tree (skipping this process) and MemAvailable."""
        total = 0
        for pid in process_tree(self.root):
            if pid == self.root:
                continue
            status = read_text(f"/proc/{pid}/status")
            hwm = parse_kib_field(status, "VmHWM")
            if hwm is not None and hwm > self.peak_kib.get(pid, 0):
                self.peak_kib[pid] = hwm
            total += parse_kib_field(status, "VmRSS") or 0
        self.peak_total_kib = max(self.peak_total_kib, total)
        available = parse_kib_field(read_text("/proc/meminfo"), "MemAvailable")
        if available is not None and (self.lowest_available_kib is None or available < self.lowest_available_kib):
            self.lowest_available_kib = available
        self.samples += 1

    def stop(self) -> None:
        """Stop sampling (after one last sample) and wait for the thread."""
        self._done.set()
        self.join()


def become_subreaper() -> bool:
    """Ask Linux to re-parent this process's orphaned descendants to it; False where that is not possible."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def signal_tree(sig: int) -> int:
    """Send ``sig`` to every live descendant of this process; returns how many."""
    victims = process_tree(os.getpid())[1:]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return len(victims)


def reap_all(grace: float) -> int:
    """SIGTERM what is left of the tree, reap it all (SIGKILL after ``grace`` seconds); returns how many reaped."""
    reaped = 0
    signal_tree(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid:
            reaped += 1
            continue
        if time.monotonic() > deadline:
            signal_tree(signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(0.05)


def run_measured(
    argv: Sequence[str], *, cap: float, sample: float, stdout_path: str | None, cwd: str | None = None
) -> dict[str, Any]:
    """Run ``argv`` (in ``cwd``) to its end (or kill its tree after ``cap`` seconds) and measure it."""
    subreaper = become_subreaper()
    cpu_before, load_before = machine_cpu(), loadavg()
    available_before = parse_kib_field(read_text("/proc/meminfo"), "MemAvailable")
    output = open(stdout_path or os.devnull, "wb")  # noqa: SIM115  # closed below, after the child ends
    sampler = TreeSampler(os.getpid(), sample)
    started = time.perf_counter()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
        sampler.start()
        try:
            returncode: int | None = process.wait(timeout=cap)
        except subprocess.TimeoutExpired:
            signal_tree(signal.SIGKILL)
            process.wait()
            returncode = None
        wall = time.perf_counter() - started
        sampler.stop()
        orphans = reap_all(ORPHAN_GRACE)
    finally:
        output.close()
    cpu_after, load_after = machine_cpu(), loadavg()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "argv": list(argv),
        "returncode": returncode,
        "finished": returncode is not None,
        "wall_s": wall,
        "cpu_user_s": usage.ru_utime,
        "cpu_system_s": usage.ru_stime,
        "largest_process_peak_rss_kib": usage.ru_maxrss,
        "sum_of_process_peaks_rss_kib": sum(sampler.peak_kib.values()),
        "tree_peak_rss_kib": sampler.peak_total_kib,
        "processes_seen": len(sampler.peak_kib),
        "rss_samples": sampler.samples,
        "orphans_reaped": orphans,
        "subreaper": subreaper,
        "machine_busy_s": cpu_after.busy - cpu_before.busy,
        "machine_cpu_s": cpu_after.total - cpu_before.total,
        "loadavg_before": list(load_before),
        "loadavg_after": list(load_after),
        "mem_available_before_kib": available_before,
        "mem_available_lowest_kib": sampler.lowest_available_kib,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="where to write the measurements (JSON)")
    parser.add_argument("--cap", type=float, default=900.0, help="wall seconds before the tree is killed")
    parser.add_argument("--sample", type=float, default=0.5, help="seconds between memory samples")
    parser.add_argument("--stdout", default=None, help="file for the command's stdout and stderr")
    parser.add_argument("--cwd", default=None, help="the command's working directory (default: this one)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command after --")
    stats = run_measured(command, cap=args.cap, sample=args.sample, stdout_path=args.stdout, cwd=args.cwd)
    Path(args.out).write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
