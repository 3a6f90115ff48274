"""How fast the fleet gather is: K real sshd's on 127.0.0.1, ratios in one run.

    python -m bench.gather_bench [--hosts 50] [--workers 32] [--repeat 2]

Three ways to read the same facts from every host, measured back to back:

- baseline: hosts one after another, one command per fact file (what a
  per-file tool such as pytest-testinfra does);
- sequential: hosts one after another, ONE command per host (our capture);
- pooled: ONE command per host, ``--workers`` hosts at once (what the suite does).

Then the same fleet behind one more sshd used as a jump host (ProxyJump), pooled:

- bastion, per target: every target logs in to the bastion itself (before jump-host sharing);
- bastion, shared: one bastion login carries every target (``vrouter_preflight.transport.jump_hosts``).

Each way opens a fresh connection per host. The figures are wall-clock seconds
on this machine, where client and servers share the CPUs, so the ratios are the
result; the JSON lands in reports/bench/gather.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from tests.sshd_rig import SshdServer, generate_client_key, make_shared_dir
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.gather import gather_fleet, gather_host
from vrouter_preflight.inventory import HostSpec, JumpHost
from vrouter_preflight.transport import ssh
from vrouter_preflight.transport.pool import TransportPool

ROOT = Path(__file__).resolve().parent.parent


def start_fleet(count: int, workdir: str) -> tuple[list[SshdServer], list[HostSpec]]:
    """Start ``count`` sshd's sharing one authorized_keys; return them and their specs."""
    key = generate_client_key(os.path.join(workdir, "id_ed25519"))
    authorized = os.path.join(workdir, "authorized_keys")
    Path(authorized).write_text(key.public_line + "\n")
    known_hosts = os.path.join(workdir, "known_hosts")
    servers = []
    for index in range(count):
        server = SshdServer(os.path.join(workdir, f"sshd{index}"), authorized_keys=authorized).start()
        server.write_known_hosts(known_hosts)
        servers.append(server)
    empty_config = os.path.join(workdir, "ssh_config")
    Path(empty_config).write_text("")
    specs = [
        HostSpec(
            name=f"bench-{index}",
            address="127.0.0.1",
            port=server.port,
            user="root",
            identity_file=key.private,
            known_hosts=known_hosts,
            ssh_config=empty_config,
        )
        for index, server in enumerate(servers)
    ]
    return servers, specs


def per_file_baseline(specs: Sequence[HostSpec]) -> None:
    """One host after another, one command per fact source."""
    for spec in specs:
        pool = TransportPool()
        transport = pool.get(spec)
        for source in FACT_SOURCES:
            transport.capture([source])
        pool.close_all()


def one_command_sequential(specs: Sequence[HostSpec]) -> None:
    """One host after another, one command per host."""
    for spec in specs:
        pool = TransportPool()
        result = gather_host(spec, pool)
        pool.close_all()
        if not result.reached:
            raise SystemExit(f"gather failed: {result.error}")


def one_command_pooled(specs: Sequence[HostSpec], workers: int, *, unreached: list[str] | None = None) -> None:
    """One command per host, ``workers`` hosts at once (the suite's way).

    A host not reached ends the bench, unless ``unreached`` collects their errors.
    """
    pool = TransportPool()
    results = gather_fleet(specs, pool, workers=workers)
    pool.close_all()
    failed = [str(r.error) for r in results.values() if not r.reached]
    if failed and unreached is None:
        raise SystemExit(f"gather failed: {failed[0]}")
    if unreached is not None:
        unreached.extend(failed)


def pooled_behind(
    bastion: SshdServer, specs: Sequence[HostSpec], workers: int, *, share: bool, tally: dict[str, list[int]]
) -> None:
    """:func:`one_command_pooled` through ``bastion``; appends its bastion logins and unreached hosts to ``tally``."""
    hop = (JumpHost("127.0.0.1", "root", bastion.port),)
    before = bastion.count("Accepted publickey")
    unreached: list[str] = []
    ssh.JUMP_HOSTS.share = share
    try:
        one_command_pooled([replace(spec, jump=hop) for spec in specs], workers, unreached=unreached)
    finally:
        ssh.JUMP_HOSTS.share = True
    tally["bastion_logins"].append(bastion.count("Accepted publickey") - before)
    tally["unreached"].append(len(unreached))
    if unreached:
        print(f"    {len(unreached)} hosts not reached, e.g. {unreached[0]}")


def timed(run: Callable[[], None], repeat: int) -> list[float]:
    """Wall-clock seconds of each of ``repeat`` runs."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50, help="sshd's to start (default 50)")
    parser.add_argument("--workers", type=int, default=32, help="gather pool size (default 32)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each way (default 2)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench" / "gather.json"))
    args = parser.parse_args(argv)

    workdir = make_shared_dir("vrpf-bench-")
    servers: list[SshdServer] = []
    try:
        started = time.perf_counter()
        servers, specs = start_fleet(args.hosts + 1, workdir)
        bastion, specs = servers[-1], specs[:-1]
        print(f"started {len(servers)} sshd's in {time.perf_counter() - started:.1f}s")
        pooled = f"pooled: {args.workers} hosts at once, one command"
        tallies: dict[str, dict[str, list[int]]] = {
            way: {"bastion_logins": [], "unreached": []} for way in ("per target", "shared")
        }
        ways = {
            "baseline: per host, one command per file": lambda: per_file_baseline(specs),
            "sequential: per host, one command": lambda: one_command_sequential(specs),
            pooled: lambda: one_command_pooled(specs, args.workers),
            f"{pooled}, behind a bastion, a bastion login per target": lambda: pooled_behind(
                bastion, specs, args.workers, share=False, tally=tallies["per target"]
            ),
            f"{pooled}, behind a bastion, one shared bastion login": lambda: pooled_behind(
                bastion, specs, args.workers, share=True, tally=tallies["shared"]
            ),
        }
        results = {name: timed(run, args.repeat) for name, run in ways.items()}
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = statistics.median(next(iter(results.values())))
    print(f"\n{args.hosts} hosts, {len(FACT_SOURCES)} fact sources, {args.repeat} runs each (wall-clock seconds)")
    rows = []
    for name, seconds in results.items():
        median = statistics.median(seconds)
        rows.append({"way": name, "seconds": seconds, "median": median, "speedup_vs_baseline": baseline / median})
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"  {name:<86} median {median:6.2f}s  ({runs})  x{baseline / median:5.1f} vs baseline")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    print(f"  behind the bastion, per run: {tallies}")
    report = {"hosts": args.hosts, "workers": args.workers, "sources": len(FACT_SOURCES), "results": rows}
    report["behind_bastion_per_run"] = tallies
    report["cpus"] = os.cpu_count()
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
