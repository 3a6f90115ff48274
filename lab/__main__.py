"""Command line of the compute lab (what ``make lab-up`` / ``make lab-down`` run).

python3 -m lab up [--guests N] [--hp1g 2|0:1,1:1] [--hp2m 64] [--mem-per-node 3072]
                  [--inventory reports/lab/inventory.yaml] [--destructive] [--prefix lab]
python3 -m lab down [NAME ...]
python3 -m lab status
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lab.lab import REPO, GuestSpec, HugepageCount, Lab, LabError

DEFAULT_INVENTORY = REPO / "reports" / "lab" / "inventory.yaml"


def hugepages(text: str) -> HugepageCount:
    """``"2"`` -> 2 (a total); ``"0:1,1:0"`` -> ``{0: 1, 1: 0}`` (per node).

    >>> hugepages("2"), hugepages("0:1,1:0")
    (2, {0: 1, 1: 0})
    """
    if ":" not in text:
        return int(text)
    return {int(node): int(pages) for node, pages in (item.split(":") for item in text.split(","))}


def main(argv: list[str] | None = None) -> int:
    """Run ``up``, ``down`` or ``status`` from ``argv`` (default: the command line); 1 on a lab error, else 0."""
    parser = argparse.ArgumentParser(prog="python3 -m lab", description="compute lab: boot, stop, list guests")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="boot guests (fresh overlays) and write their inventory")
    up.add_argument("--guests", type=int, default=1)
    up.add_argument("--prefix", default="lab", help="guest names: <prefix>-1, <prefix>-2, ...")
    up.add_argument("--hp1g", type=hugepages, default=2, help="boot-time 1G pages: total or node:n,node:n")
    up.add_argument("--hp2m", type=hugepages, default=0, help="boot-time 2M pages: total or node:n,node:n")
    up.add_argument("--mem-per-node", type=int, default=3072, help="MiB of RAM on each of the 2 NUMA nodes")
    up.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    up.add_argument("--destructive", action="store_true", help="mark the hosts destructive: true")
    up.add_argument("--release", default="R1911", help="vrouter.release written to the inventory")
    down = sub.add_parser("down", help="stop the guests this lab started (default: all of them)")
    down.add_argument("names", nargs="*")
    sub.add_parser("status", help="list the recorded guests")
    args = parser.parse_args(argv)

    lab = Lab()
    try:
        if args.command == "up":
            specs = [
                GuestSpec(f"{args.prefix}-{i}", mem_per_node_mib=args.mem_per_node, hp1g=args.hp1g, hp2m=args.hp2m)
                for i in range(1, args.guests + 1)
            ]
            start = time.monotonic()
            guests = lab.boot(*specs)
            for guest in guests:
                print(f"{guest.name}: ssh -p {guest.port} root@127.0.0.1 (up after {guest.ssh_seconds:.1f} s)")
            path = lab.write_inventory(args.inventory, guests, destructive=args.destructive, release=args.release)
            print(f"inventory: {path} ({time.monotonic() - start:.1f} s)")
            print(f"ssh: {' '.join(guests[0].ssh_argv())}")
        elif args.command == "down":
            stopped = lab.down(args.names or None)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing"))
        else:
            for guest in lab.recorded():
                state = f"running, pid {guest.pid}" if guest.running else "not running"
                print(f"{guest.name}: port {guest.port}, {state}, {guest.dir}")
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
