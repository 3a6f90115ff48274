"""Effective SSH settings: inventory beats ssh_config beats OpenSSH defaults (no network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vrouter_preflight.inventory import HostSpec, JumpHost
from vrouter_preflight.transport.ssh_options import SshConfigError, parse_proxy_jump, resolve_options


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return str(path)


CONFIG = """
Host c0
    HostName 10.0.0.5
    User heat-admin
    Port 2200
    IdentityFile ~/keys/c0
    ProxyJump stack@undercloud:2222,gw

Host undercloud
    HostName 192.0.2.1
    IdentityFile /keys/uc

Host gw
    HostName 192.0.2.254
    User jumper

Host viaproxy
    ProxyCommand nc -q0 %h %p
    UserKnownHostsFile /etc/kh/one /etc/kh/two

Host lax
    StrictHostKeyChecking no
    ConnectTimeout 4

Host newkeys
    StrictHostKeyChecking accept-new

Host badtimeout
    ConnectTimeout soon

Host *
    IdentitiesOnly yes
"""


def test_config_fills_what_the_inventory_leaves_unset(tmp_path: Path) -> None:
    spec = HostSpec(name="c0", ssh_config=_config(tmp_path, CONFIG))
    opts = resolve_options(spec, local_user="me")
    target = opts.target
    assert (target.hostname, target.port, target.user) == ("10.0.0.5", 2200, "heat-admin")
    assert target.identity_files == (os.path.expanduser("~/keys/c0"),)
    assert target.identities_only
    assert target.host_key_name == "[10.0.0.5]:2200"
    hops = [(j.hostname, j.port, j.user) for j in opts.jumps]
    assert hops == [("192.0.2.1", 2222, "stack"), ("192.0.2.254", 22, "jumper")]
    assert opts.jumps[0].identity_files == ("/keys/uc",)
    assert opts.known_hosts == os.path.expanduser("~/.ssh/known_hosts")
    assert opts.config_file == spec.ssh_config


def test_inventory_wins(tmp_path: Path) -> None:
    spec = HostSpec(
        name="c0",
        address="c0",
        port=22,
        user="root",
        identity_file="/inv/key",
        jump=(JumpHost("bastion", "ops", 2022),),
        known_hosts="/inv/known_hosts",
        host_key_policy="accept-new",
        connect_timeout=3.0,
        ssh_config=_config(tmp_path, CONFIG),
    )
    opts = resolve_options(spec, local_user="me")
    assert (opts.target.hostname, opts.target.port, opts.target.user) == ("10.0.0.5", 22, "root")
    assert opts.target.identity_files == ("/inv/key",)
    # The bastion has no IdentityFile in the config: it gets the inventory key.
    hops = [(j.hostname, j.port, j.user, j.identity_files) for j in opts.jumps]
    assert hops == [("bastion", 2022, "ops", ("/inv/key",))]
    assert opts.known_hosts == "/inv/known_hosts"
    assert opts.extra_known_hosts == ()
    assert (opts.host_key_policy, opts.connect_timeout) == ("accept-new", 3.0)


def test_config_host_key_checking_and_connect_timeout_apply_when_the_inventory_is_silent(tmp_path: Path) -> None:
    config = _config(tmp_path, CONFIG)
    lax = resolve_options(HostSpec(name="lax", ssh_config=config), local_user="me")
    # "no" would let OpenSSH connect despite a changed key; here it is never weaker than accept-new
    assert (lax.host_key_policy, lax.connect_timeout) == ("accept-new", 4.0)
    assert resolve_options(HostSpec(name="newkeys", ssh_config=config), local_user="me").host_key_policy == (
        "accept-new"
    )
    pinned = resolve_options(
        HostSpec(name="lax", ssh_config=config, host_key_policy="strict", connect_timeout=9.0), local_user="me"
    )
    assert (pinned.host_key_policy, pinned.connect_timeout) == ("strict", 9.0)
    with pytest.raises(SshConfigError, match="ConnectTimeout: expected a number of seconds, got 'soon'"):
        resolve_options(HostSpec(name="badtimeout", ssh_config=config), local_user="me")


def test_openssh_defaults(tmp_path: Path) -> None:
    spec = HostSpec(name="compute-9", ssh_config=_config(tmp_path, ""))
    opts = resolve_options(spec, local_user="me")
    assert (opts.target.hostname, opts.target.port, opts.target.user) == ("compute-9", 22, "me")
    assert opts.target.default_identities
    assert opts.target.identity_files[0] == os.path.expanduser("~/.ssh/id_ed25519")
    assert not opts.target.identities_only
    assert (opts.host_key_policy, opts.connect_timeout) == ("strict", 10.0)
    assert opts.jumps == ()
    assert opts.proxy_command is None
    assert opts.extra_known_hosts == ("/etc/ssh/ssh_known_hosts",)


def test_proxy_command_tokens_and_known_hosts_files(tmp_path: Path) -> None:
    spec = HostSpec(name="viaproxy", address="viaproxy", port=2201, ssh_config=_config(tmp_path, CONFIG))
    opts = resolve_options(spec, local_user="me")
    assert opts.proxy_command == "nc -q0 viaproxy 2201"  # %p is the inventory port, as with ssh -p
    assert opts.known_hosts == "/etc/kh/one"
    assert opts.extra_known_hosts == ("/etc/kh/two", "/etc/ssh/ssh_known_hosts")


def test_missing_named_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SshConfigError, match="does not exist"):
        resolve_options(HostSpec(name="x", ssh_config=str(tmp_path / "nope")))


def test_dev_null_config_is_empty() -> None:
    opts = resolve_options(HostSpec(name="x", ssh_config=os.devnull), local_user="me")
    assert opts.target.hostname == "x"


def test_parse_proxy_jump() -> None:
    assert parse_proxy_jump("a") == (JumpHost("a"),)
    assert parse_proxy_jump("u@a:2,ssh://v@[::1]:3") == (JumpHost("a", "u", 2), JumpHost("::1", "v", 3))
    assert parse_proxy_jump("None") == ()
    with pytest.raises(SshConfigError, match="expected a port number"):
        parse_proxy_jump("a:xyz")
