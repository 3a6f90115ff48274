"""A host's cut-down ssh_config gives paramiko the same answer as the whole file."""

from __future__ import annotations

import paramiko
import pytest

from vrouter_preflight.transport.ssh_config_index import SshConfigIndex

CONFIG = """\
# global settings first, as many configs start
User default-user
ServerAliveInterval 30

Host c0 c1
    HostName 10.0.0.1
    Port 2200
    IdentityFile ~/.ssh/c0

Host "quoted-host"
    HostName 10.0.0.9

Host c2
    ProxyCommand ssh -W %h:%p bastion
    User c2-user

Host=c3
    Port 2203

Host *.lab !bad.lab
    User lab-user
    IdentityFile ~/.ssh/lab

Host c?
    ConnectTimeout 7

Match host 10.0.0.1
    StrictHostKeyChecking accept-new

Match originalhost c1 user root
    Port 2211

Match all
    IdentityFile ~/.ssh/fallback

Host c0
    Port 9999
    UserKnownHostsFile /etc/kh/c0
"""

NAMES = ("c0", "c1", "c2", "c3", "c4", "quoted-host", "x.lab", "bad.lab", "nowhere", "C0", "10.0.0.1")


@pytest.mark.parametrize("name", NAMES)
def test_the_cut_config_answers_as_the_whole_one(name: str) -> None:
    whole = paramiko.SSHConfig.from_text(CONFIG).lookup(name)
    cut_text = SshConfigIndex.parse(CONFIG).text_for(name)
    assert paramiko.SSHConfig.from_text(cut_text).lookup(name) == whole
    assert len(cut_text) < len(CONFIG)


def test_a_block_per_host_config_gives_each_host_only_its_own_block() -> None:
    text = "".join(f"Host c{i}\n    HostName 10.0.{i // 256}.{i % 256}\n" for i in range(1000))
    index = SshConfigIndex.parse(text)
    assert index.text_for("c577") == "Host c577\n    HostName 10.0.2.65\n"
    assert paramiko.SSHConfig.from_text(index.text_for("c577")).lookup("c577")["hostname"] == "10.0.2.65"


def test_canonicalization_keeps_the_whole_text() -> None:
    text = "CanonicalizeHostname yes\nCanonicalDomains lab\nHost c0.lab\n    Port 2200\n"
    assert SshConfigIndex.parse(text).text_for("c0") == text
