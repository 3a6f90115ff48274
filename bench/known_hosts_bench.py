"""What a host's lookups in the run's shared files cost as the fleet grows: known_hosts and ssh_config.

    python -m bench.known_hosts_bench [--hosts 1000] [--lines 1000]

A connection looks its host up twice (the key types to prefer, then the key
itself). Before the index, each lookup read and parsed the whole file, every
line's key included: n hosts cost n² line parses. Now each file is parsed
once per process and a lookup is a dict hit, plus one HMAC per hashed line the
first time a name is looked up (each hashed line has its own salt, so that
part stays per line).

Measured in one run, on the same files and the same host names:

- baseline: the lookups as they were before the index (``_scan_per_lookup``
  below keeps that code: read, parse every line with paramiko, match);
- index: :class:`vrouter_preflight.transport.host_keys.KnownHosts` with a cold
  cache (its one parse is included).

Both for a plain file and for the same file hashed (``HashKnownHosts yes``).

The same holds for an ssh_config with a ``Host`` block per compute: before,
each host's settings came from reading and parsing the whole file and
paramiko's lookup walking every block (baseline); now the file is read and
checked once and each host is looked up in the blocks that can apply to it
(``resolve_options``, all its other work included).

CPU seconds of this process; the JSON lands in reports/bench/known_hosts.json.
"""

from __future__ import annotations

import argparse
import binascii
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport import ssh_options
from vrouter_preflight.transport.host_keys import KnownHosts, KnownHostsFiles

ROOT = Path(__file__).resolve().parent.parent


def fleet_keys(count: int) -> list[paramiko.PKey]:
    """``count`` distinct ed25519 public keys, as servers offer them."""
    keys = []
    for _ in range(count):
        raw = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        blob = b"\x00\x00\x00\x0bssh-ed25519" + len(raw).to_bytes(4, "big") + raw
        keys.append(paramiko.PKey.from_type_string("ssh-ed25519", blob))
    return keys


def write_known_hosts(path: str, names: Sequence[str], keys: Sequence[paramiko.PKey], *, hashed: bool) -> None:
    """One line per host, plain (``[10.1.2.3]:22``-style names) or hashed."""
    with open(path, "w", encoding="utf-8") as handle:
        for name, key in zip(names, keys):
            written = paramiko.HostKeys.hash_host(name) if hashed else name
            handle.write(f"{written} {key.get_name()} {key.get_base64()}\n")


# ---------------------------------------------------------------------- the baseline: before the index


def _scan_per_lookup(path: str, name: str) -> list[tuple[str, paramiko.PKey, str | None]]:
    """What ``KnownHosts.entries_for`` did before the index: read and parse the whole file, keep the matches."""
    found = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    for raw in lines:
        fields = raw.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            continue
        try:
            key = paramiko.PKey.from_type_string(fields[1], binascii.a2b_base64(fields[2]))
        except (binascii.Error, paramiko.SSHException, ValueError, TypeError):
            continue
        if _old_matches(fields[0].split(","), name.lower()):
            found.append((fields[1], key, marker))
    return found


def _old_matches(patterns: Sequence[str], name: str) -> bool:
    matched = False
    for pattern in patterns:
        if pattern.startswith("|1|"):
            matched = matched or paramiko.HostKeys.hash_host(name, pattern) == pattern
        elif pattern.startswith("!"):
            if _old_glob(name, pattern[1:]):
                return False
        elif _old_glob(name, pattern):
            matched = True
    return matched


def _old_glob(name: str, pattern: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower())
    return re.fullmatch(regex, name) is not None


def baseline_check(path: str, name: str, key: paramiko.PKey) -> None:
    """One host's two lookups, before the index (key types to prefer, then the key)."""
    types = {key_type for key_type, _, marker in _scan_per_lookup(path, name) if marker is None}
    entries = _scan_per_lookup(path, name)
    if not types or not any(found.asbytes() == key.asbytes() for _, found, _ in entries):
        raise SystemExit(f"baseline: {name} not verified")


# ---------------------------------------------------------------------- measuring


def cpu_seconds(run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def compare(baseline_seconds: float, index_seconds: float, hosts: int) -> dict[str, float]:
    """One result row: both ways' seconds, per host, and their ratio."""
    return {
        "baseline_seconds": baseline_seconds,
        "index_seconds": index_seconds,
        "baseline_ms_per_host": 1000 * baseline_seconds / hosts,
        "index_ms_per_host": 1000 * index_seconds / hosts,
        "ratio": baseline_seconds / index_seconds,
    }


def measure(path: str, names: Sequence[str], keys: Sequence[paramiko.PKey]) -> dict[str, float]:
    """CPU seconds of every host's check, the baseline's way and the index's way."""

    def indexed() -> None:
        known = KnownHosts(path, files=KnownHostsFiles())  # cold: its one parse is counted
        for name, key in zip(names, keys):
            known.known_key_types(name)
            known.verify(name, key, "strict")

    def scanned() -> None:
        for name, key in zip(names, keys):
            baseline_check(path, name, key)

    return compare(cpu_seconds(scanned), cpu_seconds(indexed), len(names))


def measure_ssh_config(path: str, names: Sequence[str]) -> dict[str, float]:
    """CPU seconds of every host's ssh_config lookup, before (whole file per host) and now."""

    def now() -> None:
        ssh_options.SSH_CONFIG_FILES = ssh_options.SshConfigFiles()  # cold: its one read is counted
        for name in names:
            ssh_options.resolve_options(HostSpec(name=name, user="root", ssh_config=path), local_user="bench")

    def before() -> None:
        for name in names:
            with open(path, encoding="utf-8") as handle:
                paramiko.SSHConfig.from_text(handle.read()).lookup(name)

    return compare(cpu_seconds(before), cpu_seconds(now), len(names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000, help="hosts looked up (default 1000)")
    parser.add_argument("--lines", type=int, default=1000, help="known_hosts lines, >= --hosts (default 1000)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench" / "known_hosts.json"))
    args = parser.parse_args(argv)
    if args.lines < args.hosts:
        parser.error("--lines must be at least --hosts: every host looked up has its line")

    names = [f"[10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}]:22" for i in range(args.lines)]
    keys = fleet_keys(args.lines)
    # Look the hosts up in an order unrelated to the file's.
    order = sorted(range(args.hosts), key=lambda i: (i * 7919) % args.hosts)
    lookup_names, lookup_keys = [names[i] for i in order], [keys[i] for i in order]
    results = {}
    with tempfile.TemporaryDirectory(prefix="vrpf-kh-bench-") as workdir:
        for kind in ("plain", "hashed"):
            path = os.path.join(workdir, f"known_hosts-{kind}")
            write_known_hosts(path, names, keys, hashed=kind == "hashed")
            results[kind] = measure(path, lookup_names, lookup_keys)
        config = os.path.join(workdir, "ssh_config")
        with open(config, "w", encoding="utf-8") as handle:
            for i in range(args.lines):
                handle.write(f"Host c{i}\n    HostName 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n    Port 22\n")
            handle.write("Host *\n    IdentitiesOnly yes\n")
        results["ssh_config"] = measure_ssh_config(config, [f"c{i}" for i in order])

    print(f"\n{args.hosts} hosts looked up in a {args.lines}-host known_hosts / ssh_config (CPU seconds, this process)")
    for kind, row in results.items():
        print(
            f"  {kind:<10} before {row['baseline_seconds']:8.2f}s ({row['baseline_ms_per_host']:7.2f} ms/host)"
            f"   now {row['index_seconds']:6.3f}s ({row['index_ms_per_host']:6.3f} ms/host)   x{row['ratio']:7.1f}"
        )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {"hosts": args.hosts, "lines": args.lines, "cpus": os.cpu_count(), "results": results}
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
