"""The operator's SSH files: known_hosts and ssh_config, mutated and random.

* known_hosts: OpenSSH skips a line it cannot use, and so does the index: any text gives an index,
  every lookup an answer; read from a file, anything else is the transport's HostKeyError naming the file.
* ssh_config: a host's options, or the transport's SshConfigError (UnsafeName for a refused name).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import paramiko
from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error, touch
from tests.property.strategies import mutated, random_text
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.host_keys import HostKeyError, KnownHosts, KnownHostsFiles
from vrouter_preflight.transport.known_hosts import KnownHostsIndex, scan_lines
from vrouter_preflight.transport.ssh_options import (
    MAX_CONNECT_TIMEOUT,
    SshConfigError,
    SshOptions,
    UnsafeName,
    resolve_options,
)

ED25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
ECDSA = paramiko.ECDSAKey.generate().get_base64()
HASHED = "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|VABW/swdBkyrjlPVEv2j1at0yDU="
KNOWN_HOSTS = (
    f"c0,c1 ssh-ed25519 {ED25519} root@c0\n"
    f"*.lab,!bad.lab ecdsa-sha2-nistp256 {ECDSA}\n"
    f"{HASHED} ssh-ed25519 {ED25519}\n"
    f"@revoked c2 ssh-ed25519 {ED25519}\n"
    f"[127.0.0.1]:2222 ecdsa-sha2-nistp256 {ECDSA}\n"
    f"@cert-authority *.lab ssh-ed25519 {ED25519}\n"
    f"sk c3 sk-ssh-ed25519@openssh.com {ED25519}\n"
    "# a comment\n\n"
)
NAMES = ("c0", "C1", "x.lab", "bad.lab", "192.168.1.61", "[127.0.0.1]:2222", "myalias", "")
SSH_CONFIG = """\
User ops
ConnectTimeout 3
Host c0 c1
  HostName 10.0.0.5
  Port 2200
  ProxyJump stack@undercloud:2222,[fd00::1]:22
  IdentityFile ~/.ssh/id_c0
  StrictHostKeyChecking accept-new
Host *.lab !bad.lab
  User lab
  HostKeyAlias myalias
  ProxyCommand ssh -W %h:%p gw
Match host c2 user root
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null ~/.ssh/known_hosts2
Host c3
  Hostname=c3.lab
  Port = 22
"""
_WORKDIR = Path(tempfile.mkdtemp(prefix="vrpf-property-ssh-"))
_NUMBERS = itertools.count()


def _file(data: bytes) -> str:
    """A new file holding ``data`` (a new name each time: the readers cache by path and version)."""
    path = _WORKDIR / f"file-{next(_NUMBERS)}"
    path.write_bytes(data)
    return str(path)


@given(text=mutated((KNOWN_HOSTS,)) | random_text(), names=st.lists(st.sampled_from(NAMES) | st.text(max_size=20)))
def test_known_hosts_index_answers_every_lookup(text: str, names: list[str]) -> None:
    """Any text indexes; a lookup finds what a plain scan of every line finds."""
    index = KnownHostsIndex("kh")
    index.add_text(text)
    for name in names:
        assert list(index.lookup(name)) == scan_lines("kh", text, name)


@given(
    data=st.one_of(mutated((KNOWN_HOSTS,)).map(str.encode), st.binary(max_size=300)),
    name=st.sampled_from(NAMES),
)
@example(data=b"\xff\xfe" + KNOWN_HOSTS.encode(), name="c0")
def test_known_hosts_files_read_or_raise_host_key_error(data: bytes, name: str) -> None:
    path = _file(data)
    known = KnownHosts(path, files=KnownHostsFiles())
    result, error = result_or_own_error(lambda: (known.entries_for(name), known.known_key_types(name)), HostKeyError)
    touch(result)
    assert error is None or path in str(error), str(error)


@given(text=mutated((SSH_CONFIG,)) | random_text(), name=st.sampled_from(("c0", "c1", "c2", "c3", "x.lab", "bad.lab")))
# Were taken as they were: a port past 65535 or below 1, and an infinite ConnectTimeout.
@example(text="Host c0\n  Port 99999999999999999999999\n", name="c0")
@example(text="Host c0\n  Port -5\n", name="c0")
@example(text="Host c0\n  ConnectTimeout 1e400\n", name="c0")
@example(text="Host c0\n  ProxyJump ,,,\n", name="c0")
@example(text="Host c0\n  HostName %\n", name="c0")
def test_ssh_config_resolves_or_raises_ssh_config_error(text: str, name: str) -> None:
    """A host's options from any ssh_config, or SshConfigError; a parse error names the file."""
    path = _file(text.encode())
    spec = HostSpec(name=name, ssh_config=path)
    result, error = result_or_own_error(lambda: resolve_options(spec, local_user="me"), (SshConfigError, UnsafeName))
    touch(result)
    assert error is None or "cannot parse" not in str(error) or path in str(error), str(error)
    if isinstance(result, SshOptions):
        for endpoint in (result.target, *result.jumps):
            assert 1 <= endpoint.port <= 65535, endpoint
        assert 0 < result.connect_timeout <= MAX_CONNECT_TIMEOUT
