"""The new capture gives exactly what the old one gave (issue 15, item 3).

The old script (``tests/capture_v1.py``, a ``cat`` per file) and the new one
run side by side under dash, ``bash --posix`` and busybox, on this machine
(live and frozen into a tree) and on trees built from every corpus file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from glob import glob
from pathlib import Path

import pytest

from tests.capture_shells import SHELLS, rooted, run_capture, shell_command
from tests.capture_v1 import build_v1_script, parse_v1_stream, v1_sources
from tests.snapshot_trees import build_tree, hugepage_files, write_files
from tests.unit.facts.corpus import CORPUS
from vrouter_preflight.capture import (
    FACT_SOURCES,
    HUGETLBFS_TABLES_KEY,
    PAGE_SIZE_KEY,
    Capture,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)

# Files the kernel rewrites between two reads: compared on their layout only.
VOLATILE = re.compile(r"^/proc/(meminfo|buddyinfo|zoneinfo|pagetypeinfo|cpuinfo)$|/node\d+/meminfo$")


@pytest.fixture(params=SHELLS)
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def old_capture(shell: str, sources: Sequence[FactSource]) -> dict[str, Capture]:
    boundary = new_boundary()
    argv, env = shell_command(shell, build_v1_script(v1_sources(sources), boundary))
    done = subprocess.run(argv, env=env, capture_output=True, check=False, timeout=60)
    return parse_v1_stream(done.stdout.decode("utf-8", "replace"), boundary)


def layout(capture: Capture) -> tuple[str, str]:
    return capture.status, re.sub(r"[\d .]+", "#", capture.text)


def expected_difference(shell: str, old: dict[str, Capture], new: dict[str, Capture]) -> None:
    """Busybox has no getconf: the old script could not tell the page size there, the new one can."""
    if shell == "busybox":
        assert old.pop(PAGE_SIZE_KEY) == Capture(PAGE_SIZE_KEY, "unreadable", error="command-failed")
        assert new.pop(PAGE_SIZE_KEY) == Capture(PAGE_SIZE_KEY, "ok", f"{os.sysconf('SC_PAGE_SIZE')}\n")


def test_this_machine_live(shell: str) -> None:
    new, _ = run_capture(shell, FACT_SOURCES)
    old = old_capture(shell, FACT_SOURCES)
    expected_difference(shell, old, new)
    assert list(new) == list(old)
    for path, capture in new.items():
        if VOLATILE.search(path):
            assert layout(capture) == layout(old[path]), path
        else:
            assert capture == old[path], path


@pytest.fixture(scope="module")
def frozen_machine(tmp_path_factory: pytest.TempPathFactory) -> str:
    """This machine's fact files copied once into a tree: both scripts then read the same bytes."""
    root = tmp_path_factory.mktemp("this-machine")
    files = {}
    for source in FACT_SOURCES:
        if source.command is None:
            for path in glob(source.pattern) if source.is_glob else [source.pattern]:
                if os.path.isfile(path):
                    files[path] = Path(path).read_bytes()
    write_files(root, files)
    return str(root)


def test_this_machine_frozen_byte_for_byte(shell: str, frozen_machine: str) -> None:
    sources = [source for source in rooted(FACT_SOURCES, frozen_machine) if source.command is None]
    new, _ = run_capture(shell, sources)
    assert new == old_capture(shell, sources)
    assert new[frozen_machine + "/proc/zoneinfo"].text == Path(frozen_machine, "proc/zoneinfo").read_text()


@pytest.fixture(scope="module")
def corpus_tree(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Every corpus file, byte for byte, under ``<root>/<kind>/``."""
    root = tmp_path_factory.mktemp("corpus")
    for kind in sorted(p.name for p in CORPUS.iterdir() if p.is_dir()):
        shutil.copytree(CORPUS / kind, root / kind)
    return str(root)


def test_every_corpus_file_byte_for_byte(shell: str, corpus_tree: str) -> None:
    sources = [FactSource(corpus_tree + "/*/*.txt")]
    new, _ = run_capture(shell, sources)
    assert new == old_capture(shell, sources)
    files = sorted(glob(corpus_tree + "/*/*.txt"))
    assert len(files) == len(new) > 80
    for path in files:
        assert new[path] == Capture(path, "ok", Path(path).read_bytes().decode("utf-8", "replace")), path


@pytest.fixture(scope="module")
def corpus_hosts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Trees laid out like ``/`` from the corpus: sparse nodes, 4 hugepage sizes, old kernels."""
    roots = []
    for sample in sorted(p.name for p in (CORPUS / "node-hugepages").glob("*.txt")):
        root = tmp_path_factory.mktemp("host")
        write_files(root, hugepage_files(sample))
        roots.append(str(root))
    root = tmp_path_factory.mktemp("host")
    build_tree(
        root,
        buddyinfo="lkml-fb-4.0-2node-fragmented.txt",
        pagetypeinfo="lkml-fb-4.0-2node-fragmented.txt",
        meminfo="hwloc-el7-3.10-2node-hp4096.txt",
        cmdline="hwloc-el7-3.10-crashkernel-auto.txt",
        node_meminfo={0: "hwloc-el7-3.10-node0-hp2048.txt", 1: "hwloc-el7-3.10-node1-hp2048.txt"},
    )
    roots.append(str(root))
    return roots


def test_corpus_hosts_through_the_real_globs(shell: str, corpus_hosts: list[str]) -> None:
    for root in corpus_hosts:
        sources = [source for source in rooted(FACT_SOURCES, root) if source.command is None]
        new, _ = run_capture(shell, sources)
        assert new == old_capture(shell, sources), root
        assert sum(capture.ok for capture in new.values()) >= 4, root


@pytest.fixture
def hugetlbfs_mounts(tmp_path: Path) -> list[str]:
    """Two hugetlbfs mount points (one with a space in its name) and a tmpfs, for a private mount namespace."""
    names = [str(tmp_path / "huge"), str(tmp_path / "huge two"), str(tmp_path / "not-huge")]
    for name in names:
        os.mkdir(name)
    return names


def in_private_mounts(mounts: list[str], shell: str, script: str) -> bytes:
    """Run ``script`` in a mount namespace of its own holding ``mounts``; the host's mounts are untouched."""
    huge, spaced, plain = mounts
    setup = (
        f"mount -t hugetlbfs none '{huge}' && mount -t hugetlbfs none '{spaced}' && mount -t tmpfs none '{plain}' && "
        f"touch '{huge}/flow' '{huge}/bridge' '{spaced}/flow' '{plain}/flow' && exec \"$@\""
    )
    argv, env = shell_command(shell, script)
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux unshare is needed (Debian: util-linux)"
    command = [unshare, "--mount", "--propagation", "private", "/bin/sh", "-c", setup, "sh", *argv]
    return subprocess.run(command, env=env, capture_output=True, check=True, timeout=60).stdout


def test_hugetlbfs_table_files_as_the_old_pipeline_listed_them(shell: str, hugetlbfs_mounts: list[str]) -> None:
    sources = [source for source in FACT_SOURCES if source.key == HUGETLBFS_TABLES_KEY]
    boundary = new_boundary()
    new = read_capture_answer(
        in_private_mounts(hugetlbfs_mounts, shell, build_capture_script(sources, boundary)).decode(), boundary
    )
    old = parse_v1_stream(
        in_private_mounts(hugetlbfs_mounts, shell, build_v1_script(v1_sources(sources), boundary)).decode(), boundary
    )
    huge = hugetlbfs_mounts[0]
    assert new == old
    assert new[HUGETLBFS_TABLES_KEY].text == f"0 {huge}/flow\n0 {huge}/bridge\n"
