"""Real OpenSSH sshd servers on 127.0.0.1 for tests and bench scripts.

No pytest import: bench scripts use it too. Needs ``/usr/sbin/sshd`` and
``ssh-keygen``; binding and ``/run/sshd`` need root (the notes' gotchas:
absolute ``-f`` path, ``/run/sshd``, ``StrictModes no``, ``UsePAM no``,
``SetEnv SHLVL=1`` so Debian's bash skips ``~/.bashrc``).

>>> import tempfile
>>> root = tempfile.mkdtemp()
>>> key = generate_client_key(os.path.join(root, "id_ed25519"))
>>> os.path.exists(key.private) and key.public_line.startswith("ssh-ed25519 ")
True
"""

from __future__ import annotations

import base64
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class ClientKey:
    """An ed25519 key pair on disk."""

    private: str
    public_line: str


def generate_client_key(path: str, comment: str = "vrpf-test") -> ClientKey:
    """Create an unencrypted ed25519 key pair at ``path`` (``path.pub`` too); replaces an old one."""
    for old in (path, path + ".pub"):
        if os.path.exists(old):
            os.unlink(old)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], check=True)
    with open(path + ".pub", encoding="utf-8") as handle:
        return ClientKey(private=path, public_line=handle.read().strip())


def fido_public_key() -> str:
    """``type base64`` of a random ``sk-ssh-ed25519@openssh.com`` (FIDO) public key, as known_hosts may hold one.

    paramiko cannot load this key type; OpenSSH can.
    """
    fields = (b"sk-ssh-ed25519@openssh.com", os.urandom(32), b"ssh:")
    blob = b"".join(len(field).to_bytes(4, "big") + field for field in fields)
    return f"sk-ssh-ed25519@openssh.com {base64.b64encode(blob).decode()}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_shared_dir(prefix: str = "vrpf-sshd-") -> str:
    """A fresh temp dir readable by every user (mode 0755), for authorized_keys other users must read."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


class SshdServer:
    """One sshd on 127.0.0.1:``port`` with its own host key, config, log and pid file.

    ``authorized_keys`` is the file every user's keys are read from (it and
    its directories must be readable by the users that log in).

    Example (as root)::

        server = SshdServer(make_shared_dir()).start()
        server.stop()
    """

    def __init__(
        self,
        directory: str,
        *,
        authorized_keys: str | None = None,
        port: int | None = None,
        extra_config: str = "",
    ) -> None:
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.port = port or free_port()
        self.authorized_keys = os.path.abspath(authorized_keys or os.path.join(self.directory, "authorized_keys"))
        self.extra_config = extra_config
        self.host_key = os.path.join(self.directory, "ssh_host_ed25519_key")
        self.config_path = os.path.join(self.directory, "sshd_config")
        self.log_path = os.path.join(self.directory, "sshd.log")
        self.pid_path = os.path.join(self.directory, "sshd.pid")
        self._process: subprocess.Popen[bytes] | None = None
        if not os.path.exists(self.authorized_keys):
            open(self.authorized_keys, "a").close()
            os.chmod(self.authorized_keys, 0o644)

    # ---------------------------------------------------------------- lifecycle

    @property
    def pid(self) -> int | None:
        """The listener's pid while running."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start(self, timeout: float = 10.0) -> SshdServer:
        """Start sshd (a new host key if there is none) and wait until it sends its banner."""
        if self.pid is not None:
            return self
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        if not os.path.exists(self.host_key):
            self.new_host_key()
        self._write_config()
        self._process = subprocess.Popen(
            [SSHD, "-D", "-f", self.config_path, "-E", self.log_path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"sshd exited at start (rc {self._process.returncode}): {err} {self.log_tail()}")
            if self._banner_ready():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"sshd on port {self.port} did not answer within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """Kill the listener and every session it spawned, so the port is closed; safe twice."""
        if self._process is None:
            return
        if self._process.poll() is None:
            # Freeze the listener first: a client reconnecting between the sessions' kill and the
            # listener's would get a session that outlives the stop.
            os.kill(self._process.pid, signal.SIGSTOP)
        self.kill_sessions()
        process, self._process = self._process, None
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()

    def restart(self, *, new_host_key: bool = False) -> None:
        """Stop and start again on the same port (optionally with a fresh host key)."""
        self.stop()
        if new_host_key:
            self.new_host_key()
        self.start()

    def kill_sessions(self) -> int:
        """SIGKILL every per-connection sshd process (the listener keeps running); returns how many."""
        if self._process is None:
            return 0
        victims = _descendants(self._process.pid)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(victims)

    def __enter__(self) -> SshdServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- keys

    def new_host_key(self) -> None:
        """Generate a fresh ed25519 host key (takes effect at the next start)."""
        for old in (self.host_key, self.host_key + ".pub"):
            if os.path.exists(old):
                os.unlink(old)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.host_key], check=True)

    @property
    def host_key_name(self) -> str:
        """The server's known_hosts name."""
        return f"[127.0.0.1]:{self.port}"

    def known_hosts_line(self, *, hashed: bool = False) -> str:
        """The known_hosts line for this server (``[127.0.0.1]:port ssh-ed25519 ...``)."""
        with open(self.host_key + ".pub", encoding="utf-8") as handle:
            key_type, blob = handle.read().split()[:2]
        name = self.host_key_name
        if hashed:
            import paramiko

            name = paramiko.HostKeys.hash_host(name)
        return f"{name} {key_type} {blob}"

    def write_known_hosts(self, path: str, *, hashed: bool = False, append: bool = True) -> str:
        """Add this server's line to the known_hosts file ``path``; returns the path."""
        with open(path, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(self.known_hosts_line(hashed=hashed) + "\n")
        return path

    def authorize(self, public_line: str) -> None:
        """Allow a client key (appended to the shared authorized_keys)."""
        with open(self.authorized_keys, "a", encoding="utf-8") as handle:
            handle.write(public_line.strip() + "\n")

    # ---------------------------------------------------------------- log

    def log_text(self) -> str:
        """The sshd log so far (VERBOSE)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the log, for error messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def count(self, needle: str) -> int:
        """How many log lines contain ``needle`` (e.g. ``"Starting session"``, ``"Accepted publickey"``)."""
        return sum(needle in line for line in self.log_text().splitlines())

    def cleanup(self) -> None:
        """Stop and delete the server's directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # ---------------------------------------------------------------- internals

    def _write_config(self) -> None:
        config = f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.pid_path}
AuthorizedKeysFile {self.authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
AllowTcpForwarding yes
MaxStartups 2000:100:4000
MaxSessions 1000
MaxAuthTries 20
LoginGraceTime 60
LogLevel VERBOSE
Subsystem sftp internal-sftp
SetEnv SHLVL=1
{self.extra_config}
"""
        with open(self.config_path, "w", encoding="utf-8") as handle:
            handle.write(config)

    def _banner_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(4).startswith(b"SSH-")
        except OSError:
            return False


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from one scan of /proc (ppid of each pid)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    return parents


def _descendants(root: int, parents: dict[int, list[int]] | None = None) -> list[int]:
    """Pids below ``root`` (children first found by /proc ppid), deepest last."""
    if parents is None:
        parents = _children_by_parent()
    found: list[int] = []
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# ---------------------------------------------------------------------- many servers at once


def free_ports(count: int, first: int) -> list[int]:
    """``count`` ports on 127.0.0.1 from ``first`` up that were free a moment ago (busy ones skipped).

    A fixed range below the kernel's ephemeral ports (32768+ by default) keeps
    a large fleet clear of the ports :func:`free_port` and outgoing
    connections take.

    >>> ports = free_ports(3, 20500)
    >>> len(ports), ports == sorted(set(ports)), ports[0] >= 20500
    (3, True, True)
    """
    ports: list[int] = []
    port = first
    while len(ports) < count:
        if port > 65535:
            raise RuntimeError(f"only {len(ports)} free ports from {first} to 65535, {count} wanted")
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                pass
            else:
                ports.append(port)
        port += 1
    return ports


def raise_open_files_limit(needed: int) -> int:
    """Raise this process's soft limit of open files to the hard limit; returns the new soft limit.

    Children (sshd's, pytest) inherit it. Raises RuntimeError when even the
    hard limit is below ``needed``.

    >>> raise_open_files_limit(16) >= 16
    True
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise RuntimeError(f"open files: the hard limit is {hard}, {needed} needed (raise it: ulimit -Hn)")
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return int(soft)


def start_many(
    directories: Sequence[str],
    ports: Sequence[int],
    *,
    authorized_keys: str,
    extra_config: Callable[[str], str] = lambda directory: "",
    workers: int = 32,
) -> list[SshdServer]:
    """Start one sshd per directory and port, ``workers`` at a time, all with ONE ed25519 host key.

    One key generation instead of one per server (the key is copied into
    each directory); ``extra_config(directory)`` adds lines to a server's
    config. If any server fails to start, the ones started are stopped and
    the error is raised.
    """
    if len(directories) != len(ports):
        raise ValueError(f"{len(directories)} directories but {len(ports)} ports")
    servers = [
        SshdServer(directory, authorized_keys=authorized_keys, port=port, extra_config=extra_config(directory))
        for directory, port in zip(directories, ports)
    ]
    if not servers:
        return servers
    servers[0].new_host_key()
    for server in servers[1:]:
        for suffix in ("", ".pub"):
            shutil.copy2(servers[0].host_key + suffix, server.host_key + suffix)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(SshdServer.start, servers))
    except BaseException:
        stop_many(servers)
        raise
    return servers


def stop_many(servers: Sequence[SshdServer]) -> None:
    """Stop every server and its sessions with ONE scan of /proc (``stop()`` scans once per server)."""
    parents = _children_by_parent()
    for server in servers:
        if server.pid is not None:
            for pid in _descendants(server.pid, parents):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    stopping = []
    for server in servers:
        process, server._process = server._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
            stopping.append(process)
    for process in stopping:
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


# ---------------------------------------------------------------------- sudo test users

SUDO_USER = "vrpf-sudo"
SUDO_PASSWORD_USER = "vrpf-sudopw"
SUDOERS_DROPIN = "/etc/sudoers.d/vrpf-test"


def ensure_user(user: str, password: str | None = None) -> None:
    """Create ``user`` (idempotently); it logs in with a key, and with ``password`` too when one is given.

    Without a password it gets ``*`` (not locked, no password login). Must run as root.
    """
    if os.geteuid() != 0:
        raise PermissionError(f"creating the test user {user} needs root (useradd, chpasswd)")
    if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
    if password is None:
        subprocess.run(["usermod", "-p", "*", user], check=True)
    else:
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n".encode(), check=True)


def install_sudoers(rules: str, sudoers_path: str) -> None:
    """Install sudoers ``rules`` as the drop-in ``sudoers_path``, validated with ``visudo -cf`` first."""
    staging = sudoers_path + ".tmp"
    with open(staging, "w", encoding="utf-8") as handle:
        handle.write("# vrouter-preflight integration tests (tests/sshd_rig.py); safe to delete\n" + rules)
    os.chmod(staging, 0o440)
    check = subprocess.run(["visudo", "-cf", staging], capture_output=True, text=True)
    if check.returncode != 0:
        os.unlink(staging)
        raise RuntimeError(f"visudo rejected the test sudoers rules: {check.stdout}{check.stderr}")
    os.replace(staging, sudoers_path)


def ensure_sudo_users(password: str, *, sudoers_path: str = SUDOERS_DROPIN) -> tuple[str, str]:
    """Create (idempotently) ``vrpf-sudo`` (NOPASSWD sudo) and ``vrpf-sudopw`` (sudo with ``password``).

    Both can log in with a key: ``vrpf-sudo`` gets the ``*`` password (not
    locked, no password login), ``vrpf-sudopw`` gets ``password``. The
    sudoers drop-in is validated with ``visudo -cf`` before it is installed.
    Must run as root; raises PermissionError otherwise.
    """
    if os.geteuid() != 0:
        raise PermissionError("creating the sudo test users needs root (useradd, chpasswd, /etc/sudoers.d)")
    ensure_user(SUDO_USER)
    ensure_user(SUDO_PASSWORD_USER, password)
    install_sudoers(f"{SUDO_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n{SUDO_PASSWORD_USER} ALL=(ALL:ALL) ALL\n", sudoers_path)
    return SUDO_USER, SUDO_PASSWORD_USER


def remove_sudoers_dropin(sudoers_path: str = SUDOERS_DROPIN) -> None:
    """Remove the test sudoers rules (the users stay; they cannot sudo any more)."""
    if os.path.exists(sudoers_path):
        os.unlink(sudoers_path)


def inventory_host(server: SshdServer, client_key: ClientKey, known_hosts: str, **keys: object) -> dict[str, object]:
    """A suite inventory entry for ``server`` on 127.0.0.1: root, ``client_key``, strict ``known_hosts``, no
    ssh_config; ``keys`` add or override entries (timeouts, become, …)."""
    return {
        "address": "127.0.0.1",
        "port": server.port,
        "user": "root",
        "identity_file": client_key.private,
        "known_hosts": known_hosts,
        "ssh_config": os.devnull,
        **keys,
    }
