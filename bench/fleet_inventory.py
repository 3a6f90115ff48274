"""The fleet bench's inventory and the pytest-testinfra arguments built from it (pure text generation).

The suite reads the inventory as an operator's; testinfra gets the same
hosts, user, key and known_hosts through an OpenSSH client config (``-F``),
strict host-key checking included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from vrouter_preflight.inventory import HostSpec


@dataclass(frozen=True)
class SshFiles:
    """The client-side files every bench host shares (absolute paths)."""

    identity_file: str
    known_hosts: str
    ssh_config: str


def host_name(index: int) -> str:
    """The inventory name of the bench's ``index``-th host (sorted names = start order).

    >>> host_name(7), host_name(1234)
    ('bench-0007', 'bench-1234')
    """
    return f"bench-{index:04d}"


def inventory_yaml(ports: Sequence[int], files: SshFiles, *, user: str = "root") -> str:
    """An inventory of one SSH host per port on 127.0.0.1, strict host keys, no sudo.

    >>> text = inventory_yaml([22001, 22002], SshFiles("/k/id", "/k/known_hosts", "/k/ssh_config"))
    >>> print(text)  # doctest: +ELLIPSIS
    # The fleet bench's hosts (bench/fleet_bench.py): one loopback sshd each.
    defaults:
      become: none
      host_key_policy: strict
      identity_file: /k/id
      known_hosts: /k/known_hosts
      ssh_config: /k/ssh_config
      user: root
    hosts:
      bench-0000:
        address: 127.0.0.1
        port: 22001
      bench-0001:
        address: 127.0.0.1
        port: 22002
    <BLANKLINE>
    """
    data = {
        "defaults": {
            "user": user,
            "become": "none",
            "identity_file": files.identity_file,
            "known_hosts": files.known_hosts,
            "host_key_policy": "strict",
            "ssh_config": files.ssh_config,
        },
        "hosts": {host_name(index): {"address": "127.0.0.1", "port": port} for index, port in enumerate(ports)},
    }
    header = "# The fleet bench's hosts (bench/fleet_bench.py): one loopback sshd each.\n"
    return header + yaml.safe_dump(data, default_flow_style=False, sort_keys=True)


def openssh_client_config(hosts: Sequence[HostSpec], control_dir: str) -> str:
    """The OpenSSH client config testinfra's ``ssh`` backend gets (``--ssh-config``, read with ``-F``).

    One ``Host`` block per inventory host (its address, port, user, key and
    known_hosts), strict host-key checking, and connection sharing
    (ControlMaster with a ControlPath), testinfra's fastest way to run many
    commands on one host.

    >>> spec = HostSpec("bench-0000", address="127.0.0.1", port=22001, user="root",
    ...                 identity_file="/k/id", known_hosts="/k/known_hosts")
    >>> print(openssh_client_config([spec], "/k/cm"))
    Host bench-0000
      HostName 127.0.0.1
      Port 22001
      User root
      IdentityFile /k/id
      UserKnownHostsFile /k/known_hosts
    Host *
      IdentitiesOnly yes
      StrictHostKeyChecking yes
      GlobalKnownHostsFile /dev/null
      BatchMode yes
      ControlPath /k/cm/%C
      LogLevel ERROR
    <BLANKLINE>
    """
    lines: list[str] = []
    for spec in hosts:
        if spec.address is None or spec.port is None or spec.identity_file is None or spec.known_hosts is None:
            raise ValueError(f"{spec.name}: the bench needs address, port, identity_file and known_hosts")
        lines += [
            f"Host {spec.name}",
            f"  HostName {spec.address}",
            f"  Port {spec.port}",
            *([f"  User {spec.user}"] if spec.user else []),
            f"  IdentityFile {spec.identity_file}",
            f"  UserKnownHostsFile {spec.known_hosts}",
        ]
    lines += [
        "Host *",
        "  IdentitiesOnly yes",
        "  StrictHostKeyChecking yes",
        "  GlobalKnownHostsFile /dev/null",
        "  BatchMode yes",
        f"  ControlPath {control_dir}/%C",
        "  LogLevel ERROR",
    ]
    return "\n".join(lines) + "\n"


def ssh_uris(hosts: Sequence[HostSpec]) -> str:
    """testinfra's ``--hosts``: one ``ssh://`` URI per inventory host, by name (the ssh config resolves it).

    >>> ssh_uris([HostSpec("bench-0000", user="root"), HostSpec("bench-0001", user="root")])
    'ssh://root@bench-0000,ssh://root@bench-0001'
    """
    return ",".join(f"ssh://{spec.user}@{spec.name}" if spec.user else f"ssh://{spec.name}" for spec in hosts)
