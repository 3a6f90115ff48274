"""The inventory: which computes to check and how to reach each one.

Loaded from YAML by :func:`load_inventory` (the documented example is
``inventory/example.yaml``). Validation is strict: a bad file stops the run
before any connection with one :class:`InventoryError` naming the file, the
host and the key.

Rules an operator can rely on:

* ``defaults`` apply to every host; a key in a host entry replaces the default
  (lists such as ``jump`` and ``groups`` are replaced, not merged; ``jump: []``
  turns off a default bastion for one host). The mappings ``vrouter`` and
  ``expect`` are replaced WHOLE too: a host's ``vrouter: {flow_entries: ...}``
  drops the default's ``vrouter.release``, so repeat what still applies.
* A host entry left empty (``compute-0:``) means "all defaults".
* A key written with no value (``port:``) is an error, never "unset".
* ``address`` and ``path`` name one machine, so they are per host only.
* A key written in a host entry must apply to that host's transport
  (``port`` on a snapshot host is an error); defaults apply only where they make
  sense.
* Relative paths are relative to the inventory file's directory; ``~`` is
  expanded.
* ``vrouter``, ``expect`` and ``min_free_1g_per_node`` apply to every
  transport (a snapshot is judged like a live host). A mistake inside them is
  named with its sub-key: ``key 'vrouter.flow_entries'``,
  ``key 'expect.hugepages.1G.0'``.
* A host is marked for hardware certification by ``certify: true`` (in its
  entry or in ``defaults``) or by being in a group listed in the top-level
  ``certify_groups``; its own ``certify: false`` wins over both. A
  ``certify_groups`` entry that no host belongs to is an error.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.facts.sizes import format_kib, parse_size_kib

TransportName = Literal["ssh", "local", "snapshot"]
BecomeMethod = Literal["none", "sudo"]
HostKeyPolicy = Literal["strict", "accept-new"]


@dataclass(frozen=True)
class JumpHost:
    """One bastion hop, parsed from ``[user@]host[:port]``.

    >>> JumpHost(address="undercloud", user="stack", port=22).display
    'stack@undercloud:22'
    """

    address: str
    user: str | None = None
    port: int | None = None

    @property
    def display(self) -> str:
        """How the hop is shown in messages (never holds a secret)."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.address}{port}"


HugepageMode = Literal["1G", "2M", "none"]
Deployment = Literal["supervisor", "compose", "rhosp"]


@dataclass(frozen=True)
class TrialPlan:
    """The inventory's ``trial:`` block: where and with which page sizes to try the allocation.

    Empty ``nodes``: one trial for the host, wherever the kernel places the
    pages; empty ``sizes_kib``: the page size vRouter is configured with.

    >>> TrialPlan(nodes=(0, 1)).sizes_kib
    ()
    """

    nodes: tuple[int, ...] = ()
    sizes_kib: tuple[int, ...] = ()


@dataclass(frozen=True)
class RemediationSteps:
    """The inventory's ``remediation:`` block: which memory steps the destructive stage may take.

    >>> RemediationSteps().compact_memory
    True
    """

    sync: bool = True
    drop_caches: bool = True
    compact_memory: bool = True


@dataclass(frozen=True)
class VrouterOverrides:
    """The inventory's ``vrouter:`` block: what to assume instead of the node's own facts.

    ``None`` means "not set": the demand model then reads the module's
    parameters, or uses vRouter's defaults.

    >>> VrouterOverrides(release="R2011", hugepage_size="1G").flow_entries is None
    True
    """

    release: str | None = None
    flow_entries: int | None = None
    oflow_entries: int | None = None
    bridge_entries: int | None = None
    bridge_oentries: int | None = None
    nexthops: int | None = None
    hugepage_size: HugepageMode | None = None
    contiguity_margin: float | None = None
    contiguity_spare_blocks: int | None = None
    hugepage_dir: str | None = None
    deployment: Deployment | None = None
    reload_command: str | None = None
    health_command: str | None = None
    health_timeout: float | None = None
    agent_log: str | None = None
    reload_timeout: float | None = None
    health_interval: float | None = None


@dataclass(frozen=True)
class ExpectedPool:
    """One hugepage pool the boot command line must request and the kernel must have reserved.

    ``total`` is the count over all nodes (spread evenly at boot); ``per_node``
    the per-node form (``hugepages=0:170,1:170``). Exactly one is set.

    >>> ExpectedPool(size_kib=1048576, total=340).per_node is None
    True
    """

    size_kib: int
    total: int | None = None
    per_node: Mapping[int, int] | None = None


@dataclass(frozen=True)
class BootExpectation:
    """The inventory's ``expect:`` block, e.g. ``{default_hugepagesz: 1G, hugepages: {1G: 340}}``.

    >>> BootExpectation(default_hugepagesz_kib=1048576).pools
    ()
    """

    default_hugepagesz_kib: int | None = None
    pools: tuple[ExpectedPool, ...] = ()


@dataclass(frozen=True)
class HostSpec:
    """Everything the engine knows about one inventory host.

    ``None`` means "not set in the inventory": the SSH transport then takes
    the value from ``~/.ssh/config`` or the OpenSSH default.

    >>> HostSpec(name="compute-0", address="192.0.2.10").display_address
    '192.0.2.10'
    """

    name: str
    transport: TransportName = "ssh"
    address: str | None = None
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    jump: tuple[JumpHost, ...] = ()
    known_hosts: str | None = None
    host_key_policy: HostKeyPolicy | None = None
    ssh_config: str | None = None
    connect_timeout: float | None = None
    command_timeout: float = 60.0
    become: BecomeMethod = "none"
    sudo_password_env: str | None = None
    path: str | None = None
    page_size: int | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    vrouter: VrouterOverrides = field(default_factory=VrouterOverrides)
    expect: BootExpectation | None = None
    min_free_1g_per_node: int = 0
    trial: TrialPlan = field(default_factory=TrialPlan)
    destructive: bool = False
    remediation: RemediationSteps = field(default_factory=RemediationSteps)
    certify: bool = False
    cert_cycles: int = 3
    cert_numa_tolerance: float = 10.0

    @property
    def display_address(self) -> str:
        """Where the host is reached, for messages: address, path or 'local'."""
        if self.transport == "local":
            return "local"
        if self.transport == "snapshot":
            return self.path or ""
        address = self.address or self.name
        return f"{address}:{self.port}" if self.port else address


@dataclass(frozen=True)
class Inventory:
    """A loaded inventory: its file and its hosts, in file order."""

    path: str
    hosts: tuple[HostSpec, ...]

    def host(self, name: str) -> HostSpec:
        """The host called ``name``; KeyError when absent."""
        for spec in self.hosts:
            if spec.name == name:
                return spec
        raise KeyError(name)


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_NAME = 253
_PAGE_SIZES = tuple(1 << shift for shift in range(12, 19))  # 4 KiB .. 256 KiB
_TOP_KEYS = ("defaults", "hosts", "certify_groups")
_PER_HOST_ONLY = frozenset({"address", "path"})

_SSH_ONLY = frozenset(
    {"address", "port", "identity_file", "jump", "known_hosts", "host_key_policy", "ssh_config", "connect_timeout"}
)
_LIVE_ONLY = frozenset(
    {"become", "sudo_password_env", "command_timeout", "trial", "destructive", "remediation", "cert_cycles"}
)
_SNAPSHOT_ONLY = frozenset({"path", "page_size"})


class _Invalid(Exception):
    """A value is wrong; the message says what was expected and what was found.

    ``path`` holds the sub-keys below the host key where the mistake is
    (``("flow_entries",)`` under ``vrouter``), for ``key 'vrouter.flow_entries'``.
    """

    def __init__(self, message: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


_T = TypeVar("_T")


def _within(sub_key: object, check: Callable[[object], _T], value: object) -> _T:
    """``check(value)``, with ``sub_key`` put in front of the path of any mistake."""
    try:
        return check(value)
    except _Invalid as exc:
        raise _Invalid(str(exc), (str(sub_key), *exc.path)) from None


def _describe(value: object) -> str:
    """How a found value is shown in messages.

    >>> _describe("twenty-two"), _describe(True), _describe(None), _describe([1])
    ("'twenty-two'", 'true (a boolean)', 'nothing (null)', 'a list')
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float, str)):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _safe_token(value: object, what: str) -> str:
    """A string that cannot be read as a command-line option or split by a shell."""
    if not isinstance(value, str) or not value:
        raise _Invalid(f"expected {what} (a non-empty string), got {_describe(value)}")
    if value.startswith("-"):
        raise _Invalid(f"expected {what}, got {value!r}: a value starting with '-' could be read as an option")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise _Invalid(f"expected {what}, got {value!r}: it contains whitespace or control characters")
    return value


def _address(value: object) -> str:
    text = _safe_token(value, "a host name or IP address")
    if "@" in text:
        raise _Invalid(f"expected a host name or IP address, got {text!r}: put the user in the 'user' key")
    if text.startswith("[") or text.endswith("]"):
        raise _Invalid(f"expected a host name or IP address, got {text!r}: write IPv6 without brackets, port in 'port'")
    if "/" in text or "," in text:
        raise _Invalid(f"expected a host name or IP address, got {text!r}")
    return text


def _user(value: object) -> str:
    text = _safe_token(value, "a user name")
    if any(ch in text for ch in "@:/,"):
        raise _Invalid(f"expected a user name, got {text!r}")
    return text


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Invalid(f"expected an integer from 1 to 65535, got {_describe(value)}")
    return value


def _timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise _Invalid(f"expected a positive number of seconds, got {_describe(value)}")
    return float(value)


def _choice(*allowed: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise _Invalid(f"expected one of {', '.join(allowed)}, got {_describe(value)}")
        return value

    return check


def _env_name(value: object) -> str:
    if not isinstance(value, str) or not ENV_NAME_RE.fullmatch(value):
        # A string is not echoed: it may be the password itself, put here by mistake.
        found = "a string that is not a variable name (not shown)" if isinstance(value, str) else _describe(value)
        raise _Invalid(
            f"expected the NAME of an environment variable holding the password "
            f"(letters, digits and '_', not starting with a digit), got {found}"
        )
    return value


def _path_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a file path, got {_describe(value)}")
    if "\0" in value or "\n" in value:
        raise _Invalid(f"expected a file path, got {value!r}: it contains a control character")
    return value


def _page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _PAGE_SIZES:
        raise _Invalid(
            f"expected the base page size in bytes, a power of two from 4096 to 262144 (e.g. 4096, 65536), "
            f"got {_describe(value)}"
        )
    return value


def _groups(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of group names, got {_describe(value)}")
    groups: list[str] = []
    for item in value:
        if not isinstance(item, str) or not HOST_NAME_RE.fullmatch(item):
            raise _Invalid(f"expected group names made of letters, digits, '.', '_', '-', got {_describe(item)}")
        if item not in groups:
            groups.append(item)
    return tuple(groups)


def _int_at_least(value: object, minimum: int) -> int | None:
    """``value`` when it is an integer (not a boolean) of at least ``minimum``, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return None
    return value


def _positive_int(value: object) -> int:
    number = _int_at_least(value, 1)
    if number is None:
        raise _Invalid(f"expected a positive integer, got {_describe(value)}")
    return number


def _entries_or_auto(value: object) -> int:
    number = _int_at_least(value, 0)
    if number is None:
        raise _Invalid(f"expected a positive integer, or 0 for auto (20% of the main table), got {_describe(value)}")
    return number


def _count(what: str) -> Callable[[object], int]:
    def check(value: object) -> int:
        number = _int_at_least(value, 0)
        if number is None:
            raise _Invalid(f"expected {what}, an integer >= 0, got {_describe(value)}")
        return number

    return check


def _margin(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 1.0:
        raise _Invalid(f"expected a number >= 1.0 (1.5 asks for 50% more free blocks), got {_describe(value)}")
    return float(value)


def _release(value: object) -> str:
    if not isinstance(value, str):
        # YAML reads 4.1 as a number (and 4.10 as 4.1): ask for quotes.
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        hint = f"; quote it: release: '{value}'" if number else ""
        raise _Invalid(f"expected a release name as a string (e.g. 'R2011', '4.1'), got {_describe(value)}{hint}")
    # Imported here: vrouter_preflight.demand imports this module (VrouterOverrides), so a
    # module-level import would be circular whichever of the two loads first.
    from vrouter_preflight.demand import parse_release

    try:
        parse_release(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
    return value


_HUGEPAGE_MODES: dict[int, HugepageMode] = {1048576: "1G", 2048: "2M"}


def _hugepage_mode(value: object) -> HugepageMode:
    """``1G`` / ``2M`` (also written ``1GB``, ``2048K``, ``1g``) or ``none``."""
    expected = "expected 1G, 2M or none (the page size the agent maps its tables on)"
    if not isinstance(value, str):
        raise _Invalid(f"{expected}, got {_describe(value)}")
    if value.strip().lower() == "none":
        return "none"
    try:
        mode = _HUGEPAGE_MODES.get(parse_size_kib(value))
    except ValueError:
        mode = None
    if mode is None:
        raise _Invalid(f"{expected}, got {value!r}")
    return mode


_MIN_HUGEPAGE_KIB = 64


def _hugepage_size_kib(value: object) -> int:
    """A hugepage size written like the kernel's ``hugepagesz=`` (``1G``, ``2M``, ``1GB``), in KiB."""
    if not isinstance(value, str):
        raise _Invalid(f"expected a hugepage size such as 1G or 2M, got {_describe(value)}")
    try:
        kib = parse_size_kib(value)
    except ValueError:
        raise _Invalid(f"expected a hugepage size such as 1G or 2M, got {value!r}") from None
    if kib < _MIN_HUGEPAGE_KIB or kib & (kib - 1):
        raise _Invalid(f"{value!r} is not a hugepage size (a power of two, at least 64K), e.g. 1G or 2M")
    return kib


def _mapping(value: object, what: str) -> Mapping[object, object]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a mapping of {what}, got {_describe(value)}")
    return value


def _command(value: object) -> str:
    """A shell command line the operator wrote (run as written, with sudo when become is set)."""
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a shell command, got {_describe(value)}")
    if "\0" in value:
        raise _Invalid("expected a shell command, got a string with a NUL character")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_describe(value)}")
    return value


_MAX_CERT_CYCLES = 100


def _cert_cycles(value: object) -> int:
    number = _int_at_least(value, 1)
    if number is None or number > _MAX_CERT_CYCLES:
        raise _Invalid(
            f"expected the number of destructive cycles in a row, an integer from 1 to {_MAX_CERT_CYCLES}, "
            f"got {_describe(value)}"
        )
    return number


def _percent(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid(f"expected a percentage from 0 to 100 (10 allows 10% from the mean), got {_describe(value)}")
    if not 0 <= value <= 100:
        raise _Invalid(f"expected a percentage from 0 to 100 (10 allows 10% from the mean), got {value!r}")
    return float(value)


_VROUTER_KEYS: dict[str, Callable[[object], object]] = {
    "release": _release,
    "flow_entries": _positive_int,
    "oflow_entries": _entries_or_auto,
    "bridge_entries": _positive_int,
    "bridge_oentries": _entries_or_auto,
    "nexthops": _positive_int,
    "hugepage_size": _hugepage_mode,
    "contiguity_margin": _margin,
    "contiguity_spare_blocks": _count("a number of 4 MiB blocks"),
    "hugepage_dir": _path_text,
    "deployment": _choice("supervisor", "compose", "rhosp"),
    "reload_command": _command,
    "health_command": _command,
    "health_timeout": _timeout,
    "reload_timeout": _timeout,
    "health_interval": _timeout,
    "agent_log": _path_text,
}


def _vrouter(value: object) -> VrouterOverrides:
    section = _mapping(value, f"vRouter settings ({', '.join(_VROUTER_KEYS)})")
    fields: dict[str, object] = {}
    for key, raw in section.items():
        check = _VROUTER_KEYS.get(key) if isinstance(key, str) else None
        if check is None:
            raise _Invalid(_unknown_key(key, tuple(_VROUTER_KEYS)), (str(key),))
        fields[str(key)] = _within(key, check, raw)
    return VrouterOverrides(**fields)  # type: ignore[arg-type]  # keys and types checked by _VROUTER_KEYS


def _node_id(value: object) -> int:
    node = _int_at_least(value, 0)
    if node is None:
        raise _Invalid(f"expected a NUMA node number (0, 1, ...), got {_describe(value)}")
    return node


def _pool(size_kib: int) -> Callable[[object], ExpectedPool]:
    pages = _count("a page count")

    def check(value: object) -> ExpectedPool:
        if isinstance(value, Mapping):
            if not value:
                raise _Invalid("expected at least one node: count, e.g. {0: 170, 1: 170}, got an empty mapping")
            per_node = {_within(node, _node_id, node): _within(node, pages, count) for node, count in value.items()}
            return ExpectedPool(size_kib, per_node=MappingProxyType(dict(sorted(per_node.items()))))
        if isinstance(value, int) and not isinstance(value, bool):
            return ExpectedPool(size_kib, total=pages(value))
        raise _Invalid(
            f"expected a page count (an integer >= 0) or a per-node mapping like {{0: 170, 1: 170}}, "
            f"got {_describe(value)}"
        )

    return check


def _pools(value: object) -> tuple[ExpectedPool, ...]:
    section = _mapping(value, "page size to a count or to {node: count}, e.g. {1G: 340} or {1G: {0: 170, 1: 170}}")
    seen: dict[int, object] = {}
    pools: list[ExpectedPool] = []
    for size_text, count in section.items():
        size_kib = _within(size_text, _hugepage_size_kib, size_text)
        if size_kib in seen:
            raise _Invalid(
                f"page size {format_kib(size_kib)} is also given as {seen[size_kib]!r}; give each size once",
                (str(size_text),),
            )
        seen[size_kib] = size_text
        pools.append(_within(size_text, _pool(size_kib), count))
    return tuple(pools)


def _trial(value: object) -> TrialPlan:
    section = _mapping(value, "trial settings (nodes, sizes)")
    nodes: tuple[int, ...] = ()
    sizes: tuple[int, ...] = ()
    for key, raw in section.items():
        if key == "nodes":
            if not isinstance(raw, list) or not raw:
                raise _Invalid(f"expected a list of NUMA node numbers, e.g. [0, 1], got {_describe(raw)}", ("nodes",))
            nodes = tuple(dict.fromkeys(_within("nodes", _node_id, item) for item in raw))
        elif key == "sizes":
            if not isinstance(raw, list) or not raw:
                raise _Invalid(f"expected a list of page sizes, e.g. [1G, 2M], got {_describe(raw)}", ("sizes",))
            sizes = tuple(dict.fromkeys(_within("sizes", _trial_size, item) for item in raw))
        else:
            raise _Invalid(_unknown_key(key, ("nodes", "sizes")), (str(key),))
    return TrialPlan(nodes=nodes, sizes_kib=sizes)


def _trial_size(value: object) -> int:
    mode = _hugepage_mode(value)
    if mode == "none":
        raise _Invalid("expected 1G or 2M, got 'none'")
    return 1048576 if mode == "1G" else 2048


def _remediation(value: object) -> RemediationSteps:
    section = _mapping(value, "remediation steps (sync, drop_caches, compact_memory)")
    known = ("sync", "drop_caches", "compact_memory")
    steps: dict[str, bool] = {}
    for key, raw in section.items():
        if key not in known:
            raise _Invalid(_unknown_key(key, known), (str(key),))
        steps[str(key)] = _within(key, _flag, raw)
    return RemediationSteps(**steps)


_EXPECT_KEYS = ("default_hugepagesz", "hugepages")


def _expect(value: object) -> BootExpectation:
    section = _mapping(value, "what the boot command line must ask for (default_hugepagesz, hugepages)")
    default_kib: int | None = None
    pools: tuple[ExpectedPool, ...] = ()
    for key, raw in section.items():
        if key == "default_hugepagesz":
            default_kib = _within(key, _hugepage_size_kib, raw)
        elif key == "hugepages":
            pools = _within(key, _pools, raw)
        else:
            raise _Invalid(_unknown_key(key, _EXPECT_KEYS), (str(key),))
    return BootExpectation(default_hugepagesz_kib=default_kib, pools=pools)


def parse_jump(text: str) -> JumpHost:
    """Parse one bastion hop written ``[user@]host[:port]`` (IPv6 as ``[addr]:port``).

    Raises ValueError with a reason when the text is not a hop.

    >>> parse_jump("stack@undercloud:2222")
    JumpHost(address='undercloud', user='stack', port=2222)
    >>> parse_jump("[2001:db8::1]:22")
    JumpHost(address='2001:db8::1', user=None, port=22)
    >>> parse_jump("2001:db8::1").port is None
    True
    """
    user: str | None = None
    rest = text
    if "@" in rest:
        user_text, _, rest = rest.rpartition("@")
        try:
            user = _user(user_text)
        except _Invalid as exc:
            raise ValueError(f"bad user in {text!r}: {exc}") from None
    port: int | None = None
    if rest.startswith("["):
        address, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise ValueError(f"expected [IPv6]:port in {text!r}")
        port_text = tail[1:] if tail else None
    elif rest.count(":") == 1:
        address, _, port_text = rest.partition(":")
    else:
        address, port_text = rest, None  # a bare IPv6 address has no port
    if port_text is not None:
        if not port_text.isdigit():
            raise ValueError(f"expected a port number after ':' in {text!r}, got {port_text!r}")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} in {text!r} is not from 1 to 65535")
    try:
        _safe_token(address, "a host name or IP address")
    except _Invalid as exc:
        raise ValueError(f"bad host in {text!r}: {exc}") from None
    if "/" in address:
        raise ValueError(f"bad host in {text!r}: expected a host name or IP address")
    return JumpHost(address=address, user=user, port=port)


def _jump(value: object) -> tuple[JumpHost, ...]:
    if isinstance(value, str):
        items: list[object] = [part.strip() for part in value.split(",")]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise _Invalid(f"expected '[user@]host[:port]' or a list of them, got {_describe(value)}")
    hops = []
    for item in items:
        if not isinstance(item, str):
            raise _Invalid(f"expected '[user@]host[:port]' for each hop, got {_describe(item)}")
        try:
            hops.append(parse_jump(item))
        except ValueError as exc:
            raise _Invalid(f"{exc} (a hop is written [user@]host[:port])") from None
    return tuple(hops)


# Key -> validator turning the YAML value into the HostSpec value. Paths are
# checked here and resolved against the inventory directory afterwards.
_VALIDATORS: dict[str, Callable[[object], object]] = {
    "transport": _choice("ssh", "local", "snapshot"),
    "address": _address,
    "port": _port,
    "user": _user,
    "identity_file": _path_text,
    "jump": _jump,
    "known_hosts": _path_text,
    "host_key_policy": _choice("strict", "accept-new"),
    "ssh_config": _path_text,
    "connect_timeout": _timeout,
    "command_timeout": _timeout,
    "become": _choice("none", "sudo"),
    "sudo_password_env": _env_name,
    "path": _path_text,
    "page_size": _page_size,
    "groups": _groups,
    "vrouter": _vrouter,
    "expect": _expect,
    "min_free_1g_per_node": _count("a number of free 1G pages"),
    "trial": _trial,
    "destructive": _flag,
    "remediation": _remediation,
    "certify": _flag,
    "cert_cycles": _cert_cycles,
    "cert_numa_tolerance": _percent,
}
HOST_KEYS: tuple[str, ...] = tuple(_VALIDATORS)
_PATH_KEYS = ("identity_file", "known_hosts", "ssh_config", "path")


def _unknown_key(key: object, known: Sequence[str], what: str = "key") -> str:
    close = difflib.get_close_matches(str(key), known, n=1) if isinstance(key, str) else []
    if close:
        return f"unknown {what}; did you mean {close[0]!r}?"
    return f"unknown {what}; known keys: {', '.join(known)}"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last).

    It remembers the chain of keys above the mapping being composed so the
    message can say "host 'compute-0' is defined twice".
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._key_path: list[object] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._key_path.append(index.value if isinstance(index, ScalarNode) else None)
        try:
            return super().compose_node(parent, index)
        finally:
            self._key_path.pop()

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], ScalarNode] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key_node.tag, key_node.value), key_node)
            if first is not key_node:
                raise _DuplicateKey(self._key_path[1:], key_node.value, first, key_node)
        return node


class _DuplicateKey(Exception):
    def __init__(self, path: list[object], key: str, first: Node, again: Node) -> None:
        lines = f"lines {first.start_mark.line + 1} and {again.start_mark.line + 1}"
        if path == ["hosts"]:
            text = f"host {key!r} is defined twice ({lines}); each host name must be unique"
        elif len(path) >= 2 and path[0] == "hosts" and None not in path:
            name = ".".join([*map(str, path[2:]), key])  # a sub-key: 'vrouter.flow_entries'
            text = f"host {path[1]!r}: key {name!r} is given twice ({lines})"
        elif path and path[0] == "defaults" and None not in path:
            name = ".".join([*map(str, path[1:]), key])
            text = f"defaults: key {name!r} is given twice ({lines})"
        else:
            text = f"key {key!r} is given twice ({lines})"
        super().__init__(text)


def _read_yaml(path: Path, shown: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryError(f"{shown}: inventory file not found") from None
    except IsADirectoryError:
        raise InventoryError(f"{shown}: is a directory, not an inventory file") from None
    except UnicodeDecodeError as exc:
        raise InventoryError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InventoryError(f"{shown}: cannot read inventory: {exc.strerror or exc}") from None
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except _DuplicateKey as exc:
        raise InventoryError(f"{shown}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InventoryError(f"{shown}: {where}invalid YAML: {what}{context}") from None
    except yaml.YAMLError as exc:
        first_line = str(exc).strip().splitlines()[:1] or ["unknown error"]
        raise InventoryError(f"{shown}: invalid YAML: {first_line[0]}") from None
    finally:
        loader.dispose()


def _resolve_path(raw: str, base: Path) -> str:
    """Expand ``~`` and make a relative path relative to the inventory directory."""
    return os.path.normpath(os.path.join(base, os.path.expanduser(raw)))


def _check_section(section: object, where: str, shown: str, base: Path, *, is_defaults: bool) -> dict[str, object]:
    """Validate one ``defaults`` or host entry; returns the converted values."""
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        hint = f"; write e.g. 'address: {section}'" if isinstance(section, str) and not is_defaults else ""
        raise InventoryError(f"{shown}: {where}: expected a mapping of settings, got {_describe(section)}{hint}")
    values: dict[str, object] = {}
    for key, raw in section.items():
        if key not in _VALIDATORS:
            raise InventoryError(f"{shown}: {where}: key {key!r}: {_unknown_key(key, HOST_KEYS)}")
        if is_defaults and key in _PER_HOST_ONLY:
            raise InventoryError(f"{shown}: {where}: key {key!r}: names one machine, so it belongs in a host entry")
        try:
            value = _VALIDATORS[key](raw)
        except _Invalid as exc:
            name = ".".join((str(key), *exc.path))
            raise InventoryError(f"{shown}: {where}: key {name!r}: {exc}") from None
        if key in _PATH_KEYS:
            value = _resolve_path(str(value), base)
        values[key] = value
    return values


def _check_applies(name: str, own: Mapping[str, object], transport: str, shown: str) -> None:
    """Refuse a key written in a host entry that its transport would ignore."""
    where = f"{shown}: host {name!r}"
    for key in own:
        if transport != "ssh" and key in _SSH_ONLY:
            raise InventoryError(f"{where}: key {key!r}: applies only to transport ssh, not {transport}")
        if transport == "snapshot" and key in _LIVE_ONLY:
            raise InventoryError(f"{where}: key {key!r}: needs a live host; a snapshot runs no commands")
        if transport != "snapshot" and key in _SNAPSHOT_ONLY:
            raise InventoryError(f"{where}: key {key!r}: applies only to transport snapshot, not {transport}")


def _build_host(name: str, values: Mapping[str, object], own: Mapping[str, object], shown: str) -> HostSpec:
    transport = str(values.get("transport", "ssh"))
    _check_applies(name, own, transport, shown)
    if transport == "snapshot":
        path = values.get("path")
        if path is None:
            raise InventoryError(f"{shown}: host {name!r}: key 'path': required for transport snapshot")
        if not os.path.exists(str(path)):
            raise InventoryError(f"{shown}: host {name!r}: key 'path': {path} does not exist")
        if not os.path.isdir(str(path)):
            raise InventoryError(
                f"{shown}: host {name!r}: key 'path': {path} is not a directory (unpack a sosreport first)"
            )
    return HostSpec(name=name, **values)  # type: ignore[arg-type]  # keys and types checked by _VALIDATORS


def _select(hosts: tuple[HostSpec, ...], only_hosts: Sequence[str], shown: str) -> tuple[HostSpec, ...]:
    wanted = [part.strip() for item in only_hosts for part in item.split(",") if part.strip()]
    if not wanted:
        raise InventoryError(f"{shown}: --hosts selects no host")
    known = [spec.name for spec in hosts]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        hints = [
            f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
            for name in unknown
            for close in [difflib.get_close_matches(name, known, n=1)]
        ]
        raise InventoryError(f"{shown}: --hosts names unknown host {', '.join(hints)}; known hosts: {', '.join(known)}")
    return tuple(spec for spec in hosts if spec.name in wanted)


def _certify_groups(value: object, shown: str) -> tuple[str, ...]:
    """The top-level ``certify_groups``: hosts in any of these groups are certified (unless ``certify: false``)."""
    try:
        return _groups(value)
    except _Invalid as exc:
        raise InventoryError(f"{shown}: key 'certify_groups': {exc}") from None


def _check_groups_known(certify_groups: Sequence[str], hosts: Sequence[HostSpec], shown: str) -> None:
    """Refuse a ``certify_groups`` entry no host belongs to (a typo would certify nothing)."""
    known = sorted({group for spec in hosts for group in spec.groups})
    for group in certify_groups:
        if group not in known:
            close = difflib.get_close_matches(group, known, n=1)
            listed = ", ".join(known) or "none"
            hint = f"; did you mean {close[0]!r}?" if close else f"; groups in this inventory: {listed}"
            raise InventoryError(f"{shown}: key 'certify_groups': no host is in group {group!r}{hint}")


def load_inventory(path: str | Path, *, only_hosts: Sequence[str] | None = None) -> Inventory:
    """Load and validate the inventory at ``path``; hosts keep their file order.

    ``only_hosts`` (from ``--hosts``) keeps only the named hosts; each item may
    hold several names separated by commas. Any problem raises one
    :class:`InventoryError` naming the file, the host and the key.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> text = "defaults: {user: heat-admin}\\nhosts:\\n  c0: {address: 192.0.2.10}\\n  c1:\\n"
    >>> _ = (d / "inv.yaml").write_text(text)
    >>> [(h.name, h.user, h.address) for h in load_inventory(d / "inv.yaml").hosts]
    [('c0', 'heat-admin', '192.0.2.10'), ('c1', 'heat-admin', None)]
    >>> load_inventory(d / "inv.yaml", only_hosts=["c1"]).hosts[0].name
    'c1'
    >>> _ = (d / "bad.yaml").write_text("hosts:\\n  c0: {port: twenty-two}\\n")
    >>> load_inventory(d / "bad.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: ...bad.yaml: host 'c0': key 'port': expected an integer from 1 to 6...
    """
    shown = str(path)
    file = Path(path)
    data = _read_yaml(file, shown)
    base = file.absolute().parent
    if data is None:
        raise InventoryError(f"{shown}: the inventory is empty; it needs a 'hosts' mapping")
    if not isinstance(data, Mapping):
        raise InventoryError(
            f"{shown}: expected a mapping with 'hosts' (and optional 'defaults'), got {_describe(data)}"
        )
    for key in data:
        if key not in _TOP_KEYS:
            raise InventoryError(f"{shown}: key {key!r}: {_unknown_key(key, _TOP_KEYS, 'top-level key')}")
    defaults = _check_section(data.get("defaults"), "defaults", shown, base, is_defaults=True)
    certify_groups = _certify_groups(data.get("certify_groups", []), shown)
    raw_hosts = data.get("hosts")
    if raw_hosts is None or raw_hosts == {}:
        raise InventoryError(f"{shown}: key 'hosts': no hosts; an empty inventory would check nothing")
    if not isinstance(raw_hosts, Mapping):
        raise InventoryError(
            f"{shown}: key 'hosts': expected a mapping of host name to settings, got {_describe(raw_hosts)}"
        )
    hosts: list[HostSpec] = []
    for name, entry in raw_hosts.items():
        if not isinstance(name, str) or not HOST_NAME_RE.fullmatch(name) or len(name) > _MAX_NAME:
            raise InventoryError(
                f"{shown}: host {name!r}: not a safe host name (letters, digits, '.', '_', '-', "
                "starting with a letter or digit); it becomes a file name and a test id"
            )
        own = _check_section(entry, f"host {name!r}", shown, base, is_defaults=False)
        values = {**defaults, **own}
        groups = values.get("groups", ())
        if "certify" not in own and isinstance(groups, tuple) and set(certify_groups) & set(groups):
            values["certify"] = True  # a host in a certify group; its own certify: false wins
        hosts.append(_build_host(name, values, own, shown))
    _check_groups_known(certify_groups, hosts, shown)
    selected = tuple(hosts) if only_hosts is None else _select(tuple(hosts), only_hosts, shown)
    return Inventory(path=shown, hosts=selected)
