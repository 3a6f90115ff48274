"""The compute lab: boot Debian 6.1 guests under QEMU, reach them by SSH, drive the stand-ins.

Everything a lab test or the benchmark needs, with plain ``ssh`` (strict host-key
checking against a known_hosts file written per guest) and no import from the suite, so
the suite's own transports can be tested against the guests it boots::

    lab = Lab()
    lab.build()                                      # `make lab`: cached unless inputs change
    [g] = lab.boot(GuestSpec("s1", hp1g={0: 1, 1: 1}))  # fresh overlay, 2 NUMA nodes
    g.fragment(nodes=(1,))                           # one held page in every 4 MiB group of node 1
    result = g.load_standin()                        # modprobe vrouter: the ground truth
    result.loaded, result.failed, result.orders()
    lab.write_inventory(Path("reports/lab/inventory.yaml"), [g])
    lab.down()                                       # stops exactly the guests it started

Guests run in FAST mode (``/sbin/lab-init`` as PID 1: proc, sys, devpts, hugetlbfs,
debugfs, sshd), on TCG (``/dev/kvm`` here is PVM; ``LAB_ACCEL=kvm`` on a VMX/SVM host).
Layout and timings: ``../shared/notes/lab.md``; the image: ``lab/build.sh``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
REPO = LAB_DIR.parent
DEFAULT_CACHE = Path(os.environ.get("LAB_CACHE") or Path.home() / ".cache" / "vrouter-preflight-lab")
STANDIN_CONF = "/etc/vrouter-standin.conf"
AGENT_LOG = "/var/log/contrail/contrail-vrouter-agent.log"
CHUNKS_FILE = "/sys/kernel/debug/vrouter_standin/chunks"
STANDIN_PARAMETERS = (
    "vr_flow_entries",
    "vr_oflow_entries",
    "vr_bridge_entries",
    "vr_bridge_oentries",
    "vr_nexthops",
    "vr_flow_entry_bytes",
    "vr_nowarn",
)
_FAILED_CHUNK = re.compile(
    r"vrouter: chunk failed: table=(?P<table>\S+) part=(?P<part>\d+)/(?P<parts>\d+) "
    r"order=(?P<order>\d+) bytes=(?P<bytes>\d+); freeing (?P<freed>\d+) parts taken"
)
_LOADED = re.compile(r"vrouter: loaded: parts=(?P<parts>\d+) bytes=(?P<bytes>\d+) .*?;(?P<where>.*)$")


class LabError(RuntimeError):
    """The lab could not do what was asked; the message says what and shows the evidence."""


@dataclass(frozen=True)
class Result:
    """One command run in a guest.

    >>> Result("true", 0, "", "").ok
    True
    """

    command: str
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.rc == 0


@dataclass(frozen=True)
class Image:
    """A built lab image: ``$LAB_CACHE/images/<key>/`` (see ``lab/build.sh``).

    >>> Image(Path("/c/images/k")).identity_file
    PosixPath('/c/images/k/id_lab')
    """

    path: Path

    @property
    def vmlinuz(self) -> Path:
        """The guest kernel (Debian's linux-image, copied out of the rootfs)."""
        return self.path / "vmlinuz"

    @property
    def initrd(self) -> Path:
        """The busybox initrd that mounts the root disk and starts the guest's init."""
        return self.path / "initrd.img"

    @property
    def base(self) -> Path:
        """The raw root disk every guest boots through its own fresh overlay."""
        return self.path / "base.raw"

    @property
    def identity_file(self) -> Path:
        """The private key the guests' root accepts (made with the image, never leaves the cache)."""
        return self.path / "id_lab"

    @property
    def host_key(self) -> str:
        """The guest's ed25519 host public key, ``ssh-ed25519 AAAA… lab-guest``."""
        return (self.path / "ssh_host_ed25519_key.pub").read_text().strip()

    @property
    def manifest(self) -> dict[str, str]:
        """What the build wrote: the input hash (``key``), kernel version and package, suite, build time."""
        data: dict[str, str] = json.loads((self.path / "manifest.json").read_text())
        return data


HugepageCount = int | Mapping[int, int]
"""A boot-time reservation: a total spread over the nodes, or ``{node: pages}``."""


CONNECT_ATTEMPTS = 4
_NOT_CONNECTED = (
    "during banner exchange",
    "kex_exchange_identification",
    "Connection refused",
    "Connection reset by peer",
    "Connection timed out",
)


def never_connected(returncode: int, stderr: str) -> bool:
    """True when ``ssh`` failed before the session began, so the command never ran and may be retried.

    >>> never_connected(255, "Connection timed out during banner exchange")
    True
    >>> never_connected(255, "")
    False
    """
    return returncode == 255 and any(words in stderr for words in _NOT_CONNECTED)


@dataclass(frozen=True)
class GuestSpec:
    """How to boot one guest.

    ``hp1g`` / ``hp2m``: boot-time reservations on the kernel command line
    (``hugepages=2`` or ``hugepages=0:1,1:1``). ``mem_per_node_mib``: RAM of each of the
    two NUMA nodes (node 0 holds [0,1G) + [4G,…) so it can hold a 1G page).

    >>> GuestSpec("g", hp1g={0: 1, 1: 0}, hp2m=64).cmdline_hugepages()
    'default_hugepagesz=1G hugepagesz=1G hugepages=0:1,1:0 hugepagesz=2M hugepages=64'
    """

    name: str
    mem_per_node_mib: int = 3072
    hp1g: HugepageCount = 2
    hp2m: HugepageCount = 0
    cpus: int = 2
    extra_cmdline: str = ""
    port: int | None = None

    def cmdline_hugepages(self) -> str:
        """The hugepage arguments of the kernel command line."""

        def count(value: HugepageCount) -> str:
            if isinstance(value, int):
                return str(value)
            return ",".join(f"{node}:{pages}" for node, pages in sorted(value.items()))

        words = ["default_hugepagesz=1G"]
        if self.hp1g:
            words.append(f"hugepagesz=1G hugepages={count(self.hp1g)}")
        if self.hp2m:
            words.append(f"hugepagesz=2M hugepages={count(self.hp2m)}")
        return " ".join(words)


@dataclass(frozen=True)
class Chunk:
    """One part the stand-in took: ``table`` (nexthop, bridge, bridge-overflow, bridge-delete,
    flow, flow-overflow, flow-delete), its index in that table, its order, node and zone."""

    table: str
    part: int
    order: int
    node: int
    zone: str


@dataclass(frozen=True)
class FailedChunk:
    """The part whose allocation failed a load (the module's one ``chunk failed`` line).

    >>> FailedChunk.parse("vrouter: chunk failed: table=flow part=3/32 order=10 bytes=4194304; "
    ...                   "freeing 9 parts taken, load fails with -ENOMEM")
    FailedChunk(table='flow', part=3, parts=32, order=10, bytes=4194304, freed=9)
    """

    table: str
    part: int
    parts: int
    order: int
    bytes: int
    freed: int

    @classmethod
    def parse(cls, text: str) -> FailedChunk | None:
        """The failed chunk named in ``text`` (kernel log lines), or ``None``."""
        match = _FAILED_CHUNK.search(text)
        if not match:
            return None
        return cls(
            table=match["table"],
            part=int(match["part"]),
            parts=int(match["parts"]),
            order=int(match["order"]),
            bytes=int(match["bytes"]),
            freed=int(match["freed"]),
        )


@dataclass(frozen=True)
class LoadResult:
    """What one load of the stand-in did: the ground truth of "a reload fits now".

    ``loaded``: the module is in. ``failed``: the chunk that failed (``None`` on success).
    ``chunks``: every part taken (read from debugfs), in allocation order.
    ``taken``: blocks per ``"node<N>/<zone>"`` and order, from the module's summary line.
    ``kernel_log``: the kernel's lines written during the load.
    """

    loaded: bool
    rc: int
    output: str
    failed: FailedChunk | None
    chunks: tuple[Chunk, ...]
    taken: Mapping[str, Mapping[int, int]]
    kernel_log: str
    parameters: Mapping[str, str] = field(default_factory=dict)

    def orders(self) -> list[int]:
        """The order of every part taken, in allocation order (compare with the suite's model)."""
        return [chunk.order for chunk in self.chunks]


def _parse_taken(where: str) -> dict[str, dict[int, int]]:
    """``" node0/Normal=o10:13,o9:1 node1/Normal=o10:31"`` -> ``{"node0/Normal": {10: 13, 9: 1}, …}``.

    >>> _parse_taken(" node0/DMA32=o10:3 node1/Normal=o10:31,o8:1")
    {'node0/DMA32': {10: 3}, 'node1/Normal': {10: 31, 8: 1}}
    """
    taken: dict[str, dict[int, int]] = {}
    for word in where.split():
        place, _, counts = word.partition("=")
        taken[place] = {int(o[1:]): int(n) for o, n in (c.split(":") for c in counts.split(",") if c)}
    return taken


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_alive_qemu(pid: int, name: str) -> bool:
    """True when ``pid`` is still the qemu of guest ``name`` (not a recycled PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and b"qemu-system" in cmdline[0] and f"lab-{name}".encode() in cmdline


def _wait_gone(pid: int, name: str, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for guest ``name``'s qemu ``pid`` to end; True when it has."""
    deadline = time.monotonic() + timeout
    while _pid_alive_qemu(pid, name):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


class Guest:
    """One running lab guest, reached as ``root@127.0.0.1:<port>``."""

    def __init__(self, spec: GuestSpec, image: Image, run_dir: Path, port: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.image = image
        self.dir = run_dir
        self.port = port
        self.known_hosts = run_dir / "known_hosts"
        self.booted_at = time.monotonic()
        self.ssh_seconds: float | None = None

    # -- processes ---------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The qemu PID from the pid file, when that process is still this guest's qemu."""
        try:
            pid = int((self.dir / "qemu.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive_qemu(pid, self.name) else None

    @property
    def running(self) -> bool:
        """Whether this object started the guest's QEMU and has not stopped it."""
        return self.pid is not None

    def console(self, tail: int = 40) -> str:
        """The last ``tail`` lines of the serial console."""
        try:
            lines = (self.dir / "console.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-tail:])

    def stop(self, timeout: float = 15.0) -> None:
        """Kill this guest's qemu (by its pid file's PID, checked) and remove its overlay.

        Waits on the process, not on the pid file: QEMU removes its pid file as it starts to exit, and
        under load it was seen alive after that (CI: the lab's "no qemu left" test found it).
        """
        pid = self.pid
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, self.name, timeout):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, self.name, 5.0)
        for leftover in ("overlay.qcow2", "qemu.pid", "monitor.sock"):
            (self.dir / leftover).unlink(missing_ok=True)

    # -- commands ----------------------------------------------------------------------
    def ssh_argv(self, *, connect_timeout: int = 10) -> list[str]:
        """``ssh`` with this guest's key and strict host-key checking, up to the command."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.image.identity_file),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            f"ConnectTimeout={connect_timeout}",
            "-o",
            "LogLevel=ERROR",
            "root@127.0.0.1",
        ]

    def run(self, command: str, *, timeout: float = 300.0, check: bool = False) -> Result:
        """Run ``command`` (a shell string) in the guest.

        >>> guest.run("cat /proc/buddyinfo").stdout   # doctest: +SKIP
        """
        deadline = time.monotonic() + timeout
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                proc = subprocess.run(
                    [*self.ssh_argv(connect_timeout=30), command],
                    capture_output=True,
                    text=True,
                    timeout=max(1.0, deadline - time.monotonic()),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise LabError(f"{self.name}: {command!r} did not finish within {timeout:.0f} s") from exc
            if not never_connected(proc.returncode, proc.stderr) or attempt == CONNECT_ATTEMPTS:
                break
            time.sleep(2.0 * attempt)  # an emulated guest under memory pressure answers late; the command never ran
        result = Result(command, proc.returncode, proc.stdout, proc.stderr)
        if check and not result.ok:
            raise LabError(
                f"{self.name}: {command!r} exited {result.rc}\nstdout: {result.stdout[-2000:]}\n"
                f"stderr: {result.stderr[-2000:]}"
            )
        return result

    def check(self, command: str, *, timeout: float = 300.0) -> str:
        """Run ``command``, raise :class:`LabError` unless it exits 0; return its stdout."""
        return self.run(command, timeout=timeout, check=True).stdout

    def wait_ssh(self, timeout: float = 240.0) -> float:
        """Wait until ``ssh … true`` works; return the seconds since qemu started."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise LabError(f"{self.name}: qemu exited while booting; console:\n{self.console()}")
            if "initrd: cannot mount" in self.console(tail=20):
                raise LabError(f"{self.name}: the initrd could not mount the root disk; console:\n{self.console()}")
            try:
                proc = subprocess.run(
                    [*self.ssh_argv(connect_timeout=5), "true"], capture_output=True, timeout=30, check=False
                )
                if proc.returncode == 0:
                    self.ssh_seconds = time.monotonic() - self.booted_at
                    return self.ssh_seconds
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                raise LabError(
                    f"{self.name}: no SSH on port {self.port} after {timeout:.0f} s; console:\n{self.console()}"
                )
            time.sleep(1.0)

    def verify_boot_reservations(self) -> None:
        """Raise :class:`LabError` unless the kernel reserved the spec's hugepages (per node when given so).

        Node 0 can only hold a 1G page because of ``max-ram-below-4g=1G`` and ``nokaslr``
        (a randomised kernel image can take node 0's only free GiB; memblock then silently
        puts the page on node 1).
        """
        pools = self.hugepages()
        for size_kib, wanted in ((1_048_576, self.spec.hp1g), (2048, self.spec.hp2m)):
            got = {node: sizes.get(size_kib, (0, 0))[0] for node, sizes in pools.items()}
            if isinstance(wanted, int):
                ok = sum(got.values()) == wanted
            else:
                ok = all(got.get(node, 0) == pages for node, pages in wanted.items())
            if not ok:
                raise LabError(f"{self.name}: boot reserved {got} pages of {size_kib} KiB per node, asked for {wanted}")

    def put(self, path: str, text: str) -> None:
        """Write ``text`` to ``path`` in the guest."""
        self.check(f"cat > {shlex.quote(path)} <<'LAB_EOF'\n{text}\nLAB_EOF")

    def kernel_log_mark(self) -> int:
        """A mark (number of kernel log lines so far) for :meth:`kernel_log_since`."""
        return int(self.check("dmesg | wc -l").strip())

    def kernel_log_since(self, mark: int) -> str:
        """Kernel log lines written after ``mark``."""
        return self.check(f"dmesg | tail -n +{mark + 1}")

    # -- memory facts ------------------------------------------------------------------
    def buddyinfo(self) -> dict[tuple[int, str], list[int]]:
        """``/proc/buddyinfo`` as ``{(node, zone): [free blocks of order 0..10]}``."""
        table: dict[tuple[int, str], list[int]] = {}
        for line in self.check("cat /proc/buddyinfo").splitlines():
            words = line.replace(",", " ").split()
            table[(int(words[1]), words[3])] = [int(w) for w in words[4:]]
        return table

    def hugepages(self) -> dict[int, dict[int, tuple[int, int]]]:
        """``{node: {size_kib: (nr, free)}}`` read from sysfs."""
        out = self.check(
            "for d in /sys/devices/system/node/node*/hugepages/hugepages-*kB; do "
            'echo "$d $(cat $d/nr_hugepages) $(cat $d/free_hugepages)"; done'
        )
        pools: dict[int, dict[int, tuple[int, int]]] = {}
        for line in out.splitlines():
            path, nr, free = line.split()
            node = int(path.split("/node/node")[1].split("/")[0])
            size = int(path.rsplit("hugepages-", 1)[1].removesuffix("kB"))
            pools.setdefault(node, {})[size] = (int(nr), int(free))
        return pools

    def set_hugepages(self, node: int, size_kib: int, nr: int) -> int:
        """Write a node's ``nr_hugepages`` and return what the kernel reports back."""
        path = f"/sys/devices/system/node/node{node}/hugepages/hugepages-{size_kib}kB/nr_hugepages"
        return int(self.check(f"echo {int(nr)} > {path}; cat {path}").strip())

    def sysctl(self, name: str, value: str | None = None) -> str:
        """Read (or write, then read back) ``/proc/sys/<name with dots as slashes>``."""
        path = "/proc/sys/" + name.replace(".", "/")
        if value is not None:
            self.check(f"echo {shlex.quote(value)} > {path}")
        return self.check(f"cat {path}").strip()

    # -- fragmenter --------------------------------------------------------------------
    def fragment(
        self,
        nodes: Sequence[int] = (0, 1),
        mb: int | Sequence[int] = 0,
        *,
        zones: str = "all",
        every: int = 1,
        group_order: int = 10,
    ) -> str:
        """Load ``vr_frag``: hold one unmovable page in every ``2**group_order`` group.

        ``mb``: MiB to grab per node (0: all it can), one value or one per node;
        ``zones``: ``all`` or e.g. ``Normal`` (leave DMA32 whole); ``every``: only every
        N-th group. Returns the fragmenter's kernel log lines. Raises if it is loaded.
        """
        mbs = [mb] if isinstance(mb, int) else list(mb)
        args = (
            f"nodes={','.join(str(n) for n in nodes)} mb={','.join(str(m) for m in mbs)} "
            f"zones={shlex.quote(zones)} every={int(every)} group_order={int(group_order)}"
        )
        mark = self.kernel_log_mark()
        self.check(f"modprobe vr_frag {args}", timeout=900)
        return self.kernel_log_since(mark)

    def unfragment(self) -> None:
        """Unload ``vr_frag``, freeing the pages it holds (no-op when not loaded)."""
        self.check("if [ -d /sys/module/vr_frag ]; then rmmod vr_frag; fi")

    # -- stand-in vRouter --------------------------------------------------------------
    def configure_standin(self, **params: int) -> None:
        """Write ``/etc/vrouter-standin.conf``: the module options the reload commands use.

        ``guest.configure_standin(vr_flow_entries=1048576, vr_flow_entry_bytes=128)``
        """
        unknown = set(params) - set(STANDIN_PARAMETERS)
        if unknown:
            raise ValueError(f"unknown stand-in parameters {sorted(unknown)}; known: {STANDIN_PARAMETERS}")
        options = " ".join(f"{name}={int(value)}" for name, value in params.items())
        self.check(
            f"sed -i 's/^VROUTER_MODULE_OPTIONS=.*/VROUTER_MODULE_OPTIONS=\"{options}\"/' {STANDIN_CONF}; "
            f"grep -q '^VROUTER_MODULE_OPTIONS=\"{options}\"$' {STANDIN_CONF}"
        )

    def load_standin(self, **params: int) -> LoadResult:
        """``modprobe vrouter`` with ``params`` (default: the config file's options), directly.

        Unloads a loaded stand-in first. The result is the ground truth: ``loaded``, the
        failed chunk, every chunk taken with its node and zone.
        """
        if params:
            self.configure_standin(**params)
        self.unload_standin()
        mark = self.kernel_log_mark()
        result = self.run(f". {STANDIN_CONF}; modprobe vrouter $VROUTER_MODULE_OPTIONS", timeout=600)
        return self._load_result(result, mark)

    def reload(self) -> LoadResult:
        """Run the operator's reload stand-in (``vrouter-reload``: stop, rmmod, start)."""
        mark = self.kernel_log_mark()
        return self._load_result(self.run("vrouter-reload", timeout=600), mark)

    def _load_result(self, result: Result, mark: int) -> LoadResult:
        log = self.kernel_log_since(mark)
        loaded = self.run("test -d /sys/module/vrouter").ok
        chunks: tuple[Chunk, ...] = ()
        taken: dict[str, dict[int, int]] = {}
        parameters: dict[str, str] = {}
        if loaded:
            chunks = self.standin_chunks()
            parameters = self.standin_parameters()
            match = None
            for line in log.splitlines():
                match = _LOADED.search(line) or match
            if match:
                taken = _parse_taken(match["where"])
        return LoadResult(
            loaded=loaded,
            rc=result.rc,
            output=(result.stdout + result.stderr).strip(),
            failed=FailedChunk.parse(log),
            chunks=chunks,
            taken=taken,
            kernel_log=log,
            parameters=parameters,
        )

    def unload_standin(self) -> None:
        """``rmmod vrouter`` when loaded."""
        self.check("if [ -d /sys/module/vrouter ]; then rmmod vrouter; fi")

    def standin_chunks(self) -> tuple[Chunk, ...]:
        """Every part the loaded stand-in holds, in allocation order (from debugfs)."""
        chunks = []
        for line in self.check(f"cat {CHUNKS_FILE}").splitlines()[1:]:
            table, part, order, node, zone = line.split()
            chunks.append(Chunk(table, int(part), int(order), int(node), zone))
        return tuple(chunks)

    def standin_parameters(self) -> dict[str, str]:
        """``/sys/module/vrouter/parameters/*`` as the suite reads them."""
        out = self.check('cd /sys/module/vrouter/parameters && for f in *; do echo "$f $(cat $f)"; done')
        return dict(line.split(" ", 1) for line in out.splitlines())

    def contrail_status(self) -> str:
        """The stand-in ``contrail-status`` output."""
        return self.run("contrail-status").stdout


class Lab:
    """Build the image, boot guests, stop exactly those, write their inventory.

    ``cache``: where images live (``$LAB_CACHE``, default ``~/.cache/vrouter-preflight-lab``).
    ``run_dir``: pid files, overlays, consoles, known_hosts (default ``<cache>/run``);
    ``make lab-up`` / ``make lab-down`` share the default, so lab-down finds lab-up's guests.
    """

    def __init__(self, cache: Path | None = None, run_dir: Path | None = None) -> None:
        self.cache = cache or DEFAULT_CACHE
        self.run_dir = run_dir or self.cache / "run"
        self.guests: dict[str, Guest] = {}
        self.accel = os.environ.get("LAB_ACCEL", "tcg")
        self.build_seconds: float | None = None

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down(self.guests)

    # -- image -------------------------------------------------------------------------
    def build(self) -> Image:
        """Run ``lab/build.sh`` (cached: about a second when nothing changed)."""
        start = time.monotonic()
        env = {**os.environ, "LAB_CACHE": str(self.cache)}
        proc = subprocess.run(["bash", str(LAB_DIR / "build.sh")], capture_output=True, text=True, env=env, check=False)
        self.build_seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise LabError(f"lab/build.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        return Image(Path(proc.stdout.strip().splitlines()[-1]))

    def image(self) -> Image:
        """The last built image (``<cache>/current``); :meth:`build` first if there is none."""
        current = self.cache / "current"
        if not (current / ".done").exists():
            return self.build()
        return Image(current.resolve())

    # -- guests ------------------------------------------------------------------------
    def boot(self, *specs: GuestSpec, wait: bool = True, timeout: float = 300.0) -> list[Guest]:
        """Start one qemu per spec (fresh overlay each), then wait for SSH on all of them."""
        image = self.image()
        started = [self._start(spec, image) for spec in specs]
        if wait:
            try:
                for guest in started:
                    guest.wait_ssh(timeout)
                    guest.verify_boot_reservations()
            except BaseException:
                self.down(guest.name for guest in started)
                raise
        return started

    def _start(self, spec: GuestSpec, image: Image) -> Guest:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.name):
            raise ValueError(f"guest name {spec.name!r}: letters, digits, '.', '_', '-'")
        run_dir = self.run_dir / spec.name
        old = self.attach(spec.name)
        if old is not None and old.running:
            raise LabError(f"guest {spec.name} is already running (pid {old.pid}); lab-down first")
        run_dir.mkdir(parents=True, exist_ok=True)
        port = spec.port or _free_port()
        guest = Guest(spec, image, run_dir, port)
        guest.known_hosts.write_text(f"[127.0.0.1]:{port} {image.host_key}\n")
        overlay = run_dir / "overlay.qcow2"
        overlay.unlink(missing_ok=True)
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(image.base), str(overlay)],
            check=True,
        )
        (run_dir / "console.log").unlink(missing_ok=True)
        mem = spec.mem_per_node_mib
        accel = "kvm" if self.accel == "kvm" else "tcg,thread=multi,tb-size=256"
        cpu = "host" if self.accel == "kvm" else "max"
        cmdline = (
            f"console=ttyS0 root=/dev/vda rw net.ifnames=0 nokaslr init=/sbin/lab-init lab.hostname={spec.name} "
            f"{spec.cmdline_hugepages()} {spec.extra_cmdline}"
        ).strip()
        argv = [
            "qemu-system-x86_64",
            "-name",
            f"lab-{spec.name}",
            "-accel",
            accel,
            "-cpu",
            cpu,
            "-machine",
            "q35,max-ram-below-4g=1G",
            "-smp",
            f"{spec.cpus},sockets=2,cores={max(1, spec.cpus // 2)},threads=1",
            "-m",
            f"{2 * mem}M",
            "-object",
            f"memory-backend-ram,id=mem0,size={mem}M",
            "-object",
            f"memory-backend-ram,id=mem1,size={mem}M",
            "-numa",
            f"node,nodeid=0,cpus=0-{max(0, spec.cpus // 2 - 1)},memdev=mem0",
            "-numa",
            f"node,nodeid=1,cpus={max(1, spec.cpus // 2)}-{max(1, spec.cpus - 1)},memdev=mem1",
            "-kernel",
            str(image.vmlinuz),
            "-initrd",
            str(image.initrd),
            "-append",
            cmdline,
            "-drive",
            f"file={overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
            "-netdev",
            f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device",
            "virtio-net-pci,netdev=n0",
            "-device",
            "virtio-rng-pci",
            "-display",
            "none",
            "-serial",
            f"file:{run_dir / 'console.log'}",
            "-monitor",
            f"unix:{run_dir / 'monitor.sock'},server,nowait",
            "-no-reboot",
            "-daemonize",
            "-pidfile",
            str(run_dir / "qemu.pid"),
        ]
        (run_dir / "guest.json").write_text(
            json.dumps({"name": spec.name, "port": port, "image": str(image.path), "spec": _spec_json(spec)}, indent=1)
        )
        guest.booted_at = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LabError(f"{spec.name}: qemu failed to start ({proc.returncode}): {proc.stderr.strip()}")
        self.guests[spec.name] = guest
        return guest

    def attach(self, name: str) -> Guest | None:
        """The guest ``name`` recorded in the run dir (booted by this or another process)."""
        info_path = self.run_dir / name / "guest.json"
        try:
            info = json.loads(info_path.read_text())
        except (OSError, ValueError):
            return None
        fields = dict(info["spec"])
        for key in ("hp1g", "hp2m"):
            if isinstance(fields[key], dict):
                fields[key] = {int(node): int(pages) for node, pages in fields[key].items()}
        spec = GuestSpec(name=name, **fields)
        return Guest(spec, Image(Path(info["image"])), self.run_dir / name, int(info["port"]))

    def recorded(self) -> list[Guest]:
        """Every guest recorded in the run dir, running or not."""
        if not self.run_dir.is_dir():
            return []
        found = (self.attach(entry.name) for entry in sorted(self.run_dir.iterdir()) if entry.is_dir())
        return [guest for guest in found if guest is not None]

    def down(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop the named guests (default: every guest recorded in the run dir); return their names."""
        wanted = None if names is None else set(names)
        stopped = []
        for guest in self.recorded():
            if wanted is not None and guest.name not in wanted:
                continue
            guest.stop()
            (guest.dir / "guest.json").unlink(missing_ok=True)
            self.guests.pop(guest.name, None)
            stopped.append(guest.name)
        return stopped

    # -- inventory ---------------------------------------------------------------------
    def write_inventory(
        self,
        path: Path,
        guests: Sequence[Guest] | None = None,
        *,
        destructive: bool = False,
        release: str = "R1911",
        extra: Mapping[str, str] | None = None,
    ) -> Path:
        """Write an inventory for ``guests`` (default: the running recorded guests).

        Each host: ssh to 127.0.0.1:<port> as root with the lab key and a strict
        known_hosts; ``vrouter: {release, deployment: supervisor}`` -- the guest's
        ``service supervisor-vrouter`` / ``contrail-status`` stand-ins answer the
        supervisor deployment's default commands. ``extra``: more host keys, as YAML text.
        """
        chosen = list(guests) if guests is not None else [g for g in self.recorded() if g.running]
        lines = [
            "# Written by lab/lab.py: the compute lab's guests (QEMU, Debian 6.1, stand-in vRouter).",
            "# Regenerated by `make lab-up`; do not edit.",
            "hosts:",
        ]
        for guest in chosen:
            lines += [
                f"  {guest.name}:",
                "    transport: ssh",
                "    address: 127.0.0.1",
                f"    port: {guest.port}",
                "    user: root",
                "    become: none",
                f"    identity_file: {json.dumps(str(guest.image.identity_file))}",
                f"    known_hosts: {json.dumps(str(guest.known_hosts))}",
                "    host_key_policy: strict",
                "    connect_timeout: 30",
                "    command_timeout: 600",
                "    vrouter:",
                f"      release: {json.dumps(release)}",
                "      deployment: supervisor",
                "      health_timeout: 120",
                f"      agent_log: {AGENT_LOG}",
            ]
            if destructive:
                lines.append("    destructive: true")
            for key, value in (extra or {}).items():
                lines.append(f"    {key}: {value}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path


def _spec_json(spec: GuestSpec) -> dict[str, object]:
    def pages(value: HugepageCount) -> object:
        return value if isinstance(value, int) else {str(k): v for k, v in value.items()}

    return {
        "mem_per_node_mib": spec.mem_per_node_mib,
        "hp1g": pages(spec.hp1g),
        "hp2m": pages(spec.hp2m),
        "cpus": spec.cpus,
        "extra_cmdline": spec.extra_cmdline,
        "port": spec.port,
    }
