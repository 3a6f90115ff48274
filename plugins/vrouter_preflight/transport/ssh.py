"""The SSH transport: one paramiko connection per host, reused by every command.

Settings come from :func:`vrouter_preflight.transport.ssh_options.resolve_options`
(inventory, then ssh_config, then OpenSSH defaults), host keys are checked by
:mod:`vrouter_preflight.transport.host_keys`. Every failure to connect is ONE
:class:`~vrouter_preflight.errors.HostUnreachable` whose cause reads like an operator
message ("connection refused", "host key for ... has CHANGED ..."), never a
traceback.

Performance notes (see the shared notes, gotcha G1): the TCP socket is made
here with ``TCP_NODELAY`` (paramiko sets none, and every exec would pay a
40 ms delayed-ACK stall), and a command's stdout and stderr are drained
together in one loop, so a command flooding either stream cannot deadlock;
past a stream's limit (:mod:`vrouter_preflight.transport.output_limits`) the
channel is closed and the host gets one error.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Union

import paramiko

from vrouter_preflight.errors import CommandTimeout, HostError, HostUnreachable
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.inventory_sources import Secret
from vrouter_preflight.shell import become_command, with_host_deadline
from vrouter_preflight.transport.base import CommandResult, Transport
from vrouter_preflight.transport.become import host_sudo_password, scrub, sudo_failure
from vrouter_preflight.transport.host_keys import HostKeyError, KnownHosts
from vrouter_preflight.transport.identities import KEY_FILES, KeyLocked, KeyUnusable, identity_passphrase
from vrouter_preflight.transport.jump_hosts import JumpHostPool
from vrouter_preflight.transport.local_files import LocalFileError
from vrouter_preflight.transport.output_limits import OutputCollector, short_command
from vrouter_preflight.transport.ssh_options import (
    DEFAULT_CONNECT_TIMEOUT,
    Endpoint,
    SshConfigError,
    SshOptions,
    UnsafeName,
    resolve_options,
)

log = logging.getLogger(__name__)
# paramiko logs failures from its own thread (with tracebacks) before we turn
# them into one HostUnreachable; without any logging set up, Python's
# last-resort handler would print them to stderr. Records still propagate to
# handlers the application (or pytest) installs.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

_CHUNK = 65536


class _ConnectFailure(Exception):
    """Internal: why one connection attempt failed, as the operator should read it."""


class _HopGone(_ConnectFailure):
    """Internal: the jump host's connection could not open a channel (it died)."""


class _Dropped(Exception):
    """Internal: the connection died before the command produced a result."""


class SshTransport(Transport):
    """Runs commands on a host over SSH (paramiko), optionally through jump hosts.

    Connecting is lazy (first :meth:`run`); the connection stays open until
    :meth:`close`. Its jump hosts' connections are shared with every other
    target behind them in this process (:mod:`vrouter_preflight.transport.jump_hosts`).
    ``run`` may be called from several threads: each call opens its own
    channel on the shared connection.

    Keys: the identity files named by the inventory (``identity_file``) or
    by ssh_config (``IdentityFile``) are tried first, then the keys of a
    running ssh-agent (``$SSH_AUTH_SOCK``), unless ssh_config says
    ``IdentitiesOnly yes``. When neither names a key, the OpenSSH default
    files (``~/.ssh/id_ed25519``, ``id_ecdsa``, ``id_rsa``) that exist are
    tried before the agent. An encrypted key file is opened with the
    passphrase from ``identity_passphrase_env``; without it (or with a wrong
    one) the agent's copy of the same key is used, even with
    ``IdentitiesOnly yes`` (:mod:`vrouter_preflight.transport.identities`).
    A password is tried only when the inventory gives one (an operator's
    inventory: Ansible's ``ansible_password``, TF's ``ssh_pwd``), after the keys,
    as ``ssh`` does; it goes to the target only, never to a jump host.
    The sudo password is the inventory's own (``ansible_become_password``) when
    it has one, else the one ``sudo_password_env`` names. Neither is ever part of
    a message, a log record, an exception or a result.

    A dropped connection (sshd restarted, network blip) is reopened once and
    the command retried once; a second failure is :class:`HostUnreachable`.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> t = SshTransport(HostSpec(name="compute-0", address="192.0.2.10"))
    >>> t.connected
    False
    >>> t.close(); t.close()
    """

    def __init__(self, spec: HostSpec) -> None:
        super().__init__(spec)
        self._lock = threading.Lock()
        self._chain: list[paramiko.Transport] = []
        self._open_timeout = spec.connect_timeout or DEFAULT_CONNECT_TIMEOUT  # resolved again at connect
        self.connections_opened = 0

    # ------------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        """True while the connection to the host is open and alive."""
        return bool(self._chain) and self._chain[-1].is_active()

    @property
    def open_hops(self) -> tuple[paramiko.Transport, ...]:
        """The open connections: the jump hosts' in order, then the target's (empty when closed)."""
        return tuple(self._chain)

    @property
    def paramiko_transport(self) -> paramiko.Transport:
        """The live paramiko transport to the target (connecting if needed)."""
        return self._connect()

    def _connect(self) -> paramiko.Transport:
        with self._lock:
            if self._chain:
                return self._chain[-1]
            try:
                options = resolve_options(self.spec)
            except UnsafeName as exc:
                raise HostError(self.spec.name, self.address, str(exc)) from None
            except SshConfigError as exc:
                raise HostUnreachable(self.spec.name, self.address, str(exc)) from None
            passphrase = identity_passphrase(self.spec)
            self._open_timeout = options.connect_timeout
            started = time.monotonic()
            try:
                self._chain = _open_chain(options, passphrase, self.spec.login_password)
            except _ConnectFailure as exc:
                log.info("%s: cannot connect: %s", self.spec.name, exc)
                raise HostUnreachable(self.spec.name, self.address, str(exc)) from None
            self.connections_opened += 1
            log.debug(
                "%s: connected to %s in %.3fs (%d jump hosts)",
                self.spec.name,
                options.target.display,
                time.monotonic() - started,
                len(options.jumps),
            )
            return self._chain[-1]

    def _disconnect(self) -> None:
        with self._lock:
            chain, self._chain = self._chain, []
        if chain:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chain[-1].close()
            JUMP_HOSTS.release(chain[:-1])

    def close(self) -> None:
        """Close the connection, and those to the jump hosts no other target uses; safe to call twice."""
        self._disconnect()

    # ------------------------------------------------------------------ commands

    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Run ``command`` through ``sh -c`` (wrapped in sudo when privileged and ``become: sudo``).

        The sudo password (the inventory's, else ``sudo_password_env``'s) goes to sudo's
        stdin; it is never part of the command line, a log record, an error or the result.
        """
        limit = self.spec.command_timeout if timeout is None else timeout
        use_sudo = privileged and self.spec.become == "sudo"
        sudo = host_sudo_password(self.spec, self.address) if use_sudo else None
        password = None if sudo is None else sudo.value
        wrapped = with_host_deadline(
            become_command(command, become="sudo" if use_sudo else "none", with_password=password is not None), limit
        )
        started = time.monotonic()
        for attempt in (1, 2):
            transport = self._connect()
            try:
                rc, out, err = self._exec(transport, wrapped, password, limit, command)
                break
            except _Dropped as exc:
                self._disconnect()
                if attempt == 2:
                    raise HostUnreachable(
                        self.spec.name,
                        self.address,
                        f"connection lost again after reconnecting once{_detail(exc)} while running: "
                        f"{short_command(command)}",
                    ) from None
                log.warning("%s: connection lost%s; reconnecting once", self.spec.name, _detail(exc))
        stdout = scrub(out.decode("utf-8", "replace"), password)
        stderr = scrub(err.decode("utf-8", "replace"), password)
        if use_sudo and rc != 0:
            cause = sudo_failure(stderr, password=sudo)
            if cause is not None:
                raise HostError(self.spec.name, self.address, cause)
        return CommandResult(command=command, rc=rc, stdout=stdout, stderr=stderr, seconds=time.monotonic() - started)

    def _exec(
        self, transport: paramiko.Transport, wrapped: str, password: str | None, limit: float, command: str
    ) -> tuple[int, bytes, bytes]:
        if not transport.is_active():
            raise _Dropped("connection closed")
        try:
            channel = transport.open_session(timeout=max(1.0, min(limit, self._open_timeout)))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise _Dropped(_reason(exc)) from None
        deadline = time.monotonic() + limit
        output = OutputCollector()
        try:
            try:
                channel.exec_command(wrapped)
                if password is not None:
                    channel.sendall((password + "\n").encode())
                channel.shutdown_write()
                # poll(), not select(): a control node with hundreds of hosts open passes fd 1024.
                wakeup = select.poll()
                wakeup.register(channel.fileno(), select.POLLIN)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise _Dropped(_reason(exc)) from None
            while True:
                while channel.recv_ready():
                    if not output.add("stdout", channel.recv(output.room("stdout", _CHUNK))):
                        raise output.too_large(self.spec.name, self.address, command)
                while channel.recv_stderr_ready():
                    if not output.add("stderr", channel.recv_stderr(output.room("stderr", _CHUNK))):
                        raise output.too_large(self.spec.name, self.address, command)
                # paramiko's exit_status_ready() is also True for a channel closed
                # without a status; exit_status stays -1 until "exit-status" arrives.
                if channel.closed or (channel.exit_status >= 0 and channel.eof_received):
                    if channel.recv_ready() or channel.recv_stderr_ready():
                        continue
                    break
                if not transport.is_active():
                    raise _Dropped("connection lost")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CommandTimeout(
                        self.spec.name, self.address, f"command timed out after {limit:g}s: {short_command(command)}"
                    )
                if channel.eof_received:
                    # EOF seen, exit status not yet: the pipe stays readable, wait on the status.
                    channel.status_event.wait(min(remaining, 0.2))
                else:
                    wakeup.poll(min(remaining, 0.5) * 1000)
            if channel.exit_status < 0:
                # Closed without an exit status: the connection died, or (EOF first, connection
                # still up) the command was killed by a signal, which paramiko does not report.
                if not channel.eof_received or not _stays_up(transport):
                    raise _Dropped("connection lost")
                return -1, output.output("stdout"), output.output("stderr")
            return channel.exit_status, output.output("stdout"), output.output("stderr")
        finally:
            channel.close()


def _stays_up(transport: paramiko.Transport, grace: float = 0.3) -> bool:
    """True if the transport is still active after ``grace`` seconds (a dying one flips quickly)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not transport.is_active():
            return False
        time.sleep(0.02)
    return transport.is_active()


# ---------------------------------------------------------------------- connecting


JUMP_HOSTS = JumpHostPool()
"""This process's jump-host connections, shared by every target behind them."""


def _open_chain(
    options: SshOptions, passphrase: str | None = None, password: Secret | None = None
) -> list[paramiko.Transport]:
    """The jump hosts' connections in order (shared, :data:`JUMP_HOSTS`), then the target's through the last.

    ``passphrase`` opens encrypted key files, ``password`` logs in to the target only
    (neither is ever logged or in a message).
    """
    deadline = time.monotonic() + options.connect_timeout
    known = KnownHosts(options.known_hosts, options.extra_known_hosts)

    def open_hop(via: paramiko.Transport | None, hop: Endpoint) -> paramiko.Transport:
        try:
            sock = _tcp(hop, options) if via is None else _forward(via, hop, deadline, options)
            return _handshake(sock, hop, known, deadline, options, passphrase)
        except _ConnectFailure as exc:
            raise _ConnectFailure(f"jump host {hop.display}: {exc}") from None

    for attempt in (1, 2):
        hops = JUMP_HOSTS.acquire(options, open_hop)
        try:
            target = options.target
            sock: _Sock
            if hops:
                sock = _forward(hops[-1], target, deadline, options)
            elif options.proxy_command:
                sock = _proxy(options.proxy_command, options)
            else:
                sock = _tcp(target, options)
            return [*hops, _handshake(sock, target, known, deadline, options, passphrase, password)]
        except _HopGone:
            # A shared hop died since its last use (bastion restarted): once more, on a fresh one.
            JUMP_HOSTS.discard(hops[-1])
            JUMP_HOSTS.release(hops)
            if attempt == 2:
                raise
        except BaseException:
            JUMP_HOSTS.release(hops)
            raise
    raise AssertionError("unreachable")


_Sock = Union[socket.socket, paramiko.Channel, paramiko.ProxyCommand]


def _tcp(endpoint: Endpoint, options: SshOptions) -> socket.socket:
    """A TCP connection with TCP_NODELAY set, or a _ConnectFailure."""
    timeout = options.connect_timeout
    try:
        infos = socket.getaddrinfo(endpoint.hostname, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _ConnectFailure(f"cannot resolve host name {endpoint.hostname}: {exc.strerror}") from None
    last: OSError | None = None
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeout)
            sock.connect(addr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise _ConnectFailure(_socket_reason(last, timeout))


def _forward(via: paramiko.Transport, endpoint: Endpoint, deadline: float, options: SshOptions) -> paramiko.Channel:
    """A direct-tcpip channel from the jump host ``via`` to ``endpoint``."""
    remaining = max(0.1, deadline - time.monotonic())
    try:
        return via.open_channel("direct-tcpip", (endpoint.hostname, endpoint.port), ("127.0.0.1", 0), timeout=remaining)
    except paramiko.ChannelException as exc:
        raise _ConnectFailure(
            f"the jump host cannot reach {endpoint.hostname}:{endpoint.port} ({exc.text.lower() or exc.code})"
        ) from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise _HopGone(f"forwarding to {endpoint.hostname}:{endpoint.port} failed: {_reason(exc)}") from None


class _ProxyCommand(paramiko.ProxyCommand):
    """paramiko's ProxyCommand, safe to close twice (paramiko's transport thread closes it again)."""

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            super().close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)


def _proxy(command: str, options: SshOptions) -> paramiko.ProxyCommand:
    try:
        proxy = _ProxyCommand(command)
    except (OSError, paramiko.SSHException) as exc:
        raise _ConnectFailure(f"ProxyCommand {command!r} cannot start: {_reason(exc)}") from None
    proxy.settimeout(options.connect_timeout)
    return proxy


def _handshake(
    sock: _Sock,
    endpoint: Endpoint,
    known: KnownHosts,
    deadline: float,
    options: SshOptions,
    passphrase: str | None,
    password: Secret | None = None,
) -> paramiko.Transport:
    """SSH key exchange, host key check and login over ``sock`` (keys, then ``password`` when given)."""
    name = endpoint.host_key_name
    try:
        transport = paramiko.Transport(sock)
    except (paramiko.SSHException, OSError) as exc:
        _close_quietly(sock)
        raise _ConnectFailure(_reason(exc)) from None
    ok = False
    try:
        remaining = max(0.1, deadline - time.monotonic())
        transport.banner_timeout = remaining
        transport.handshake_timeout = remaining
        transport.auth_timeout = remaining
        try:
            _prefer_known_key_types(transport, known.known_key_types(name))
        except HostKeyError as exc:
            raise _ConnectFailure(str(exc)) from None
        try:
            transport.start_client(timeout=remaining)
            if not transport.remote_version:
                raise _ConnectFailure(_no_banner(options.connect_timeout))
            key = transport.get_remote_server_key()
        except paramiko.SSHException as exc:
            raise _ConnectFailure(_handshake_reason(exc, options.connect_timeout)) from None
        except (EOFError, OSError) as exc:
            raise _ConnectFailure(f"SSH handshake failed: {_socket_reason(exc, options.connect_timeout)}") from None
        try:
            added = known.verify(name, key, options.host_key_policy)
        except HostKeyError as exc:
            raise _ConnectFailure(str(exc)) from None
        except OSError as exc:
            raise _ConnectFailure(f"cannot record the host key in {known.path}: {exc.strerror}") from None
        if added:
            log.warning("%s: added %s key %s to %s", name, key.get_name(), key.fingerprint, known.path)
        _authenticate(transport, endpoint, passphrase, password)
        transport.set_keepalive(30)
        ok = True
        return transport
    finally:
        if not ok:
            transport.close()


def _prefer_known_key_types(transport: paramiko.Transport, known_types: list[str]) -> None:
    """Ask for the host key type already in known_hosts first (avoids a false 'changed')."""
    if not known_types:
        return
    options = transport.get_security_options()
    available = list(options.key_types)
    wanted: list[str] = []
    for key_type in known_types:
        names = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if key_type == "ssh-rsa" else [key_type]
        wanted.extend(n for n in names if n in available and n not in wanted)
    options.key_types = wanted + [n for n in available if n not in wanted]


def _authenticate(
    transport: paramiko.Transport, endpoint: Endpoint, passphrase: str | None, password: Secret | None = None
) -> None:
    """Log in with the keys, then with ``password`` when the inventory gives one (as ssh: keys first)."""
    tried: list[str] = []
    try:
        if _authenticate_with_keys(transport, endpoint, passphrase, tried):
            return
    except _KeysNotEnough:
        if password is None:
            raise
    if password is not None:
        if _try_password(transport, endpoint, password):
            return
        tried.append("password")
    raise _ConnectFailure(f"authentication refused for user {endpoint.user} (tried: {'; '.join(tried) or 'no keys'})")


def _authenticate_with_keys(
    transport: paramiko.Transport, endpoint: Endpoint, passphrase: str | None, tried: list[str]
) -> bool:
    """Try the identity files, then the agent's keys; True once one is accepted, else what was tried in ``tried``."""
    offered: set[bytes] = set()
    agent = _Agent()
    try:
        for path in endpoint.identity_files:
            try:
                key = KEY_FILES.load(path, passphrase)
            except FileNotFoundError:
                if not endpoint.default_identities:
                    tried.append(f"key file {path} (missing)")
                continue
            except LocalFileError as exc:
                raise _ConnectFailure(str(exc)) from None
            except KeyLocked as exc:
                twin = agent.key_like(exc.public_blob)
                if twin is None:
                    tried.append(f"key file {path} ({exc}; no agent holds it)")
                    continue
                key = twin
                path = f"{path} (from the agent)"
            except KeyUnusable as exc:
                tried.append(f"key file {path} (unusable: {exc})")
                continue
            if _try_key(transport, endpoint, key):
                return True
            offered.add(key.asbytes())
            tried.append(f"key file {path}")
        if not endpoint.identities_only:
            agent_keys = agent.keys()
            for agent_key in agent_keys:
                if agent_key.asbytes() not in offered and _try_key(transport, endpoint, agent_key):
                    return True
            tried.append(f"agent ({len(agent_keys)} keys)" if agent_keys else "agent (none running or no keys)")
    finally:
        agent.close()
    return False


class _Agent:
    """The ssh-agent, asked for its keys once and only when needed."""

    def __init__(self) -> None:
        self._agent: paramiko.Agent | None = None
        self._keys: tuple[paramiko.AgentKey, ...] | None = None

    def keys(self) -> tuple[paramiko.AgentKey, ...]:
        if self._keys is None:
            try:
                self._agent = paramiko.Agent()
                self._keys = tuple(self._agent.get_keys())
            except (paramiko.SSHException, OSError):
                self._keys = ()
        return self._keys

    def key_like(self, public_blob: bytes | None) -> paramiko.AgentKey | None:
        """The agent's key with this public blob, if it holds it."""
        if public_blob is None:
            return None
        return next((key for key in self.keys() if key.asbytes() == public_blob), None)

    def close(self) -> None:
        if self._agent is not None:
            self._agent.close()


class _KeysNotEnough(_ConnectFailure):
    """Internal: the server takes no public key for this user, or wants more than a key (a password may do)."""


def _try_key(transport: paramiko.Transport, endpoint: Endpoint, key: paramiko.PKey) -> bool:
    return _try_login(endpoint, "public keys", lambda: transport.auth_publickey(endpoint.user, key), _KeysNotEnough)


def _try_password(transport: paramiko.Transport, endpoint: Endpoint, password: Secret) -> bool:
    """Password login (keyboard-interactive when the server offers only that); the password is never shown."""
    return _try_login(
        endpoint, "a password", lambda: transport.auth_password(endpoint.user, password.reveal()), _ConnectFailure
    )


def _try_login(endpoint: Endpoint, what: str, attempt: Callable[[], list[str]], refused: type[_ConnectFailure]) -> bool:
    """One login attempt: True once accepted, False when refused; ``refused`` when the server takes no ``what``."""
    try:
        remaining = attempt()
    except paramiko.BadAuthenticationType as exc:
        allowed = ", ".join(exc.allowed_types) or "none"
        raise refused(f"the server does not accept {what} for user {endpoint.user} (it allows: {allowed})") from None
    except paramiko.AuthenticationException:
        return False
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise _ConnectFailure(f"connection lost during authentication as {endpoint.user}: {_reason(exc)}") from None
    if remaining:
        raise refused(
            f"user {endpoint.user} needs more authentication steps ({', '.join(remaining)}); unattended login "
            "needs a key alone, or a key and the inventory's password"
        )
    return True


# ---------------------------------------------------------------------- messages


def _socket_reason(exc: BaseException | None, timeout: float) -> str:
    """An operator's wording for a socket-level failure.

    >>> _socket_reason(ConnectionRefusedError(), 2)
    'connection refused'
    >>> _socket_reason(TimeoutError(), 2.5)
    'connection timed out after 2.5s'
    """
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        errors = list(exc.errors.values())
        return _socket_reason(errors[0] if errors else None, timeout)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"connection timed out after {timeout:g}s"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name: {exc.strerror}"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to host" if exc.errno == errno.EHOSTUNREACH else "network is unreachable"
        return (exc.strerror or str(exc) or type(exc).__name__).lower()
    if isinstance(exc, EOFError):
        return "connection closed by the server"
    return "connection failed" if exc is None else _reason(exc)


def _handshake_reason(exc: paramiko.SSHException, timeout: float) -> str:
    text = str(exc)
    if "protocol banner" in text:
        return _no_banner(timeout)
    if "No existing session" in text or "Negotiation failed" in text:
        return f"SSH handshake did not complete within {timeout:g}s"
    if "Incompatible" in text or "no acceptable" in text.lower():
        return f"no common SSH algorithms: {text}"
    return f"SSH handshake failed: {text}"


def _detail(exc: BaseException) -> str:
    text = str(exc)
    return f" ({text})" if text and text != "connection lost" else ""


def _no_banner(timeout: float) -> str:
    return f"no SSH banner within {timeout:g}s (not an SSH server, or sshd too busy: see its MaxStartups)"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _close_quietly(sock: _Sock) -> None:
    with contextlib.suppress(OSError):
        sock.close()
