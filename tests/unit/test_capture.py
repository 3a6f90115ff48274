"""The one-command capture script, run by a real shell against real files."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from vrouter_preflight.capture import (
    FACT_SOURCES,
    Capture,
    FactSource,
    build_capture_script,
    new_boundary,
    parse_capture_stream,
)


def run_script(sources: list[FactSource]) -> dict[str, Capture]:
    boundary = new_boundary()
    out = subprocess.run(["sh", "-c", build_capture_script(sources, boundary)], capture_output=True, check=False)
    return dict(parse_capture_stream(out.stdout.decode(), boundary))


def test_file_contents_come_back_byte_for_byte(tmp_path: Path) -> None:
    texts = {
        "plain": "a\nb\n",
        "no-final-newline": "Node 0, zone   Normal   1   2",
        "empty": "",
        "blank-lines": "\n\n\n",
        "looks-like-a-marker": "@@VRPF F /etc/passwd\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    captures = run_script([FactSource(str(tmp_path / name)) for name in texts])
    for name, text in texts.items():
        capture = captures[str(tmp_path / name)]
        assert capture.status == "ok"
        assert capture.text == text


def test_absent_file_is_absent_not_empty(tmp_path: Path) -> None:
    captures = run_script([FactSource(str(tmp_path / "missing"))])
    assert captures[str(tmp_path / "missing")].status == "absent"


def test_glob_expands_to_one_capture_per_match(tmp_path: Path) -> None:
    for node in (0, 1, 33):
        (tmp_path / f"node{node}").mkdir()
        (tmp_path / f"node{node}" / "meminfo").write_text(f"Node {node} MemTotal: 1 kB\n")
    captures = run_script([FactSource(str(tmp_path / "node*" / "meminfo"))])
    assert sorted(captures) == sorted(str(tmp_path / f"node{n}" / "meminfo") for n in (0, 1, 33))


def test_glob_without_match_is_one_absent_record(tmp_path: Path) -> None:
    pattern = str(tmp_path / "nothing*" / "x")
    captures = run_script([FactSource(pattern)])
    assert list(captures) == [pattern]
    assert captures[pattern].status == "absent"


def test_unreadable_file_is_recorded_with_a_reason(tmp_path: Path) -> None:
    # A directory exists but cannot be read as a file, even by root.
    (tmp_path / "dir").mkdir()
    captures = run_script([FactSource(str(tmp_path / "dir"))])
    capture = captures[str(tmp_path / "dir")]
    assert capture.status == "unreadable"
    assert capture.error == "read-error"


def test_permission_denied_is_named() -> None:
    """As an unprivileged user, a root-only file (like pagetypeinfo on >= 5.4) is unreadable."""
    assert os.geteuid() == 0, "the suite's tests run as root (make test); this one drops to nobody"
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)  # pytest's own tmp_path is not traversable by nobody
        secret = Path(tmp) / "secret"
        secret.write_text("x")
        secret.chmod(0o400)
        script = build_capture_script([FactSource(str(secret))], "@@B")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script]
        out = subprocess.run(argv, capture_output=True, check=False)
        capture = parse_capture_stream(out.stdout.decode(), "@@B")[str(secret)]
    assert (capture.status, capture.error) == ("unreadable", "permission-denied")


def test_command_source_output_is_stored_under_its_key() -> None:
    captures = run_script([FactSource("cmd:answer", command="echo 42")])
    assert captures["cmd:answer"].text == "42\n"


def test_failing_command_source_is_unreadable() -> None:
    captures = run_script([FactSource("cmd:fails", command="false")])
    assert captures["cmd:fails"].status == "unreadable"


def test_every_standard_source_is_reported_on_this_machine() -> None:
    """Each standard source yields at least one record: read, absent or unreadable."""
    captures = run_script(list(FACT_SOURCES))
    for source in FACT_SOURCES:
        if source.is_glob:
            prefix = source.pattern.split("*", 1)[0]
            assert any(key.startswith(prefix) for key in captures), source.pattern
        else:
            assert source.key in captures, source.key
    assert captures["/proc/buddyinfo"].status == "ok"


def test_boundary_is_random_per_run() -> None:
    assert new_boundary() != new_boundary()
