"""The known_hosts index gives the same answers as a full scan, and as OpenSSH's ``ssh-keygen -F``.

The file mixes every form a real known_hosts holds: plain and multi-name
lines, ``[host]:port``, names hashed by ``ssh-keygen -H`` itself, wildcards and
negations, ``@revoked``/``@cert-authority``/unknown markers, keys of several
types (a FIDO ``sk-ssh-ed25519`` key among them), junk, comments, blank lines,
CRLF and upper case.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.sshd_rig import fido_public_key
from vrouter_preflight.transport.host_keys import KnownHosts, KnownHostsFiles
from vrouter_preflight.transport.known_hosts import KnownHostsIndex, scan_lines

QUERIES = (
    "c0",
    "C0",
    "10.0.0.1",
    "[c1]:2222",
    "c1",
    "[c1]:22",
    "x.lab",
    "bad.lab",
    "good.lab",
    "c7.edge",
    "c77.edge",
    "h0",
    "h1",
    "[h2]:2200",
    "h2",
    "revoked-only",
    "typed",
    "upper.example",
    "crlf-host",
    "sk-host",
    "nowhere",
    "[127.0.0.1]:2222",
)


def _public_key(directory: Path, name: str, kind: str) -> str:
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


@pytest.fixture(scope="module")
def mixed_known_hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("known_hosts")
    ed1, ed2 = _public_key(directory, "a.key", "ed25519"), _public_key(directory, "b.key", "ed25519")
    ecdsa, rsa = _public_key(directory, "c.key", "ecdsa"), _public_key(directory, "d.key", "rsa")
    to_hash = directory / "hashed"
    to_hash.write_text(f"h0,h1 {ed1}\n[h2]:2200 {rsa}\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(to_hash)], check=True, capture_output=True)
    hashed = to_hash.read_text()
    assert hashed.count("|1|") == 3
    lines = [
        "# a comment",
        "",
        f"c0,10.0.0.1 {ed1} comment words",
        f"[c1]:2222 {ecdsa}",
        f"*.lab,!bad.lab {ed2}",
        f"c?.edge {rsa}",
        f"@revoked c0 {ed2}",
        f"@revoked revoked-only {ed1}",
        f"@cert-authority *.lab {ed1}",
        f"@future c0 {ed1}",
        "junk line without a key",
        "lonely ssh-ed25519",
        "c0 ssh-ed25519 not*base64",
        f"typed ssh-rsa {ed1.split()[1]}",  # an ed25519 blob on an ssh-rsa line
        f"UPPER.example {ed2}",
        f"sk-host {fido_public_key()}",
        f"c0 {rsa}",
        hashed.rstrip("\n"),
        f"!nobody {ed1}",
        f"crlf-host {ed2}\r",
    ]
    path = directory / "known_hosts"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ssh_keygen_finds(path: Path, name: str, bad_keys: set[int]) -> list[int]:
    """Line numbers ``ssh-keygen -F`` reports for ``name``, as the ssh client uses them.

    ``ssh-keygen -F`` matches host names only; the client also skips
    @cert-authority lines here (no host certificates) and lines whose key does
    not parse (``bad_keys``), as ``load_hostkeys`` does.
    """
    out = subprocess.run(["ssh-keygen", "-F", name.lower(), "-f", str(path)], capture_output=True, text=True).stdout
    found = re.findall(r"^# Host \S+ found: line (\d+) ?(\S*)", out, re.M)
    return [int(n) for n, marker in found if marker != "CA" and int(n) not in bad_keys]


@pytest.mark.parametrize("name", QUERIES)
def test_index_agrees_with_the_scan_and_with_ssh_keygen(mixed_known_hosts: Path, name: str) -> None:
    text = mixed_known_hosts.read_text()
    index = KnownHostsIndex(str(mixed_known_hosts))
    index.add_text(text)
    indexed = [line.lineno for line in index.lookup(name)]
    scanned = [line.lineno for line in scan_lines(str(mixed_known_hosts), text, name)]
    assert indexed == scanned
    bad_keys = {s.lineno for s in index.skipped if s.reason.startswith("the key is not")}
    assert indexed == _ssh_keygen_finds(mixed_known_hosts, name, bad_keys)
    assert index.lookup(name) == tuple(scan_lines(str(mixed_known_hosts), text, name))  # same keys, markers too


def test_the_matrix_exercises_every_kind_of_answer(mixed_known_hosts: Path) -> None:
    index = KnownHostsIndex(str(mixed_known_hosts))
    index.add_text(mixed_known_hosts.read_text())
    answers = {name: index.lookup(name) for name in QUERIES}
    assert answers["nowhere"] == () and answers["bad.lab"] == ()
    assert len(answers["c0"]) == 3 and {line.marker for line in answers["c0"]} == {None, "@revoked"}
    assert answers["h1"] and answers["[h2]:2200"] and not answers["h2"]  # hashed, port kept apart
    assert answers["c7.edge"] and not answers["c77.edge"]
    assert answers["sk-host"][0].key_type == "sk-ssh-ed25519@openssh.com"
    assert index.hashed_lines == 3
    assert {s.reason.split(" ")[0] for s in index.skipped} == {"marker", "unknown", "fewer", "the"}
    assert [s.lineno for s in index.skipped if s.reason.startswith("the key is not")] == [13, 14]


def test_appending_reads_only_the_new_lines_and_rewriting_reads_all(tmp_path: Path, mixed_known_hosts: Path) -> None:
    path = tmp_path / "known_hosts"
    text = mixed_known_hosts.read_text()
    path.write_text(text)
    files = KnownHostsFiles()
    known = KnownHosts(str(path), files=files)
    for name in QUERIES:  # a whole fleet's lookups: one read
        known.entries_for(name)
    assert (files.full_parses, files.tail_parses) == (1, 0)

    new_line = f"appended {text.splitlines()[2].split(None, 1)[1]}\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(new_line)
    assert [e.lineno for e in known.entries_for("appended")] == [len(text.splitlines()) + 1]
    assert (files.full_parses, files.tail_parses) == (1, 1)

    replacement = tmp_path / "known_hosts.new"
    replacement.write_text(new_line)  # what ssh-keygen -R does: a new file renamed over the old one
    os.replace(replacement, path)
    assert [e.lineno for e in known.entries_for("appended")] == [1]
    assert known.entries_for("c0") == []
    assert (files.full_parses, files.tail_parses) == (2, 1)


def test_an_in_place_rewrite_of_the_same_length_or_longer_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
    path.write_text(f"old {key}\n")
    files = KnownHostsFiles()
    known = KnownHosts(str(path), files=files)
    assert known.entries_for("old")
    with open(path, "r+", encoding="utf-8") as handle:  # an editor writing in place
        handle.write(f"new {key}\nmore {key}\n")
    assert known.entries_for("old") == [] and known.entries_for("new")
    assert files.full_parses == 2
