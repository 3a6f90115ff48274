"""The fleet bench: the whole suite, as an operator runs it, against K real sshd's on 127.0.0.1.

    python -m bench.fleet_bench [--hosts "100 300 1000"] [--workers "0 1 2"] [--cap 900]
    make bench-fleet [BENCH_FLEET_K="100 300"]

For each fleet size K it starts K loopback sshd's (one port and one sshd
each, a shared ed25519 host key, strict known_hosts, one client key), writes
an inventory of them and runs ``python -m pytest --inventory … --alluredir …
--summary-json … --junitxml …`` (charts at their default) once per ``-n``
(pytest-xdist workers; ``-n 0``, no xdist, is an operator's default), as an operator does: the suite installed from a
wheel-like (non-editable) install into a venv of its runtime pins only
(``.venv/operator``, ``make bench-fleet`` refreshes it), started from an
empty directory (the run's own), so neither the checkout's pytest.ini nor
the development venv's extra pytest plugins (Hypothesis …) take part. At ``--testinfra-at`` hosts (100) it also runs
pytest-testinfra ``-n 2`` reading the same files from the same hosts
(bench/testinfra_capture.py). Each run is measured by ``bench.tree_run``:

- wall: the command's start to its exit;
- controller CPU: user + system of the whole pytest tree (main process,
  xdist workers, anything they ran), from ``getrusage(RUSAGE_CHILDREN)``;
- compute CPU: what the commands the targets ran cost (each sshd runs
  commands through bench/timed_command.sh, which records the command's CPU);
- sshd CPU: the listeners' own and reaped CPU (``/proc/<pid>/stat``) minus
  the commands' and the wrapper shell's: sshd's handshakes, crypto, sessions;
- controller peak RSS: the largest single process (``ru_maxrss``, exact) and
  the whole tree at its peak (the sum of its processes' RSS, sampled);
- hosts lost: hosts missing from the summary or in ERROR for reachability;
- the machine's load average at the start, and the cores others used.

Other work on the machine shares its cores: CPU figures are the reliable
ones, wall times come with the load. Results: reports/bench/fleet.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.fleet_inventory import (
    SshFiles,
    host_name,
    inventory_yaml,
    openssh_client_config,
    ssh_uris,
)
from bench.fleet_table import BASELINE, RunRow, hosts_lost, junit_hosts_lost, ratio_lines, render_table
from bench.proc_stats import (
    CommandCpu,
    ProcessCpu,
    children_of,
    loadavg,
    machine_cpu,
    parse_bash_times,
    parse_kib_field,
    process_cpu,
    read_text,
)
from tests.sshd_rig import (
    SshdServer,
    free_ports,
    generate_client_key,
    make_shared_dir,
    raise_open_files_limit,
    start_many,
    stop_many,
)
from vrouter_preflight.inventory import HostSpec, load_inventory

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "bench" / "timed_command.sh"
TESTINFRA_FILE = ROOT / "bench" / "testinfra_capture.py"
DEFAULT_TESTINFRA_PYTHON = ROOT / ".venv" / "testinfra" / "bin" / "python"
DEFAULT_SUITE_PYTHON = ROOT / ".venv" / "operator" / "bin" / "python"
SUITE = "vrouter-preflight"
T = TypeVar("T")
TESTINFRA = "pytest-testinfra"
#: Environment variables removed from the runs so that every setting is at its default.
SUITE_SETTINGS = ("VRPF_CHARTS", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
#: How an operator starts the installed suite, after the venv's python; :func:`suite_command` adds the options.
SUITE_LAUNCHER = ("-m", "pytest")
#: How long the sshd's get to end their sessions after a run.
DRAIN_S = 60.0


def suite_command(python: Path, inventory: Path, out: Path, workers: int) -> list[str]:
    """THE command a run executes: the installed suite as an operator runs it (``make preflight``'s options).

    >>> suite_command(Path("/v/bin/python"), Path("/b/inventory.yaml"), Path("/b/run"), 2)[:5]
    ['/v/bin/python', '-m', 'pytest', '--inventory', '/b/inventory.yaml']
    """
    return [
        str(python),
        *SUITE_LAUNCHER,
        "--inventory",
        str(inventory),
        f"--junitxml={out / 'junit.xml'}",
        f"--alluredir={out / 'allure-results'}",
        "--clean-alluredir",
        "--summary-json",
        str(out / "summary.json"),
        "-n",
        str(workers),
    ]


def testinfra_command(python: Path, hosts: str, ssh_config: Path, out: Path, workers: int) -> list[str]:
    """pytest-testinfra on the same hosts (its own ini, so the checkout's pytest.ini and conftest stay out).

    >>> testinfra_command(Path("/v/python"), "ssh://root@bench-0000", Path("/b/ssh_config"), Path("/b/ti"), 2)[-4:]
    ['--ssh-config', '/b/ssh_config', '-n', '2']
    """
    return [
        str(python),
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-c",
        str(out / "pytest.ini"),
        "--rootdir",
        str(out),
        str(TESTINFRA_FILE),
        f"--junitxml={out / 'junit.xml'}",
        "--hosts",
        hosts,
        "--ssh-config",
        str(ssh_config),
        "-n",
        str(workers),
    ]


@dataclass(frozen=True)
class Fleet:
    """K running sshd's and the client files that reach them."""

    servers: list[SshdServer]
    hosts: list[HostSpec]
    directory: Path
    inventory: Path
    files: SshFiles
    start_s: float

    @property
    def names(self) -> list[str]:
        """The inventory's host names, in order."""
        return [host.name for host in self.hosts]


def start_fleet(count: int, workdir: Path, client_key: str, authorized_keys: str, port_base: int) -> Fleet:
    """Start ``count`` sshd's with the timing wrapper as ForceCommand; write known_hosts and the inventory."""
    directory = workdir / f"fleet-{count}"
    directory.mkdir()
    started = time.perf_counter()
    names = [host_name(index) for index in range(count)]
    servers = start_many(
        [str(directory / "hosts" / name) for name in names],
        free_ports(count, port_base),
        authorized_keys=authorized_keys,
        extra_config=lambda host_dir: (
            f"ForceCommand /bin/bash {shlex.quote(str(WRAPPER))} {shlex.quote(host_dir + '/cmd')}\n"
        ),
        workers=32,
    )
    start_s = time.perf_counter() - started
    files = SshFiles(client_key, str(directory / "known_hosts"), str(directory / "ssh_config"))
    Path(files.known_hosts).write_text("".join(server.known_hosts_line() + "\n" for server in servers))
    Path(files.ssh_config).write_text("")
    inventory = directory / "inventory.yaml"
    inventory.write_text(inventory_yaml([server.port for server in servers], files))
    hosts = list(load_inventory(inventory).hosts)
    return Fleet(servers, hosts, directory, inventory, files, start_s)


def turns(installs: list[T], turn: int) -> list[T]:
    """The installs of the ``turn``-th (fleet size, ``-n``) of a bench in the order they run: every other
    turn the other way round.

    The machine drifts within a bench (CPU speed, the page cache, the file system's recently freed inodes):
    whichever always ran first would always pay for it.

    >>> turns(["suite", "baseline"], 0), turns(["suite", "baseline"], 1), turns(["suite"], 1)
    (['suite', 'baseline'], ['baseline', 'suite'], ['suite'])
    """
    return list(reversed(installs)) if turn % 2 else list(installs)


def listener_pss_kib(fleet: Fleet) -> int:
    """The fleet's idle listeners' memory: the sum of their PSS (``/proc/<pid>/smaps_rollup``)."""
    total = 0
    for server in fleet.servers:
        if server.pid is not None:
            total += parse_kib_field(read_text(f"/proc/{server.pid}/smaps_rollup"), "Pss") or 0
    return total


def listeners_cpu(fleet: Fleet) -> dict[int, ProcessCpu]:
    """Every live listener's CPU counters now."""
    found = {}
    for server in fleet.servers:
        pid = server.pid
        usage = process_cpu(pid) if pid is not None else None
        if pid is not None and usage is not None:
            found[pid] = usage
    return found


def wait_sessions_ended(fleet: Fleet, timeout: float) -> int:
    """Wait until no listener has a session left (so their CPU is reaped); returns how many remain."""
    deadline = time.monotonic() + timeout
    while True:
        busy = sum(1 for server in fleet.servers if server.pid is not None and children_of(server.pid))
        if busy == 0 or time.monotonic() > deadline:
            return busy
        time.sleep(0.2)


def collect_command_records(fleet: Fleet) -> dict[str, list[CommandCpu]]:
    """Read and delete the wrapper's records (one file per command), by host directory name."""
    records: dict[str, list[CommandCpu]] = {}
    for host_dir in (fleet.directory / "hosts").iterdir():
        for record in host_dir.glob("cmd.*"):
            records.setdefault(host_dir.name, []).append(parse_bash_times(read_text(str(record))))
            record.unlink()
    return records


def run_env(python: Path, python_path: Path | None) -> dict[str, str]:
    """The runs' environment: this one without the suite's settings (defaults), ``python``'s venv first on PATH."""
    env = {key: value for key, value in os.environ.items() if key not in SUITE_SETTINGS}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    return env


def package_only_path(workdir: Path) -> Path:
    """A directory holding only ``vrouter_preflight`` (a link to plugins/vrouter_preflight), for PYTHONPATH.

    testinfra's venv imports the suite's source list from it; plugins/ itself
    would also expose the checkout's egg-info, whose pytest11 entry point would
    load the suite's plugin (and its ``--hosts``) into testinfra's pytest.
    """
    directory = workdir / "package-only"
    directory.mkdir(exist_ok=True)
    link = directory / "vrouter_preflight"
    if not link.exists():
        link.symlink_to(ROOT / "plugins" / "vrouter_preflight", target_is_directory=True)
    return directory


def measured_run(
    argv: Sequence[str], out: Path, fleet: Fleet, cap: float, *, python_path: Path | None = None
) -> dict[str, Any]:
    """Run ``argv`` (its first word: a venv's python) in ``out`` under ``bench.tree_run`` and measure
    controller, compute and sshd CPU around it."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in (fleet.directory / "hosts").glob("*/cmd.*"):
        stale.unlink()
    stats_path = out / "tree.json"
    runner = [sys.executable, "-m", "bench.tree_run", "--out", str(stats_path), "--cap", str(cap)]
    runner += ["--stdout", str(out / "output.txt"), "--cwd", str(out), "--", *argv]
    before, machine_before, load_before = listeners_cpu(fleet), machine_cpu(), loadavg()
    started = time.perf_counter()
    env = run_env(Path(argv[0]), python_path)
    subprocess.run(runner, cwd=ROOT, env=env, check=True, start_new_session=True)
    still_open = wait_sessions_ended(fleet, DRAIN_S)
    after, machine_after = listeners_cpu(fleet), machine_cpu()
    bracket = time.perf_counter() - started
    tree = json.loads(stats_path.read_text())
    by_host = collect_command_records(fleet)
    records = [record for host_records in by_host.values() for record in host_records]
    listeners = sum(after[pid].total - usage.total for pid, usage in before.items() if pid in after)
    commands = sum(record.command for record in records)
    shells = sum(record.shell for record in records)
    controller = tree["cpu_user_s"] + tree["cpu_system_s"]
    return {
        "argv": list(argv),
        "tree": tree,
        "commands": len(records),
        "hosts_without_a_command": sum(1 for name in fleet.names if name not in by_host),
        "compute_cpu_s": commands,
        "wrapper_shell_cpu_s": shells,
        "listeners_cpu_s": listeners,
        "sshd_cpu_s": listeners - commands - shells,
        "controller_cpu_s": controller,
        "sessions_open_after_drain": still_open,
        "loadavg_start": list(load_before),
        "others_cores": max(0.0, (machine_after.busy - machine_before.busy - controller - listeners) / bracket),
        "bracket_s": bracket,
    }


def row_of(hosts: int, tool: str, workers: int, run: dict[str, Any], lost: int) -> RunRow:
    """The table row of one measured run."""
    tree = run["tree"]
    per_host = 1000.0 / hosts
    return RunRow(
        hosts=hosts,
        tool=tool,
        workers=workers,
        finished=bool(tree["finished"]),
        wall_s=float(tree["wall_s"]),
        controller_ms=run["controller_cpu_s"] * per_host,
        compute_ms=run["compute_cpu_s"] * per_host,
        sshd_ms=run["sshd_cpu_s"] * per_host,
        rss_largest_mb=tree["largest_process_peak_rss_kib"] / 1024,
        rss_tree_mb=tree["tree_peak_rss_kib"] / 1024,
        lost=lost,
        load_before=float(run["loadavg_start"][0]),
        others_cores=float(run["others_cores"]),
        silent=int(run["hosts_without_a_command"]),
    )


def read_json(path: Path) -> Any:
    """A JSON file's data; None when it was not written."""
    return json.loads(path.read_text()) if path.exists() else None


def bench_suite(
    fleet: Fleet, python: Path, workers: int, out: Path, cap: float, tool: str = SUITE
) -> tuple[RunRow, dict[str, Any]]:
    """One measured run of the suite installed for ``python`` on ``fleet`` with ``-n workers``."""
    run = measured_run(suite_command(python, fleet.inventory, out, workers), out, fleet, cap)
    lost = hosts_lost(read_json(out / "summary.json"), fleet.names)
    run.update(tool=tool, hosts=len(fleet.hosts), workers=workers, hosts_lost=lost[:20], hosts_lost_count=len(lost))
    return row_of(len(fleet.hosts), tool, workers, run, len(lost)), run


def warm_up_command(python: Path, inventory: Path, out: Path) -> list[str]:
    """An untimed run before the first measured one: the suite with ``-n 2`` on the fleet's first ten hosts.

    >>> warm_up_command(Path("/v/bin/python"), Path("/b/inventory.yaml"), Path("/b/warm"))[-2:]
    ['--limit', 'bench-000*']
    """
    return [*suite_command(python, inventory, out, 2), "--limit", host_name(0)[:-1] + "*"]


def warm_up(fleet: Fleet, pythons: Sequence[Path], cap: float) -> None:
    """Run each install once, untimed, on ten hosts. Without it, whichever measured run came first was the
    slow one (10.3 s against 6.1-7.0 s for the other three runs of 100 hosts in one bench): pip had just
    rewritten the install, the sshd's had just started."""
    for index, python in enumerate(pythons):
        out = fleet.directory / f"warm-up-{index}"
        out.mkdir(parents=True)
        subprocess.run(
            warm_up_command(python, fleet.inventory, out),
            cwd=out,
            env=run_env(python, None),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=cap,
            check=False,
        )
    wait_sessions_ended(fleet, DRAIN_S)


def bench_testinfra(fleet: Fleet, python: Path, out: Path, cap: float) -> tuple[RunRow, dict[str, Any]]:
    """One measured run of pytest-testinfra ``-n 2`` on ``fleet``."""
    ssh_config = fleet.directory / "openssh_client_config"
    control = fleet.directory / "cm"
    control.mkdir(exist_ok=True)
    ssh_config.write_text(openssh_client_config(fleet.hosts, str(control)))
    argv = testinfra_command(python, ssh_uris(fleet.hosts), ssh_config, out, 2)
    out.mkdir(parents=True)
    (out / "pytest.ini").write_text("[pytest]\n")
    run = measured_run(argv, out, fleet, cap, python_path=package_only_path(fleet.directory))
    junit = out / "junit.xml"
    lost = junit_hosts_lost(junit.read_text() if junit.exists() else None, fleet.names)
    run.update(tool=TESTINFRA, hosts=len(fleet.hosts), workers=2, hosts_lost=lost[:20], hosts_lost_count=len(lost))
    return row_of(len(fleet.hosts), TESTINFRA, 2, run, len(lost)), run


def print_run(row: RunRow, run: dict[str, Any], output: Path, cap: float) -> None:
    """One line per run as it ends; the end of its output when it did not end well."""
    print(f"  {render_table([row], cap).splitlines()[-1]}", flush=True)
    tree = run["tree"]
    if not tree["finished"] or tree["returncode"] not in (0, 1) or row.lost:
        print(f"    returncode {tree['returncode']}, {row.lost} hosts lost, e.g. {run['hosts_lost'][:3]}; output ends:")
        for line in read_text(str(output)).splitlines()[-15:]:
            print(f"    | {line[:200]}")


def table_of(report: dict[str, Any]) -> str:
    """The table and the ratios of a fleet.json report.

    >>> row = {"hosts": 100, "tool": SUITE, "workers": 1, "finished": True, "wall_s": 12.0, "controller_ms": 800,
    ...        "compute_ms": 55, "sshd_ms": 30, "rss_largest_mb": 400, "rss_tree_mb": 450, "lost": 0,
    ...        "load_before": 1.0, "others_cores": 0.1}
    >>> print(table_of({"cap_s": 900, "table": [row]}).splitlines()[-1])
    | 100 | vrouter-preflight | 1 | 12.0 | 800 | 55.0 | 30.0 | 400 / 450 | 0 | 1.00 | 0.10 |
    """
    rows = [RunRow(**row) for row in report["table"]]
    return "\n".join([render_table(rows, float(report["cap_s"])), *ratio_lines(rows)])


def parse_numbers(text: str, what: str, least: int = 1) -> list[int]:
    """Space- or comma-separated whole numbers of at least ``least`` (``"100 300 1000"``).

    >>> parse_numbers("100, 300 1000", "fleet sizes")
    [100, 300, 1000]
    >>> parse_numbers("100 x", "fleet sizes")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: fleet sizes: 'x' is not a whole number of at least 1
    >>> parse_numbers("0 1 2", "workers", least=0)
    [0, 1, 2]
    """
    numbers = []
    for item in text.replace(",", " ").split():
        if not item.isdigit() or int(item) < least:
            raise argparse.ArgumentTypeError(f"{what}: {item!r} is not a whole number of at least {least}")
        numbers.append(int(item))
    return numbers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default=os.environ.get("BENCH_FLEET_K", "100 300 1000"), help="fleet sizes")
    parser.add_argument(
        "--workers", default="0 1 2", help="pytest-xdist -n values for the suite (default 0 1 2; 0: no xdist)"
    )
    parser.add_argument("--cap", type=float, default=900.0, help="wall seconds before a run is stopped")
    parser.add_argument("--testinfra-at", type=int, default=100, help="fleet size of the testinfra run (0: none)")
    parser.add_argument("--testinfra-python", type=Path, default=DEFAULT_TESTINFRA_PYTHON)
    parser.add_argument(
        "--suite-python", type=Path, default=DEFAULT_SUITE_PYTHON, help="the python of a venv the suite is installed in"
    )
    parser.add_argument(
        "--baseline-python",
        type=Path,
        default=None,
        help="another install (e.g. the last commit's) run by turns with the suite on the same fleets: ratios",
    )
    parser.add_argument("--port-base", type=int, default=20000, help="first sshd port (default 20000)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench" / "fleet.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (runs' outputs, sshd logs)")
    parser.add_argument("--render", type=Path, metavar="FLEET_JSON", help="only print the table of an earlier run")
    args = parser.parse_args(argv)
    if args.render is not None:
        print(table_of(json.loads(args.render.read_text())))
        return 0
    sizes = sorted(set(parse_numbers(args.hosts, "fleet sizes")))
    workers = parse_numbers(args.workers, "workers", least=0)
    if os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists():
        parser.error("the fleet bench starts sshd's: it needs root and /usr/sbin/sshd (tools/system-packages.sh test)")
    # not resolve(): a venv's python is a link out of it
    args.suite_python = Path(os.path.abspath(args.suite_python))
    if not args.suite_python.exists():
        parser.error(f"{args.suite_python} is missing: `make bench-fleet` installs the suite there")
    if args.baseline_python is not None:
        args.baseline_python = Path(os.path.abspath(args.baseline_python))
        if not args.baseline_python.exists():
            parser.error(f"{args.baseline_python} is missing (--baseline-python)")
    if args.testinfra_at in sizes and not args.testinfra_python.exists():
        parser.error(f"{args.testinfra_python} is missing: `make bench-fleet` installs pytest-testinfra there")
    open_files = raise_open_files_limit(4 * max(sizes) + 256)

    workdir = Path(make_shared_dir("vrpf-fleet-"))
    key = generate_client_key(str(workdir / "id_ed25519"))
    authorized = workdir / "authorized_keys"
    authorized.write_text(key.public_line + "\n")
    rows: list[RunRow] = []
    turn = -1  # one per (fleet size, -n): see turns()
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "open_files_limit": open_files, "loadavg_at_start": list(loadavg())},
        "suite_python": str(args.suite_python),
        "baseline_python": None if args.baseline_python is None else str(args.baseline_python),
        "python_dont_write_bytecode": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "cap_s": args.cap,
        "fleets": [],
        "runs": [],
    }
    try:
        for size in sizes:
            fleet = start_fleet(size, workdir, key.private, str(authorized), args.port_base)
            try:
                idle = listener_pss_kib(fleet)
                report["fleets"].append({"hosts": size, "start_s": fleet.start_s, "idle_listeners_pss_kib": idle})
                print(f"{size} sshd's started in {fleet.start_s:.1f}s, idle listeners {idle / 1024:.0f} MB PSS")
                if size == sizes[0]:
                    warm_up(fleet, [p for p in (args.suite_python, args.baseline_python) if p is not None], args.cap)
                for n in workers:
                    installs = [(SUITE, args.suite_python, f"suite-n{n}")]
                    if args.baseline_python is not None:
                        installs.append((BASELINE, args.baseline_python, f"baseline-n{n}"))
                    turn += 1
                    for tool, python, name in turns(installs, turn):
                        row, run = bench_suite(fleet, python, n, fleet.directory / name, args.cap, tool)
                        rows.append(row)
                        report["runs"].append(run)
                        print_run(row, run, fleet.directory / name / "output.txt", args.cap)
                if size == args.testinfra_at:
                    row, run = bench_testinfra(fleet, args.testinfra_python, fleet.directory / "testinfra", args.cap)
                    rows.append(row)
                    report["runs"].append(run)
                    print_run(row, run, fleet.directory / "testinfra" / "output.txt", args.cap)
            finally:
                # The fleet's files (its sshd's, the runs' reports) are deleted only when the bench ends. On ext4
                # without a journal (this machine's root) creating a file skips every inode of its block group
                # freed in the last one to six minutes (recently_deleted, fs/ext4/ialloc.c): right after a
                # 300-host fleet's files are deleted, each file the next runs create (9 Allure files per host)
                # took ~0.45 ms of kernel time instead of ~0.04. Deleting at the end charges no run.
                stop_many(fleet.servers)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["table"] = [asdict(row) for row in rows]
    report["table_text"] = render_table(rows, args.cap)
    report["ratios"] = ratio_lines(rows)
    print("\n" + table_of(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.output}" + (f" (work directory kept: {workdir})" if args.keep else ""))
    return 1 if any(row.lost for row in rows if row.finished) else 0


if __name__ == "__main__":
    sys.exit(main())
