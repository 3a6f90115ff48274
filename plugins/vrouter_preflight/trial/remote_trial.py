# mypy: ignore-errors
# ruff: noqa: UP024, UP031, SIM105
"""The trial helper: runs ON the compute, under Python 2.7 or 3.x, with the stdlib only
(ctypes, json, mmap, os, platform, select, signal, sys, time).

Sent by plugins/vrouter_preflight/trial/runner.py as ``python -c <this source> <JSON arguments>``.
For each page size it reads every hugepage pool (global and per NUMA node),
refuses without allocating when free - resv pages are fewer than the tables
need, else forks a worker that (optionally bound to one node with
set_mempolicy(MPOL_BIND)) maps anonymous MAP_HUGETLB memory of the flow and
bridge table sizes, one mapping per table, and touches every page. The
supervisor reads the pools while the worker holds them, releases it, reads
them again, and prints ONE JSON document.

Anonymous hugetlb memory belongs to the worker: the kernel frees it when the
worker dies, whatever ends it (exit, SIGKILL, the supervisor dying, which
PR_SET_PDEATHSIG turns into SIGKILL, the SIGALRM deadline). Keep this file
compatible with Python 2.7 (vermin checks it): no f-strings, no annotations.
"""

import ctypes
import json
import mmap
import os
import platform
import select
import signal
import sys
import time

HELPER_VERSION = 1
GLOBAL = "/sys/kernel/mm/hugepages"
NODES = "/sys/devices/system/node"
COUNTERS = (
    ("nr", "nr_hugepages"),
    ("free", "free_hugepages"),
    ("resv", "resv_hugepages"),
    ("surplus", "surplus_hugepages"),
)
MACHINE = platform.machine()
# set_mempolicy(2) per `uname -m` (arch/*/syscall tables); asm-generic for arm64, riscv64, loongarch64.
SET_MEMPOLICY = {
    "x86_64": 238, "i386": 276, "i486": 276, "i586": 276, "i686": 276,
    "aarch64": 237, "arm64": 237, "riscv64": 237, "loongarch64": 237,
    "armv6l": 321, "armv7l": 321, "armv8l": 321,
    "ppc64": 261, "ppc64le": 261, "ppc": 261, "s390x": 270,
}  # fmt: skip
MPOL_BIND = 2
PR_SET_PDEATHSIG = 1
MAP_HUGETLB = 0x80000 if MACHINE.startswith("mips") else 0x40000
MAP_HUGE_SHIFT = 26
SETTLE_SECONDS = 3.0


class Stop(Exception):
    """The deadline passed or a signal asked the supervisor to stop."""


def read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return None


def node_ids():
    try:
        names = os.listdir(NODES)
    except OSError:
        return []
    return sorted(int(n[4:]) for n in names if n.startswith("node") and n[4:].isdigit())


def counters(directory):
    found = {}
    for key, name in COUNTERS:
        value = read_int(os.path.join(directory, name))
        if value is not None:
            found[key] = value
    return found


def pools():
    """Every counter of every pool: {size_kib: {"global": {...}, "nodes": {node: {...}}}}."""
    state = {}
    try:
        names = os.listdir(GLOBAL)
    except OSError:
        names = []
    nodes = node_ids()
    for name in names:
        if not (name.startswith("hugepages-") and name.endswith("kB")):
            continue
        size = name[len("hugepages-") : -2]
        per_node = {}
        for node in nodes:
            found = counters(os.path.join(NODES, "node%d" % node, "hugepages", name))
            if found:
                per_node[str(node)] = found
        state[size] = {"global": counters(os.path.join(GLOBAL, name)), "nodes": per_node}
    return state


def bind_to_node(node):
    """set_mempolicy(MPOL_BIND, {node}) for this process; returns an error text or None."""
    number = SET_MEMPOLICY.get(MACHINE)
    if number is None:
        return "binding to a NUMA node is not supported on %s (no set_mempolicy number known)" % MACHINE
    libc = ctypes.CDLL(None, use_errno=True)
    bits = 8 * ctypes.sizeof(ctypes.c_ulong)
    mask = (ctypes.c_ulong * (node // bits + 1))()
    mask[node // bits] = 1 << (node % bits)
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(number), ctypes.c_long(MPOL_BIND), mask, ctypes.c_ulong(len(mask) * bits + 1))
    if rc != 0:
        err = ctypes.get_errno()
        return "set_mempolicy(MPOL_BIND, node %d) failed: %s" % (node, os.strerror(err))
    return None


def send(fd, event):
    os.write(fd, (json.dumps(event) + "\n").encode("ascii"))


def worker(size_kib, tables, node, deadline, supervisor, ready_fd, release_fd):
    """In the child: bind, map and touch every page, report, hold until released."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.alarm(deadline + 2)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (AttributeError, OSError):
        pass
    if os.getppid() != supervisor:
        return 1
    if node is not None:
        problem = bind_to_node(node)
        if problem is not None:
            send(ready_fd, {"event": "error", "stage": "bind", "reason": problem})
            return 3
    page = size_kib * 1024
    shift = page.bit_length() - 1
    flags = mmap.MAP_PRIVATE | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT)
    held = []
    for name, pages in tables:
        if not pages:
            continue
        try:
            mapping = mmap.mmap(-1, pages * page, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except (EnvironmentError, mmap.error) as exc:
            send(ready_fd, {"event": "error", "stage": "mmap", "reason": "mmap of the %s table: %s" % (name, exc)})
            return 4
        for index in range(pages):
            mapping[index * page : index * page + 1] = b"\x01"
        held.append(mapping)
    send(ready_fd, {"event": "ready"})
    os.read(release_fd, 1)
    for mapping in held:
        mapping.close()
    return 0


def read_event(fd):
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        data += chunk
    return json.loads(data.decode("ascii"))


def died(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGBUS:
            return "the worker got SIGBUS touching a page: the kernel could not back a page it had mapped"
        return "the worker was killed by signal %d" % sig
    return "the worker exited with status %d" % os.WEXITSTATUS(status)


def settle(before):
    """Read the pools until they equal ``before`` (freeing can lag a little), at most SETTLE_SECONDS."""
    started = time.time()
    while True:
        after = pools()
        waited = time.time() - started
        if after == before or waited >= SETTLE_SECONDS:
            return after, round(waited, 3)
        time.sleep(0.05)


def pages_for(size_bytes, size_kib):
    page = size_kib * 1024
    return (size_bytes + page - 1) // page


def trial(size_kib, args):
    node = args["node"]
    tables = [("flow", pages_for(args["flow_bytes"], size_kib)), ("bridge", pages_for(args["bridge_bytes"], size_kib))]
    need = sum(pages for _, pages in tables)
    result = {"size_kib": size_kib, "need": dict(tables), "status": "ok", "reason": "", "supply": {}}
    before = pools()
    result["before"] = before
    pool = before.get(str(size_kib))
    glob = {} if pool is None else pool["global"]
    if "free" not in glob:
        result["status"] = "short"
        result["reason"] = "the kernel has no %d kB hugepage pool" % size_kib
        result["supply"] = {"free": 0, "resv": 0, "available": 0}
        result["after"], result["settle_seconds"] = settle(before)
        return result
    supply = {"free": glob["free"], "resv": glob.get("resv", 0)}
    supply["available"] = supply["free"] - supply["resv"]
    if node is not None:
        supply["node_free"] = pool["nodes"].get(str(node), {}).get("free", 0)
    result["supply"] = supply
    short = supply["available"] < need or (node is not None and supply["node_free"] < need)
    if short:
        result["status"] = "short"
        result["reason"] = "refused without allocating"
        result["after"], result["settle_seconds"] = settle(before)
        return result
    ready_r, ready_w = os.pipe()
    release_r, release_w = os.pipe()
    supervisor = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(ready_r)
            os.close(release_w)
            code = worker(size_kib, tables, node, args["deadline"], supervisor, ready_w, release_r)
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(release_r)
    reaped = False
    try:
        event = read_event(ready_r)
        if event is None:
            status = os.waitpid(pid, 0)[1]
            reaped = True
            result["status"] = "failed"
            result["reason"] = died(status)
        elif event["event"] == "error":
            result["status"] = "error" if event["stage"] == "bind" else "failed"
            result["reason"] = event["reason"]
        else:
            result["during"] = pools()
            if args["hold"]:
                # Held for the tests; a worker that dies meanwhile closes its end of the pipe.
                select.select([ready_r], [], [], args["hold"])
            try:
                os.write(release_w, b"x")
            except OSError:
                pass
            status = os.waitpid(pid, 0)[1]
            reaped = True
            if status != 0:
                result["status"] = "failed"
                result["reason"] = died(status)
    except Stop as stop:
        signal.alarm(0)
        result["status"] = "timeout" if str(stop) == "deadline" else "interrupted"
        result["reason"] = "stopped by %s while the worker held the pages" % stop
    finally:
        if not reaped:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(release_w)
    result["after"], result["settle_seconds"] = settle(before)
    return result


def stop_on(name):
    def handler(signum, frame):
        raise Stop(name)

    return handler


def main(argv):
    args = json.loads(argv[1])
    signal.signal(signal.SIGALRM, stop_on("deadline"))
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT"), (signal.SIGHUP, "SIGHUP")):
        signal.signal(sig, stop_on(name))
    signal.alarm(int(args["deadline"]))
    report = {
        "helper": HELPER_VERSION,
        "python": platform.python_version(),
        "machine": MACHINE,
        "node": args["node"],
        "marker": args["marker"],
        "error": None,
        "trials": [],
    }
    try:
        for size_kib in args["sizes_kib"]:
            done = trial(size_kib, args)
            report["trials"].append(done)
            if done["status"] in ("timeout", "interrupted"):
                break
    except Stop as stop:
        report["error"] = "stopped by %s" % stop
    except Exception as exc:
        report["error"] = "%s: %s" % (type(exc).__name__, exc)
    signal.alarm(0)
    try:
        sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
        sys.stdout.flush()
    except (IOError, OSError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
