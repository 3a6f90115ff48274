"""HostKeyAlias and known_hosts edge cases, with OpenSSH's own client as the reference.

For each known_hosts content and each policy, ``ssh`` (BatchMode, the same
ssh_config, its own copy of the file) and the suite must agree: both connect
or both refuse, and both leave the same known_hosts behind (accept-new
appends the bare alias, ``myalias ssh-ed25519 …``, whatever the port).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from tests.sshd_rig import ClientKey, SshdServer, fido_public_key, generate_client_key
from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]
ALIAS = "myalias"


def _server_key(server: SshdServer) -> str:
    """``type base64`` of the server's host key."""
    return " ".join(server.known_hosts_line().split()[1:3])


def _other_key(tmp_path: Path) -> str:
    """``type base64`` of a fresh ed25519 key that no server has."""
    return " ".join(generate_client_key(str(tmp_path / "other_key")).public_line.split()[:2])


def _cases(server: SshdServer, other: str) -> dict[str, str]:
    real = _server_key(server)
    port = server.port
    hashed = paramiko.HostKeys.hash_host(ALIAS)
    return {
        "alias, another key": f"{ALIAS} {other}\n",
        "alias, the real key": f"{ALIAS} {real}\n",
        "[alias]:port, the real key": f"[{ALIAS}]:{port} {real}\n",
        "[alias]:port, another key": f"[{ALIAS}]:{port} {other}\n",
        "hashed alias, another key": f"{hashed} {other}\n",
        "hashed alias, the real key": f"{hashed} {real}\n",
        "empty": "",
        "the address only, real key": f"[127.0.0.1]:{port} {real}\n",
        "alias revoked": f"@revoked {ALIAS} {real}\n{ALIAS} {real}\n",
        "wildcard naming the alias, another key": f"my* {other}\n",
        "wildcard negating the alias, another key": f"*,!{ALIAS} {other}\n",
        "other hosts' unusable lines, then the alias": (
            f"other {fido_public_key()}\n"
            "just junk on a line\n"
            f"@cert-authority *.lab {other}\n"
            f"@future-marker {ALIAS} {other}\n"
            f"{ALIAS} {real}\n"
        ),
    }


def _config(path: Path, server: SshdServer, key: ClientKey, known_hosts: Path, policy: str) -> str:
    path.write_text(
        f"""Host target
    HostName 127.0.0.1
    Port {server.port}
    User root
    IdentityFile {key.private}
    IdentitiesOnly yes
    HostKeyAlias {ALIAS}
    UserKnownHostsFile {known_hosts}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking {policy}
    BatchMode yes
    ConnectTimeout 5
"""
    )
    return str(path)


def _openssh_connects(config: str) -> bool:
    result = subprocess.run(["ssh", "-F", config, "target", "true"], capture_output=True, text=True, timeout=30)
    assert result.returncode in (0, 255), result.stderr
    return result.returncode == 0


def _suite_refusal(config: str, known_hosts: Path, open_ssh: OpenSsh) -> str | None:
    """Why the suite refused to connect, or None when it connected."""
    spec = HostSpec(name="target", ssh_config=config, known_hosts=str(known_hosts), connect_timeout=5.0)
    try:
        open_ssh(spec).run("true")
    except HostError as exc:
        return exc.cause
    return None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("policy", ["yes", "accept-new"])
def test_the_suite_accepts_and_refuses_as_openssh_does(
    policy: str, private_sshd: SshdServer, client_key: ClientKey, tmp_path: Path, open_ssh: OpenSsh
) -> None:
    other = _other_key(tmp_path)
    verdicts = []
    for index, (case, text) in enumerate(_cases(private_sshd, other).items()):
        ours, theirs = tmp_path / f"ours-{index}", tmp_path / f"theirs-{index}"
        ours.write_text(text)
        theirs.write_text(text)
        expected = _openssh_connects(_config(tmp_path / f"theirs{index}.cfg", private_sshd, client_key, theirs, policy))
        ours_config = _config(tmp_path / f"ours-{index}.cfg", private_sshd, client_key, ours, policy)
        refusal = _suite_refusal(ours_config, ours, open_ssh)
        assert refusal is None or refusal.startswith(f"host key for {ALIAS} "), (case, refusal)
        verdicts.append((case, expected, refusal is None, theirs.read_text() == ours.read_text()))
    assert [v for v in verdicts if v[1] != v[2] or not v[3]] == [], verdicts
    # The matrix really holds both outcomes under both policies.
    assert {expected for _, expected, _, _ in verdicts} == {True, False}


@pytest.mark.timeout(60)
def test_a_changed_key_under_the_alias_is_refused_by_accept_new_and_nothing_is_written(
    private_sshd: SshdServer, client_key: ClientKey, tmp_path: Path, open_ssh: OpenSsh
) -> None:
    other = _other_key(tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text(f"{ALIAS} {other}\n")
    spec = HostSpec(
        name="target",
        ssh_config=_config(tmp_path / "cfg", private_sshd, client_key, known, "accept-new"),
        known_hosts=str(known),
        connect_timeout=5.0,
    )
    with pytest.raises(HostError) as caught:
        open_ssh(spec).run("true")
    assert caught.value.cause.startswith(f"host key for {ALIAS} has CHANGED (known_hosts {known} line 1)")
    assert known.read_text() == f"{ALIAS} {other}\n"
    assert os.path.getsize(known) == len(f"{ALIAS} {other}\n")
