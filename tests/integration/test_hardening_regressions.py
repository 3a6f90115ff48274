"""Regression tests for cases of issue 13 that had none reproducing them end to end (docs/hardening.md).

* Finding 10: ``--max-fail-percentage 200`` or ``-5``, and a ``--rollback-journal`` that is a directory,
  holds bad entries or was cut short: exit 4 with one message, never a traceback.
* Finding 11: a FIFO, a directory and a symlink loop where a snapshot's /proc files should be are worded the
  same by every check that mentions them.
* Finding 6: two hosts printing 200 MB on stderr each: an ERROR each with a short message, and a small summary.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.snapshot_trees import copy_sosreport
from tests.sshd_rig import ClientKey, SshdServer, inventory_host
from tests.suite_runs import run_suite


def _local_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  compute-0: {transport: local}\n")
    return inventory


@pytest.mark.timeout(120)
@pytest.mark.parametrize("value", ["200", "-5"])
def test_max_fail_percentage_out_of_range_exits_4_with_one_message(tmp_path: Path, value: str) -> None:
    run = run_suite("--inventory", str(_local_inventory(tmp_path)), "--max-fail-percentage", value)
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert f"argument --max-fail-percentage: expected a number from 0 to 100, got '{value}'" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


_BAD_JOURNALS = {
    "a directory": (None, "cannot read the journal: a directory"),
    "bad entries": (
        '{"seq": 1, "at": "t", "run": "r1", "event": "begin", "host": {"name": "compute-0"}, '
        '"restore": [{"node": 0, "size_kib": 1048576, "nr": 1e30}]}\n',
        "begin record 1: bad restore entry {'node': 0, 'size_kib': 1048576, 'nr': 1e+30}",
    ),
    "truncated": (
        '{"seq": 1, "at": "2026-11-26T10:00:00Z", "run": "ab", "ev',
        "no run recorded: the file is empty or truncated before its first whole record (1 unreadable line(s))",
    ),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", sorted(_BAD_JOURNALS))
def test_an_unusable_rollback_journal_exits_4_naming_the_file(tmp_path: Path, kind: str) -> None:
    text, cause = _BAD_JOURNALS[kind]
    journal = tmp_path / "compute-0.json"
    if text is None:
        journal.mkdir()
    else:
        journal.write_text(text)
    run = run_suite("--inventory", str(_local_inventory(tmp_path)), "--rollback-journal", str(journal))
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert f"ERROR: --rollback-journal {journal}: {cause}" in run.stderr
    assert "host '' is not in the inventory" not in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def _not_a_file(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(path.name + ".d")
        path.with_name(path.name + ".d").symlink_to(path.name)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink loop"])
def test_a_fifo_a_directory_or_a_symlink_loop_is_worded_the_same_by_every_check(tmp_path: Path, kind: str) -> None:
    """/proc/buddyinfo, which two checks need, is not a file: both say so in the same words."""
    tree = copy_sosreport(tmp_path)
    _not_a_file(tree / "proc" / "buddyinfo", kind)
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(f"hosts:\n  compute-7: {{transport: snapshot, path: '{tree}', page_size: 4096}}\n")
    summary = tmp_path / "summary.json"
    run = run_suite("--inventory", str(inventory), "--summary-json", str(summary), "-q")
    assert summary.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    checks = json.loads(summary.read_text())["hosts"]["compute-7"]["checks"]
    said = {check["id"]: re.findall(r"/proc/buddyinfo(?![\w/.-])[^;,\n]*", check["message"] or "") for check in checks}
    assert {name for name, found in said.items() if found} >= {"facts_parse", "contiguous_blocks"}, said
    assert {mention for found in said.values() for mention in found} == {
        f"/proc/buddyinfo: not a regular file ({kind})"
    }, said
    assert "Traceback" not in run.stdout + run.stderr


@pytest.fixture
def flooding_sshd(ssh_lab: str, authorized_keys: str, client_key: ClientKey) -> Iterator[SshdServer]:
    """An sshd whose every session prints 200 MB on stderr, then fails, whatever the client asked for."""
    server = SshdServer(
        os.path.join(ssh_lab, "sshd-flooding"),
        authorized_keys=authorized_keys,
        extra_config="ForceCommand head -c 209715200 /dev/zero | tr '\\\\0' x >&2; exit 1\n",
    ).start()
    yield server
    server.cleanup()


@pytest.mark.timeout(240)
def test_two_hosts_flooding_stderr_are_an_error_each_and_the_summary_stays_small(
    flooding_sshd: SshdServer, client_key: ClientKey, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    flooding_sshd.write_known_hosts(str(known_hosts))
    host = inventory_host(flooding_sshd, client_key, str(known_hosts), connect_timeout=5, command_timeout=60)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(json.dumps({"hosts": {"flood-0": host, "flood-1": host}}))
    summary = tmp_path / "summary.json"
    run = run_suite("--inventory", str(inventory), "--summary-json", str(summary))
    assert summary.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    assert summary.stat().st_size < 256 * 1024, summary.stat().st_size
    hosts = json.loads(summary.read_text())["hosts"]
    for name in ("flood-0", "flood-1"):
        assert hosts[name]["verdict"] == "error", hosts[name]
        assert hosts[name]["error"].startswith("fact gathering: output too large: more than 64 KiB on stderr")
        assert len(hosts[name]["error"]) < 1000, hosts[name]["error"][:300]
    assert len(run.stdout) + len(run.stderr) < 256 * 1024
    assert "Traceback" not in run.stdout + run.stderr
