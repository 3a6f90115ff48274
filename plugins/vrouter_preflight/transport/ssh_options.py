"""Effective SSH connection settings for one host: inventory, then ssh_config, then OpenSSH defaults.

:func:`resolve_options` is pure apart from reading the ssh_config file and
``$HOME``/the local user name; it opens no connection. The SSH transport
calls it once per connection. The ssh_config is read, checked and indexed
once per process (:data:`SSH_CONFIG_FILES`, again when it changes); each host
is looked up in the blocks that can apply to it
(:mod:`vrouter_preflight.transport.ssh_config_index`), so a config with a
block per compute does not make every lookup cost the whole fleet.

Precedence, per setting: a value set in the inventory wins; otherwise the
value ``~/.ssh/config`` (or the file named by ``ssh_config:``) gives for the
host's address (or its name when no address is set); otherwise the OpenSSH
default (port 22, the local user name, ``~/.ssh/id_*`` keys,
``~/.ssh/known_hosts``).
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import paramiko

from vrouter_preflight.inventory import HostKeyPolicy, HostSpec, JumpHost, parse_jump
from vrouter_preflight.shell import unsafe_host_name, unsafe_user_name
from vrouter_preflight.transport.local_files import MIB, LocalFileError, read_local_file
from vrouter_preflight.transport.ssh_config_index import SshConfigIndex

DEFAULT_PORT = 22
#: The longest ssh_config ``ConnectTimeout`` taken (the inventory's ``connect_timeout`` allows as much).
MAX_CONNECT_TIMEOUT = 600.0
#: The largest ssh_config read (a generated config with a block per host stays far below).
SSH_CONFIG_LIMIT = 16 * MIB
#: Keys OpenSSH tries when nothing names one (those that exist are used).
DEFAULT_IDENTITIES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"


class SshConfigError(ValueError):
    """The ssh_config file cannot be used (missing, unreadable, bad ProxyJump)."""


class UnsafeName(ValueError):
    """A host or user name from the inventory that must not reach a local shell (``%h``/``%r``)."""


@dataclass(frozen=True)
class Endpoint:
    """Where one SSH server is reached and who logs in there.

    ``identity_files`` are absolute paths; ``default_identities`` is True when
    none was configured and the OpenSSH defaults were filled in (missing ones
    are then skipped quietly). ``host_key_name`` is the name looked up in
    known_hosts: ``host`` on port 22, ``[host]:port`` otherwise, and the bare
    ``HostKeyAlias`` whatever the port when ssh_config sets one (as OpenSSH:
    the alias replaces ``[host]:port`` whole).

    >>> e = Endpoint(alias="c0", hostname="127.0.0.1", port=2222, user="stack")
    >>> e.display, e.host_key_name
    ('stack@127.0.0.1:2222', '[127.0.0.1]:2222')
    >>> Endpoint(alias="c0", hostname="127.0.0.1", port=2222, host_key_alias="myalias").host_key_name
    'myalias'
    """

    alias: str
    hostname: str
    port: int = DEFAULT_PORT
    user: str = "root"
    identity_files: tuple[str, ...] = ()
    default_identities: bool = False
    identities_only: bool = False
    host_key_alias: str | None = None

    @property
    def display(self) -> str:
        """``user@host:port`` for messages."""
        return f"{self.user}@{self.hostname}:{self.port}"

    @property
    def host_key_name(self) -> str:
        """The known_hosts name of this server."""
        if self.host_key_alias is not None:
            return self.host_key_alias
        return known_hosts_name(self.hostname, self.port)


@dataclass(frozen=True)
class SshOptions:
    """Everything needed to open one SSH connection (through any jump hosts).

    ``jumps`` are connected in order, each through the previous one, the
    target through the last. ``proxy_command`` is only used without jumps.
    ``known_hosts`` is read and (with ``accept-new``) written;
    ``extra_known_hosts`` are only read.
    """

    target: Endpoint
    jumps: tuple[Endpoint, ...] = ()
    proxy_command: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    extra_known_hosts: tuple[str, ...] = ()
    host_key_policy: HostKeyPolicy = "strict"
    connect_timeout: float = 10.0
    config_file: str | None = None


def known_hosts_name(host: str, port: int) -> str:
    """The name OpenSSH stores a server's key under.

    >>> known_hosts_name("compute-0", 22), known_hosts_name("127.0.0.1", 2222)
    ('compute-0', '[127.0.0.1]:2222')
    """
    return host if port == DEFAULT_PORT else f"[{host}]:{port}"


def parse_proxy_jump(value: str) -> tuple[JumpHost, ...]:
    """Parse an OpenSSH ``ProxyJump`` value: comma-separated hops, each as the inventory's ``jump``.

    ``none`` means no jump host; an ``ssh://`` prefix is allowed.

    >>> [h.display for h in parse_proxy_jump("stack@bastion:2200,[fd00::1]:22,gw")]
    ['stack@bastion:2200', 'fd00::1:22', 'gw']
    >>> parse_proxy_jump("none")
    ()
    """
    if value.strip().lower() == "none":
        return ()
    hops: list[JumpHost] = []
    for raw in value.split(","):
        item = raw.strip().removeprefix("ssh://")
        try:
            hops.append(parse_jump(item))
        except ValueError as exc:
            raise SshConfigError(f"ProxyJump {value!r}: {exc}") from None
    return tuple(hops)


def load_ssh_config(path: str | None) -> tuple[str, str | None]:
    """Read the named ssh_config file, else ``~/.ssh/config`` if it exists.

    A file named explicitly must exist (``/dev/null`` is fine). Returns the
    text (possibly empty) and the path that was read.

    >>> load_ssh_config("/dev/null")
    ('', '/dev/null')
    >>> load_ssh_config("/nonexistent/ssh_config")
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.ssh_options.SshConfigError: ssh_config file /nonexistent/ssh_config does not exist
    """
    if path is not None:
        full = os.path.expanduser(path)
        if not os.path.exists(full):
            raise SshConfigError(f"ssh_config file {full} does not exist")
    else:
        full = os.path.expanduser("~/.ssh/config")
        if not os.path.isfile(full):
            return "", None
    try:
        return read_local_file(full, SSH_CONFIG_LIMIT, "ssh_config file").decode("utf-8"), full
    except FileNotFoundError:
        raise SshConfigError(f"ssh_config file {full} does not exist") from None
    except LocalFileError as exc:
        raise SshConfigError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise SshConfigError(f"cannot read ssh_config file {full}: not UTF-8 text (byte {exc.start})") from None


@dataclass(frozen=True)
class LoadedConfig:
    """One ssh_config as read: where from, its text, and its blocks indexed by host name."""

    path: str | None
    text: str
    index: SshConfigIndex


class SshConfigFiles:
    """This process's ssh_config files, each read, checked and indexed once per version (size, mtime, inode).

    >>> SshConfigFiles().load("/dev/null").text
    ''
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str | None, tuple[tuple[int, ...], LoadedConfig]] = {}
        self.loads = 0

    def load(self, path: str | None) -> LoadedConfig:
        """The config :func:`load_ssh_config` reads for ``path``; SshConfigError when unusable."""
        full = os.path.expanduser(path if path is not None else "~/.ssh/config")
        try:
            info = os.stat(full)
            signature: tuple[int, ...] = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        except OSError:
            signature = ()  # missing or unreadable: load_ssh_config says how
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and cached[0] == signature and signature:
                return cached[1]
            text, source = load_ssh_config(path)
            _parse_config(text, source)  # the whole file must parse, once per version
            loaded = LoadedConfig(source, text, SshConfigIndex.parse(text))
            self._files[path] = (signature, loaded)
            self.loads += 1
            return loaded


SSH_CONFIG_FILES = SshConfigFiles()
"""The ssh_config files this process has read."""


def _parse_config(text: str, source: str | None) -> paramiko.SSHConfig:
    try:
        return paramiko.SSHConfig.from_text(text)
    except (paramiko.ConfigParseError, ValueError) as exc:
        raise SshConfigError(f"cannot parse ssh_config file {source}: {exc}") from None


DEFAULT_CONNECT_TIMEOUT = 10.0


def host_key_policy_from_config(value: str | None) -> HostKeyPolicy | None:
    """The policy an ssh_config ``StrictHostKeyChecking`` value asks for; ``None`` when unset.

    Never weaker than ``accept-new``: ``no``/``off`` (which in OpenSSH also
    connects despite a CHANGED key) become ``accept-new``, since a changed key
    is always refused here; ``ask`` cannot prompt in a batch run: ``strict``.

    >>> [host_key_policy_from_config(v) for v in ("yes", "accept-new", "no", "ask", None)]
    ['strict', 'accept-new', 'accept-new', 'strict', None]
    """
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("accept-new", "no", "off"):
        return "accept-new"
    return "strict"


def connect_timeout_from_config(value: str | None) -> float | None:
    """An ssh_config ``ConnectTimeout`` (whole seconds) as a float; ``None`` when unset or not positive.

    More than :data:`MAX_CONNECT_TIMEOUT` (``1e400`` reads as infinity, which no socket takes) is an error.

    >>> connect_timeout_from_config("3"), connect_timeout_from_config("0"), connect_timeout_from_config(None)
    (3.0, None, None)
    >>> connect_timeout_from_config("1e400")
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.ssh_options.SshConfigError: ConnectTimeout: expected at most 600 seconds, got '1e400'
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise SshConfigError(f"ConnectTimeout: expected a number of seconds, got {value[:40]!r}") from None
    if seconds > MAX_CONNECT_TIMEOUT:
        raise SshConfigError(f"ConnectTimeout: expected at most {MAX_CONNECT_TIMEOUT:.0f} seconds, got {value[:40]!r}")
    return seconds if seconds > 0 else None


def resolve_options(spec: HostSpec, *, local_user: str | None = None) -> SshOptions:
    """Compute the effective settings for ``spec``.

    ``local_user`` overrides the login name used as the default user (for
    tests); it defaults to the user running the suite.

    Jump hosts are looked up in the same ssh_config by their address. A hop
    with no IdentityFile of its own uses the inventory ``identity_file``
    (the usual case: one key for the bastion and the computes).

    ``host_key_policy`` and ``connect_timeout``: the inventory's, else the
    target's ``StrictHostKeyChecking`` / ``ConnectTimeout`` in ssh_config
    (:func:`host_key_policy_from_config`), else ``strict`` and 10 s.

    Raises :class:`SshConfigError` for an unusable config file, and
    :class:`UnsafeName` (before the config is even read) for an inventory
    address, name or user that a ``ProxyCommand``'s ``%h``/``%r`` would put
    into a local shell (:func:`check_names`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     config = os.path.join(d, "ssh_config")
    ...     with open(config, "w", encoding="utf-8") as handle:
    ...         _ = handle.write("Host c0\\n  HostName 10.0.0.5\\n  Port 2200\\n  ProxyJump stack@undercloud\\n")
    ...     opts = resolve_options(HostSpec(name="c0", user="heat-admin", ssh_config=config), local_user="me")
    >>> opts.target.display, opts.target.host_key_name, [hop.display for hop in opts.jumps]
    ('heat-admin@10.0.0.5:2200', '[10.0.0.5]:2200', ['stack@undercloud:22'])
    >>> opts.host_key_policy, opts.connect_timeout
    ('strict', 10.0)
    """
    check_names(spec)
    loaded = SSH_CONFIG_FILES.load(spec.ssh_config)
    config_file = loaded.path
    me = local_user or getpass.getuser()
    lookup_name = spec.address or spec.name
    # Inventory Port/User go in first (first value wins in ssh_config), so the
    # %p / %r tokens of a ProxyCommand see them, as with `ssh -p PORT -l USER`.
    overrides = "".join(
        f"    {key} {value}\n" for key, value in (("Port", spec.port), ("User", spec.user)) if value is not None
    )
    text = loaded.index.text_for(lookup_name)
    prefix = f"Host {lookup_name}\n{overrides}\n" if overrides else ""
    entry = _parse_config(prefix + text, config_file).lookup(lookup_name)

    target = _endpoint(
        alias=lookup_name,
        entry=entry,
        hostname=spec.address,
        user=spec.user,
        port=spec.port,
        identity=(spec.identity_file,) if spec.identity_file else (),
        fallback_identity=(),
        local_user=me,
    )

    jump_hosts = spec.jump
    proxy_command: str | None = None
    if not jump_hosts:
        if spec.proxy_command is not None:
            proxy_command = spec.proxy_command
        elif "proxyjump" in entry:
            jump_hosts = parse_proxy_jump(str(entry["proxyjump"]))
        elif "proxycommand" in entry and str(entry["proxycommand"]).lower() != "none":
            proxy_command = str(entry["proxycommand"])
    fallback = (spec.identity_file,) if spec.identity_file else ()
    config = _parse_config(loaded.index.text_for(*(hop.address for hop in jump_hosts)), config_file)
    jumps = tuple(
        _endpoint(
            alias=hop.address,
            entry=config.lookup(hop.address),
            hostname=None,
            user=hop.user,
            port=hop.port,
            identity=(),
            fallback_identity=fallback,
            local_user=me,
        )
        for hop in jump_hosts
    )

    if spec.known_hosts is not None:
        known_hosts = os.path.expanduser(spec.known_hosts)
        extra: tuple[str, ...] = ()
    else:
        user_files = str(entry.get("userknownhostsfile", "~/.ssh/known_hosts")).split()
        known_hosts = os.path.expanduser(user_files[0])
        extra = (*(os.path.expanduser(f) for f in user_files[1:]), GLOBAL_KNOWN_HOSTS)

    return SshOptions(
        target=target,
        jumps=jumps,
        proxy_command=proxy_command,
        known_hosts=known_hosts,
        extra_known_hosts=extra,
        host_key_policy=spec.host_key_policy
        or host_key_policy_from_config(_config_value(entry, "stricthostkeychecking"))
        or "strict",
        connect_timeout=spec.connect_timeout
        or connect_timeout_from_config(_config_value(entry, "connecttimeout"))
        or DEFAULT_CONNECT_TIMEOUT,
        config_file=config_file,
    )


def check_names(spec: HostSpec) -> None:
    """Refuse host and user names with shell metacharacters, as OpenSSH 9.6+ does for its command line.

    These values stand for ``%h``/``%n`` and ``%r`` in an ssh_config
    ``ProxyCommand`` (run by a local shell) and in ``Match exec``; names in
    the ssh_config file itself are trusted, as OpenSSH trusts them.

    >>> check_names(HostSpec(name="c0", address="192.0.2.10", user="heat-admin"))
    >>> check_names(HostSpec(name="c0", address="$(touch${IFS}pwned)"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.ssh_options.UnsafeName: address '$(touch${IFS}pwned)' is refused: it contains the...
    """
    hosts = [("address", spec.address or spec.name)] + [("jump host", hop.address) for hop in spec.jump]
    users = [("user", spec.user)] + [("jump host user", hop.user) for hop in spec.jump]
    for what, host in hosts:
        why = unsafe_host_name(host)
        if why is not None:
            raise UnsafeName(f"{what} {_excerpt(host)} is refused: {why}")
    for what, user in users:
        why = None if user is None else unsafe_user_name(user)
        if why is not None:
            raise UnsafeName(f"{what} {_excerpt(user or '')} is refused: {why}")


def _excerpt(value: str, limit: int = 60) -> str:
    """``repr`` of a value, cut for a message.

    >>> _excerpt("x" * 100, 5)
    "'xxxxx'… (100 characters)"
    """
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} characters)"


def _config_value(entry: paramiko.SSHConfigDict, key: str) -> str | None:
    return str(entry[key]) if key in entry else None


def _endpoint(
    *,
    alias: str,
    entry: paramiko.SSHConfigDict,
    hostname: str | None,
    user: str | None,
    port: int | None,
    identity: Sequence[str],
    fallback_identity: Sequence[str],
    local_user: str,
) -> Endpoint:
    # paramiko fills "hostname" with the looked-up name when the config has none.
    # An inventory address is used as given: it was the lookup key already,
    # but a HostName in a matching block still translates it (OpenSSH does the same).
    resolved_host = str(entry.get("hostname", hostname or alias))
    identities: tuple[str, ...] = tuple(os.path.expanduser(p) for p in identity)
    if not identities:
        configured: str | list[str] = entry.get("identityfile", [])
        if isinstance(configured, str):
            configured = [configured]
        identities = tuple(os.path.expanduser(p) for p in configured)
    if not identities:
        identities = tuple(os.path.expanduser(p) for p in fallback_identity)
    default_identities = not identities
    if default_identities:
        identities = tuple(os.path.expanduser(p) for p in DEFAULT_IDENTITIES)
    if port is None:
        try:
            port = int(entry.get("port", DEFAULT_PORT))
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise SshConfigError(f"bad Port {str(entry.get('port'))[:40]!r} for host {alias}: expected 1 to 65535")
    return Endpoint(
        alias=alias,
        hostname=resolved_host,
        port=port,
        user=user or str(entry.get("user", local_user)),
        identity_files=identities,
        default_identities=default_identities,
        identities_only=str(entry.get("identitiesonly", "no")).lower() == "yes",
        host_key_alias=str(entry["hostkeyalias"]) if "hostkeyalias" in entry else None,
    )
