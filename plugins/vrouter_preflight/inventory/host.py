"""One inventory host, :class:`HostSpec`: every key a host entry may hold is declared on its fields.

Each field's :func:`~vrouter_preflight.keys.spec.key` is the key's whole
declaration (check and range, transports, where it may be written, default,
doc line); the loader, the "did you mean" suggestions and the README's key
table are derived from it.

>>> from vrouter_preflight.keys.spec import key_specs
>>> [spec.name for spec in key_specs(HostSpec)][:4]
['transport', 'address', 'port', 'user']
"""

# key() returns dataclasses.field() carrying the key's declaration, and every default it sets is immutable
# (strings, numbers, frozen dataclasses); ruff cannot see that through a type alias.
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from vrouter_preflight.demand import VrouterOverrides
from vrouter_preflight.inventory.boot import BootExpectation
from vrouter_preflight.inventory.hops import (
    ADDRESS_EXPECTED,
    JUMP_EXPECTED,
    USER_EXPECTED,
    JumpHost,
    host_address,
    jump_hops,
    user_name,
)
from vrouter_preflight.inventory.local_paths import CAPTURE_TREE, KEY_FILE
from vrouter_preflight.inventory.operations import RemediationSteps, TrialPlan
from vrouter_preflight.inventory_sources.hidden import Secret
from vrouter_preflight.keys.checks import (
    Choice,
    EnvName,
    Flag,
    IntRange,
    Invalid,
    NumberRange,
    Rule,
    Text,
    describe,
    list_of,
    seconds,
)
from vrouter_preflight.keys.spec import (
    HOST_ONLY,
    LIVE,
    SNAPSHOT,
    SSH,
    TRANSPORTS,
    Section,
    TransportName,
    key,
)

BecomeMethod = Literal["none", "sudo"]
HostKeyPolicy = Literal["strict", "accept-new"]
VrouterMode = Literal["kernel", "dpdk"]

HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_NAME = 253
"""A host or group name's length limit (a DNS name's)."""
_PAGE_SIZES = tuple(1 << shift for shift in range(12, 19))  # 4 KiB .. 256 KiB
_PAGE_SIZE_EXPECTED = "the base page size in bytes, a power of two from 4096 to 262144 (e.g. 4096, 65536)"
_GROUP_EXPECTED = f"group names made of letters, digits, '.', '_', '-' (at most {MAX_NAME} characters)"


def safe_name(value: object) -> bool:
    """Whether ``value`` may name a host or a group: it becomes a file name and a test id.

    >>> safe_name("compute-0"), safe_name("../etc"), safe_name("x" * 254)
    (True, False, False)
    """
    return isinstance(value, str) and len(value) <= MAX_NAME and HOST_NAME_RE.fullmatch(value) is not None


def group_names(value: object) -> tuple[str, ...]:
    """A list of group names, each kept once, in order.

    >>> group_names(["dpdk", "rack-a", "dpdk"])
    ('dpdk', 'rack-a')
    """
    items = list_of(value, "group names")
    groups: list[str] = []
    for item in items:
        if not isinstance(item, str) or not safe_name(item):
            raise Invalid(f"expected {_GROUP_EXPECTED}, got {describe(item)}")
        if item not in groups:
            groups.append(item)
    return tuple(groups)


def _page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _PAGE_SIZES:
        raise Invalid(f"expected {_PAGE_SIZE_EXPECTED}, got {describe(value)}")
    return value


@dataclass(frozen=True)
class HostSpec:
    """Everything the engine knows about one inventory host.

    ``None`` means "not set in the inventory": the SSH transport then takes
    the value from ``~/.ssh/config`` or the OpenSSH default.

    >>> HostSpec(name="compute-0", address="192.0.2.10").display_address
    '192.0.2.10'
    """

    name: str
    transport: TransportName = key(
        "ssh",
        Choice(TRANSPORTS),
        "`ssh`, `local` (this machine) or `snapshot` (a captured tree; read-only)",
    )
    address: str | None = key(
        None,
        Rule(ADDRESS_EXPECTED, host_address),
        "IP or DNS name; unset: the host's name, so `~/.ssh/config` aliases work",
        applies=SSH,
        where=HOST_ONLY,
    )
    port: int | None = key(None, IntRange(1, 65535), "unset: `~/.ssh/config`, else 22", applies=SSH)
    user: str | None = key(
        None, Rule(USER_EXPECTED, user_name), "SSH login user; unset: `~/.ssh/config`, else your login name"
    )
    identity_file: str | None = key(None, KEY_FILE, "private key; keys from the SSH agent are tried too", applies=SSH)
    identity_passphrase_env: str | None = key(
        None,
        EnvName("the identity file's passphrase"),
        "the NAME of an environment variable holding `identity_file`'s passphrase; the passphrase never "
        "appears in logs, reports or messages",
        applies=SSH,
    )
    jump: tuple[JumpHost, ...] = key(
        (),
        Rule(JUMP_EXPECTED, jump_hops),
        "bastion; a list is a chain, first hop first; `[]` cancels a default",
        applies=SSH,
    )
    proxy_command: str | None = key(
        None,
        Text("a shell command"),
        "the command (run by a local shell, as OpenSSH's `ProxyCommand`, with `%h`, `%p`, `%r`) whose stdin and "
        "stdout carry the connection; Ansible's `-o ProxyCommand=…` in `ansible_ssh_common_args` lands here. "
        "`jump` wins over it; unset: ssh_config's `ProxyCommand`",
        applies=SSH,
    )
    known_hosts: str | None = key(None, KEY_FILE, "unset: `~/.ssh/known_hosts` (hashed entries work)", applies=SSH)
    host_key_policy: HostKeyPolicy | None = key(
        None,
        Choice(get_args(HostKeyPolicy)),
        "`strict`: an unknown or changed host key is an ERROR for that host; `accept-new`: unknown keys are "
        "recorded, changed keys still refused. Unset: the host's `StrictHostKeyChecking` in ssh_config "
        "(`yes`/`ask` → strict; `accept-new`, `no`, `off` → accept-new: a changed key is always refused), "
        "else strict",
        applies=SSH,
    )
    ssh_config: str | None = key(
        None,
        KEY_FILE,
        "OpenSSH client config read for HostName, User, Port, IdentityFile, ProxyJump, ProxyCommand "
        "(unset: `~/.ssh/config`)",
        applies=SSH,
    )
    connect_timeout: float | None = key(
        None,
        seconds(600),
        "seconds to connect and authenticate (unset: the host's `ConnectTimeout` in ssh_config, else 10)",
        applies=SSH,
    )
    command_timeout: float = key(60.0, seconds(3600), "wall-clock seconds per command", applies=LIVE)
    become: BecomeMethod = key(
        "none",
        Choice(get_args(BecomeMethod)),
        "`sudo`: `sudo -n` (never prompts), or `sudo -S` fed from `sudo_password_env`",
        applies=LIVE,
    )
    sudo_password_env: str | None = key(
        None,
        EnvName("the sudo password"),
        "the NAME of an environment variable holding the sudo password; the password never appears in logs, "
        "reports or messages",
        applies=LIVE,
    )
    path: str | None = key(
        None,
        CAPTURE_TREE,
        "the captured tree (`proc/`, `sys/`, `etc/` at its root; an unpacked sosreport works); required",
        applies=SNAPSHOT,
        where=HOST_ONLY,
    )
    page_size: int | None = key(
        None,
        Rule(_PAGE_SIZE_EXPECTED, _page_size),
        "when the capture lacks it (unset: inferred from the buddy order count)",
        applies=SNAPSHOT,
    )
    groups: tuple[str, ...] = key(
        (),
        Rule(f"a list of {_GROUP_EXPECTED}", group_names),
        "free labels, for `--limit` and `certify_groups`; an Ansible host's groups are its labels, these add to them",
    )
    vrouter: VrouterOverrides = key(
        VrouterOverrides(),
        Section(VrouterOverrides, "vRouter settings"),
        "what to assume about vRouter instead of the node's own facts (replaced whole by a host's own)",
    )
    vrouter_mode: VrouterMode = key(
        "kernel",
        Choice(get_args(VrouterMode)),
        "`dpdk`: vRouter runs in user space and loads no kernel module, so `contiguous_blocks`, "
        "`hugepage_backing`, `trial_allocation` and `remediation` are SKIPPED as not applicable "
        "(TF's `AGENT_MODE: dpdk` sets it)",
    )
    expect: BootExpectation | None = key(
        None,
        Section(BootExpectation, "what the boot command line must ask for"),
        "boot hugepages the command line must request and the kernel must have reserved (replaced whole)",
    )
    min_free_1g_per_node: int = key(
        0, IntRange(0, 16384, "a number of free 1G pages"), "free 1G pages each NUMA node must keep"
    )
    trial: TrialPlan = key(
        TrialPlan(),
        Section(TrialPlan, "trial settings"),
        "the trial allocation (see [Trial allocation](#trial-allocation))",
        applies=LIVE,
    )
    destructive: bool = key(
        False,
        Flag(),
        "allow the destructive stage with `--destructive` (see "
        "[the destructive stage](#the-destructive-stage-remediate-prove-the-reload-roll-back))",
        applies=LIVE,
    )
    remediation: RemediationSteps = key(
        RemediationSteps(),
        Section(RemediationSteps, "remediation steps"),
        "the memory steps the destructive stage may take",
        applies=LIVE,
    )
    certify: bool = key(
        False,
        Flag(),
        "marks the host for [hardware certification](#hardware-certification); a host's own `false` wins over "
        "defaults and `certify_groups`",
    )
    cert_cycles: int = key(
        3,
        IntRange(1, 100, "the number of destructive cycles in a row"),
        "destructive cycles that must pass in a row",
        applies=LIVE,
    )
    cert_numa_tolerance: float = key(
        10.0,
        NumberRange(0, 100, "a percentage", hint=" (10 allows 10% from the mean)"),
        "how far memory and CPUs per node may be from the mean over the nodes",
    )
    # Not keys: set only from an operator's inventory (Ansible, TF), never written in the suite's own file.
    login_password: Secret | None = None
    """The SSH login password (``ansible_password``, TF's ``ssh_pwd``); shown as ``<hidden>`` everywhere."""
    sudo_password: Secret | None = None
    """The sudo password (``ansible_become_password``); wins over ``sudo_password_env``; never shown."""
    unusable: str | None = None
    """Why the host cannot be used as its inventory describes it: it is never contacted, its one ERROR says why."""

    @property
    def kernel_module(self) -> bool:
        """Whether vRouter runs as a kernel module here (``vrouter_mode: kernel``), which the kernel-table checks
        judge.

        >>> HostSpec(name="c0").kernel_module, HostSpec(name="c0", vrouter_mode="dpdk").kernel_module
        (True, False)
        """
        return self.vrouter_mode == "kernel"

    @property
    def display_address(self) -> str:
        """Where the host is reached, for messages: address, path or 'local'.

        >>> HostSpec(name="me", transport="local").display_address
        'local'
        """
        if self.transport == "local":
            return "local"
        if self.transport == "snapshot":
            return self.path or ""
        address = self.address or self.name
        return f"{address}:{self.port}" if self.port else address


@dataclass(frozen=True)
class Inventory:
    """A loaded inventory: its file, its hosts in file order, what it was read as, and notes worth showing.

    ``source_format`` is ``suite`` (the suite's own file), an operator's format
    (``ansible-ini``, ``tf-instances`` …) or ``suite with <format>`` (a suite file
    naming Ansible sources). ``notes`` say what was read but left out or read
    differently (never a variable's value).

    >>> Inventory("inv.yaml", (HostSpec(name="c0"),)).host("c0").transport
    'ssh'
    """

    path: str
    hosts: tuple[HostSpec, ...]
    notes: tuple[str, ...] = ()
    source_format: str = "suite"

    def host(self, name: str) -> HostSpec:
        """The host called ``name``; KeyError when absent."""
        for spec in self.hosts:
            if spec.name == name:
                return spec
        raise KeyError(name)
