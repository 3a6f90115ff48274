"""A snapshot ``path`` naming a file that is no sosreport tarball stops the run at load (exit 4), before any
gathering: one message naming the inventory, the host, the key and the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.snapshot_trees import SOSREPORT_TREE, tar_tree
from tests.unit.inventory_files import load_error, write
from vrouter_preflight.inventory import load_inventory


def snapshot_inventory(tmp_path: Path, file_name: str) -> Path:
    return write(tmp_path, f"hosts:\n  compute-7: {{transport: snapshot, path: {file_name}}}\n")


def test_a_real_sosreport_tarball_is_accepted(tmp_path: Path) -> None:
    tar_tree(SOSREPORT_TREE, tmp_path / "sosreport-c7.tar.xz")
    path = snapshot_inventory(tmp_path, "sosreport-c7.tar.xz")
    assert load_inventory(path).host("compute-7").path == str(tmp_path / "sosreport-c7.tar.xz")


NOT_COMPRESSED = "neither plain tar nor gzip, bzip2 or xz compressed"


def _truncated(tmp_path: Path) -> bytes:
    whole = tar_tree(SOSREPORT_TREE, tmp_path / "whole.tar.xz").read_bytes()
    return whole[:64]  # the xz header and a little: no member can be read


@pytest.mark.parametrize(
    ("file_name", "content", "cause"),
    [
        ("sosreport-c7.tar.xz", lambda _: b"this is not xz\n" * 10, NOT_COMPRESSED),
        ("sosreport-c7.tar.gz", lambda _: b"", NOT_COMPRESSED),
        ("sosreport-c7.tar.xz", _truncated, "not a readable tar archive: "),
        (
            "sosreport-c7.tar.xz.gpg",
            lambda _: b"\x85\x01\x0c\x03" + os.urandom(200),  # what gpg --encrypt writes: a binary packet
            "(an encrypted sosreport: decrypt it with gpg first)",
        ),
        ("sosreport-c7.tar.xz.md5", lambda _: b"d41d8cd98f00b204e9800998ecf8427e\n", "not a readable tar archive"),
    ],
    ids=["text", "empty", "truncated", "gpg", "checksum"],
)
def test_a_file_that_is_no_tarball_is_one_message_at_load(
    tmp_path: Path, file_name: str, content: object, cause: str
) -> None:
    tarball = tmp_path / file_name
    tarball.write_bytes(content(tmp_path))  # type: ignore[operator]
    path = snapshot_inventory(tmp_path, file_name)
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-7': key 'path': {tarball} is not a readable tar archive"), message
    assert cause in message
