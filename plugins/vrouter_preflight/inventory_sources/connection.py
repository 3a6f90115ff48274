"""Ansible's connection variables of one host, mapped onto the suite's inventory keys.

:func:`connection_settings` returns the suite keys (``address``, ``port``,
``user``, ``identity_file``, ``jump``, ``known_hosts``, ``host_key_policy``,
``ssh_config``, ``connect_timeout``, ``become``, ``transport``) in the raw form a
suite inventory would hold them, so one validator checks both, plus three keys
the suite has no equivalent for yet: ``proxy_command`` (from ``-o
ProxyCommand=``), ``password`` and ``sudo_password`` (both
:class:`~vrouter_preflight.inventory_sources.hidden.Secret`, never shown).

Rules, as Ansible's ssh connection plugin applies them:

* of two aliases the later in Ansible's list wins (``ansible_ssh_user`` over
  ``ansible_user``, ``ansible_ssh_host`` over ``ansible_host``); a null value
  counts as unset;
* an ``ansible_*`` variable wins over the same option inside
  ``ansible_ssh_args`` / ``_common_args`` / ``_extra_args`` (Ansible puts it
  first on the ssh command line, and ssh keeps the first value);
* ``ansible_connection``: ``ssh``, ``paramiko``, ``smart`` mean ssh, ``local``
  means local (the ssh keys are then dropped, as Ansible ignores them);
  anything else is a problem for that host;
* ``ansible_become`` on needs ``ansible_become_method`` sudo (or unset) and
  ``ansible_become_user`` root (or unset);
* ``StrictHostKeyChecking=no`` (or ``ansible_host_key_checking: false``) maps
  to ``accept-new``, as the suite reads ``~/.ssh/config``: an unknown key is
  recorded, a changed key is still refused;
* a value that is a Jinja template is a problem naming the variable, unless
  it is exactly ``{{ name }}`` with ``name`` another variable of the host
  holding a plain value (``ansible_host: "{{ ctlplane_ip }}"``), which is
  resolved;
* a vault-encrypted connection variable is a problem (the suite cannot
  decrypt it).

Each problem is meant to become an ERROR for that host only. Problems and
notes quote connection variables at most, never a password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vrouter_preflight.facts.lines import is_plain_number
from vrouter_preflight.inventory_sources.hidden import Secret, VaultedValue
from vrouter_preflight.inventory_sources.model import InventoryHost
from vrouter_preflight.inventory_sources.ssh_args import SshOptions, parse_ssh_args

# Ansible's aliases, in its order: the last one set wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "identity_file": ("ansible_private_key_file", "ansible_ssh_private_key_file"),
    "password": ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"),
    "sudo_password": ("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"),
    "connect_timeout": ("ansible_ssh_timeout",),
    "host_key_checking": ("ansible_host_key_checking", "ansible_ssh_host_key_checking"),
    "connection": ("ansible_connection",),
    "become": ("ansible_become",),
    "become_method": ("ansible_become_method",),
    "become_user": ("ansible_become_user",),
    "inline_key": ("ansible_private_key", "ansible_ssh_private_key"),
}
SSH_ARG_VARIABLES = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
SECRET_KEYS = frozenset({"password", "sudo_password"})
SSH_ONLY_KEYS = (
    "address",
    "port",
    "user",
    "identity_file",
    "jump",
    "proxy_command",
    "known_hosts",
    "host_key_policy",
    "ssh_config",
    "connect_timeout",
    "password",
)
_SSH_CONNECTIONS = frozenset({"ssh", "paramiko", "paramiko_ssh", "smart"})
_TRUE = frozenset({"yes", "on", "true", "1", "y", "t"})
_FALSE = frozenset({"no", "off", "false", "0", "n", "f"})
_STRICT = {"yes": "strict", "ask": "strict", "true": "strict", "accept-new": "accept-new"}
_LOOSE = frozenset({"no", "off", "false"})
_TEMPLATE_MARKS = ("{{", "{%", "{#")
_PLAIN_REFERENCE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_MAX_SHOWN = 120
_MAX_HOPS = 5


@dataclass(frozen=True)
class ConnectionSettings:
    """The suite keys for one host, where each came from, and what could not be mapped.

    ``settings`` holds suite keys with raw values (validated by the suite's
    inventory validator); ``origins`` the Ansible variable behind each key;
    ``problems`` make the host an ERROR; ``notes`` are worth logging only.

    >>> ConnectionSettings().problems
    ()
    """

    settings: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...'"


def is_template(value: object) -> bool:
    """Whether a value holds Jinja markup Ansible would evaluate.

    >>> is_template("{{ ctlplane_ip }}"), is_template("192.0.2.1"), is_template(22)
    (True, False, False)
    """
    return isinstance(value, str) and not isinstance(value, Secret) and any(m in value for m in _TEMPLATE_MARKS)


def resolve_plain_reference(value: str, variables: Mapping[str, object]) -> object | None:
    """The value of ``{{ name }}`` when ``name`` is a plain variable of the host, else ``None``.

    >>> hv = {"ctlplane_ip": "192.0.2.7", "a": "{{ ctlplane_ip }}", "loop": "{{ loop }}"}
    >>> resolve_plain_reference("{{ a }}", hv), resolve_plain_reference("{{ loop }}", hv)
    ('192.0.2.7', None)
    >>> resolve_plain_reference("{{ ctlplane_ip | default('x') }}", hv) is None
    True
    """
    current: object = value
    for _ in range(_MAX_HOPS):
        match = _PLAIN_REFERENCE.match(current) if isinstance(current, str) else None
        if match is None:
            break
        current = variables.get(match.group(1))
    if current is None or isinstance(current, (Mapping, list, VaultedValue)) or is_template(current):
        return None
    return current


class _Mapper:
    """Collects settings, origins, problems and notes for one host."""

    def __init__(self, host: InventoryHost) -> None:
        self.variables = host.variables
        self.settings: dict[str, object] = {}
        self.origins: dict[str, str] = {}
        self.problems: list[str] = list(host.problems)
        self.notes: list[str] = []

    def pick(self, option: str) -> tuple[str, object] | None:
        """``(variable, value)`` of the winning alias, templates resolved; ``None`` if unset or unusable."""
        chosen: tuple[str, object] | None = None
        for name in ALIASES[option]:
            value = self.variables.get(name)
            if value is not None:
                chosen = (name, value)
        if chosen is None:
            return None
        name, value = chosen
        secret = option in SECRET_KEYS
        if isinstance(value, VaultedValue):
            self.problems.append(f"{name} is vault-encrypted and the suite cannot decrypt it")
            return None
        if is_template(value):
            resolved = resolve_plain_reference(str(value), self.variables)
            if resolved is None:
                shown = "" if secret else f" {_shown(value)}"
                self.problems.append(f"{name}: the Jinja template{shown} cannot be evaluated here; give the value")
                return None
            value = resolved
        return name, value

    def put(self, key: str, value: object, origin: str) -> None:
        self.settings[key] = value
        self.origins[key] = origin

    def wrong(self, variable: str, value: object, expected: str) -> None:
        self.problems.append(f"{variable}: expected {expected}, got {_shown(value)}")


def _flag(value: object) -> bool | None:
    """A boolean as Ansible reads one (``yes``, ``True``, ``1``...), ``None`` when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _map_transport(m: _Mapper) -> str:
    picked = m.pick("connection")
    if picked is None:
        return "ssh"
    variable, value = picked
    plugin = str(value).strip()
    if plugin.startswith("ansible.builtin."):
        plugin = plugin[len("ansible.builtin.") :]
    if plugin in _SSH_CONNECTIONS:
        m.put("transport", "ssh", variable)
        return "ssh"
    if plugin == "local":
        m.put("transport", "local", variable)
        return "local"
    m.problems.append(
        f"{variable}: {_shown(value)} is not supported; the suite connects with ssh (ssh, paramiko, smart) "
        "or runs local"
    )
    return "unsupported"


def _map_plain(m: _Mapper) -> None:
    for key in ("address", "user", "identity_file"):
        picked = m.pick(key)
        if picked is None:
            continue
        variable, value = picked
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            m.put(key, str(value), variable)
        else:
            m.wrong(variable, value, "a non-empty string")
    if m.pick("inline_key") is not None:
        m.problems.append("ansible_ssh_private_key (a key given inline) is not supported; use a key file")


def _port(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and is_plain_number(value.strip(), 5):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= 65535 else None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # int, float or a numeric string
    except (TypeError, ValueError):
        return None
    return number if 0 < number < float("inf") else None


def _map_numbers(m: _Mapper, args: SshOptions, args_origin: str) -> None:
    table = (
        ("port", args.port, "-o Port", _port, "a port number from 1 to 65535"),
        ("connect_timeout", args.connect_timeout, "-o ConnectTimeout", _seconds, "a positive number of seconds"),
    )
    for key, from_args, option, convert, expected in table:
        picked = m.pick(key)
        origin, raw = picked if picked else (f"{args_origin} ({option})", from_args)
        if raw is None:
            continue
        number = convert(raw)
        if number is None:
            m.wrong(origin, raw, expected)
        else:
            m.put(key, number, origin)


def _ssh_args(m: _Mapper) -> tuple[SshOptions, str]:
    texts: list[str] = []
    names: list[str] = []
    for name in SSH_ARG_VARIABLES:
        value = m.variables.get(name)
        if value is None:
            continue
        if isinstance(value, VaultedValue) or is_template(value) or not isinstance(value, str):
            m.wrong(name, value, "ssh options as a plain string")
            continue
        try:
            parse_ssh_args(value)
        except ValueError as exc:
            m.problems.append(f"{name}: cannot read the ssh options: {exc}")
            continue
        texts.append(value)
        names.append(name)
    return parse_ssh_args(*texts), "/".join(names) or "ansible_ssh_common_args"


def _map_ssh_args(m: _Mapper, args: SshOptions, origin: str) -> None:
    if "user" not in m.settings and args.user:
        m.put("user", args.user, f"{origin} (-l / -o User)")
    files = ([m.settings["identity_file"]] if "identity_file" in m.settings else []) + list(args.identity_files)
    if "identity_file" not in m.settings and args.identity_files:
        m.put("identity_file", args.identity_files[0], f"{origin} (-i / -o IdentityFile)")
    if len(set(map(str, files))) > 1:
        m.notes.append(f"several identity files given; the suite uses {files[0]!s} only")
    if args.proxy is not None and args.proxy[1].lower() != "none":
        kind, value = args.proxy
        if kind == "jump":
            m.put("jump", value, f"{origin} (-J / -o ProxyJump)")
        else:
            m.put("proxy_command", value, f"{origin} (-o ProxyCommand)")
    if args.known_hosts_file:
        files_listed = args.known_hosts_file.split()
        m.put("known_hosts", files_listed[0], f"{origin} (-o UserKnownHostsFile)")
        if len(files_listed) > 1:
            m.notes.append(f"UserKnownHostsFile lists several files; the suite reads {files_listed[0]} only")
    if args.config_file:
        m.put("ssh_config", args.config_file, f"{origin} (-F)")
    if args.ignored:
        m.notes.append(f"ssh options not used by the suite: {', '.join(args.ignored)}")


def _map_host_key_policy(m: _Mapper, args: SshOptions, origin: str) -> None:
    picked = m.pick("host_key_checking")
    if picked is not None:
        variable, value = picked
        flag = _flag(value)
        if flag is None:
            m.wrong(variable, value, "true or false")
        elif not flag:
            m.put("host_key_policy", "accept-new", variable)
            m.notes.append(f"{variable} false is read as host_key_policy accept-new: a changed key is still refused")
            return
    if args.strict_host_key_checking is None:
        return
    value = args.strict_host_key_checking.strip().lower()
    where = f"{origin} (-o StrictHostKeyChecking)"
    if value in _STRICT:
        m.put("host_key_policy", _STRICT[value], where)
    elif value in _LOOSE:
        m.put("host_key_policy", "accept-new", where)
        m.notes.append(f"StrictHostKeyChecking={value} is read as accept-new: a changed key is still refused")
    else:
        m.wrong(where, args.strict_host_key_checking, "yes, ask, accept-new, no or off")


def _map_become(m: _Mapper) -> None:
    picked = m.pick("become")
    if picked is None:
        return
    variable, value = picked
    flag = _flag(value)
    if flag is None:
        m.wrong(variable, value, "true or false")
        return
    m.put("become", "sudo" if flag else "none", variable)
    if not flag:
        return
    method = m.pick("become_method")
    if method is not None and str(method[1]).replace("ansible.builtin.", "") != "sudo":
        m.problems.append(f"{method[0]}: {_shown(method[1])} is not supported; the suite becomes root with sudo")
    user = m.pick("become_user")
    if user is not None and str(user[1]) != "root":
        m.problems.append(f"{user[0]}: {_shown(user[1])} is not supported; the suite becomes root only")


def _map_secrets(m: _Mapper) -> None:
    for key in ("password", "sudo_password"):
        picked = m.pick(key)
        if picked is None:
            continue
        variable, value = picked
        if isinstance(value, Secret):
            m.put(key, value, variable)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            m.put(key, Secret(str(value)), variable)
        else:
            m.problems.append(f"{variable}: expected a password string, got a {type(value).__name__}")


def connection_settings(host: InventoryHost) -> ConnectionSettings:
    """The suite's connection keys for ``host``, from its Ansible variables.

    >>> from vrouter_preflight.inventory_sources.hidden import HostVars
    >>> host = InventoryHost("compute02", HostVars({
    ...     "ansible_host": "10.0.0.12", "ansible_user": "kolla", "ansible_port": 2222,
    ...     "ansible_ssh_common_args": "-o ProxyJump=stack@undercloud -o StrictHostKeyChecking=accept-new",
    ...     "ansible_become": "yes", "ansible_become_password": "s3cret"}))
    >>> s = connection_settings(host)
    >>> dict(s.settings)
    {'address': '10.0.0.12', 'user': 'kolla', 'port': 2222, 'jump': 'stack@undercloud', \
'host_key_policy': 'accept-new', 'become': 'sudo', 'sudo_password': '<hidden>'}
    >>> s.origins["jump"], s.problems
    ('ansible_ssh_common_args (-J / -o ProxyJump)', ())
    >>> connection_settings(InventoryHost("w1", HostVars({"ansible_connection": "winrm"}))).problems
    ("ansible_connection: 'winrm' is not supported; the suite connects with ssh (ssh, paramiko, smart) or runs local",)
    """
    m = _Mapper(host)
    transport = _map_transport(m)
    _map_plain(m)
    args, args_origin = _ssh_args(m)
    _map_numbers(m, args, args_origin)
    _map_ssh_args(m, args, args_origin)
    _map_host_key_policy(m, args, args_origin)
    _map_become(m)
    _map_secrets(m)
    if transport == "local":
        dropped = [key for key in SSH_ONLY_KEYS if m.settings.pop(key, None) is not None]
        for key in dropped:
            m.origins.pop(key, None)
        if dropped:
            m.notes.append(f"local connection: ssh settings not used ({', '.join(dropped)})")
    return ConnectionSettings(
        settings=MappingProxyType(m.settings),
        origins=MappingProxyType(m.origins),
        problems=tuple(m.problems),
        notes=tuple(m.notes),
    )
