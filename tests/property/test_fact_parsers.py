"""Every fact parser, on mutated real captures and on any text: a result, or FactParseError naming the file.

Never another exception: an ``IndexError``, ``OverflowError`` or ``RecursionError`` out of a parser would
reach an operator as a traceback, or as "unexpected …", instead of one message naming the host's file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error, touch
from tests.property.strategies import DATA, corpus_texts, random_text, texts_like
from tests.unit.facts.test_agent_conf import R41_NONE, R2005_2M, R2011_1G
from vrouter_preflight.facts.agent_conf import parse_agent_conf
from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
from vrouter_preflight.facts.cmdline import parse_cmdline
from vrouter_preflight.facts.cpu_architecture import is_x86_cpuinfo
from vrouter_preflight.facts.cpuinfo import parse_cpu_flags
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.hugepages import parse_hugepage_sysfs
from vrouter_preflight.facts.hugetlbfs_files import parse_hugetlbfs_files
from vrouter_preflight.facts.lines import parse_count, parse_counts
from vrouter_preflight.facts.meminfo import parse_meminfo, parse_node_meminfo
from vrouter_preflight.facts.mounts import hugetlbfs_mounts, parse_mounts
from vrouter_preflight.facts.os_release import parse_os_release
from vrouter_preflight.facts.pagetypeinfo import parse_pagetypeinfo
from vrouter_preflight.facts.sizes import parse_size_kib
from vrouter_preflight.facts.values import parse_count_value, parse_id_list, parse_int_value, parse_int_vector
from vrouter_preflight.facts.zoneinfo import parse_zoneinfo

SOSREPORT = DATA / "sosreport" / "sosreport-vm-debian12"
SOURCE = "/snapshots/compute-7/proc/the-file"


def _sos(path: str) -> str:
    return (SOSREPORT / path).read_text()


def _mounts(text: str, source: str) -> object:
    return hugetlbfs_mounts(parse_mounts(text, source), 2048, source)


def _cmdline(text: str, source: str) -> object:
    cmdline = parse_cmdline(text, source)
    return cmdline, cmdline.hugepage_requests(), cmdline.default_hugepagesz_kib()


def _agent_conf(text: str, source: str) -> object:
    conf = parse_agent_conf(text, source)
    return conf, conf.hugepage_files(), conf.configured_hugepage_size_kib()


@dataclass(frozen=True)
class FactParser:
    """One parser under test: how to call it on ``(text, source)``, the real texts it reads, and the inputs
    that once raised something else (each pinned as an ``@example``)."""

    name: str
    parse: Callable[[str, str], object]
    seeds: tuple[str, ...] = field(repr=False)
    regressions: tuple[str, ...] = ()


HUGE = "9" * 5000
VALUE_SEEDS = ("0\n", "8\n", "-1\n", "1 2 3\n", "0-3,8-11\n", "2048kB\n", "\n", "  4  \n")
PARSERS = (
    FactParser(
        "buddyinfo",
        parse_buddyinfo,
        tuple(corpus_texts("buddyinfo")),
        # Both were ValueError (Python's 4,300-digit limit): a count and a node number of 5,000 digits.
        # A row of 400,000 columns: free_pages cost seconds (n**2 bits); at most 64 order columns now.
        (f"Node 0, zone Normal 1 {HUGE}\n", f"Node {HUGE}, zone Normal 1 2\n", "Node 0, zone Normal" + " 7" * 400_000),
    ),
    FactParser("zoneinfo", parse_zoneinfo, tuple(corpus_texts("zoneinfo")), (f"Node {HUGE}, zone DMA\n",)),
    FactParser(
        "pagetypeinfo",
        parse_pagetypeinfo,
        tuple(corpus_texts("pagetypeinfo")),
        # 2**order was computed to compare it with 'Pages per block': MemoryError for an order of 2**64,
        # 8 s for 41211914353 (found by the long profile).
        (
            f"Page block order: {HUGE}\n",
            "Page block order: 18446744073709551616\nPages per block:  1024\n",
            "Page block order: 41211914353\nPages per block:  1024\n",
        ),
    ),
    FactParser(
        "meminfo",
        parse_meminfo,
        tuple(corpus_texts("meminfo")),
        (f"MemTotal: {HUGE} kB\n", f"MemTotal: 1 kB{HUGE}\n"),  # the unit was quoted whole (found by the long profile)
    ),
    FactParser(
        "node-meminfo", parse_node_meminfo, tuple(corpus_texts("node-meminfo")), (f"Node {HUGE} MemTotal: 1 kB\n",)
    ),
    FactParser("cmdline", _cmdline, tuple(corpus_texts("cmdline")), (f"hugepagesz=1G hugepages={HUGE}\n",)),
    FactParser("agent-conf", _agent_conf, (R2011_1G, R2005_2M, R41_NONE)),
    FactParser("cpuinfo", parse_cpu_flags, (_sos("proc/cpuinfo"),)),
    FactParser("mounts", _mounts, (_sos("proc/23476/mounts"),)),
    FactParser("os-release", parse_os_release, (_sos("usr/lib/os-release"),)),
    FactParser(
        "hugetlbfs-files",
        parse_hugetlbfs_files,
        ("1073741824 /dev/hugepages1G/flow\n1073741824 /dev/hugepages1G/bridge\n", "4194304 /mnt/huge pages/flow"),
        (f"{HUGE} /dev/hugepages1G/flow\n",),
    ),
    FactParser("int-value", parse_int_value, VALUE_SEEDS, (f"{HUGE}\n", f"-{HUGE}\n")),
    FactParser("count-value", parse_count_value, VALUE_SEEDS, (f"{HUGE}\n",)),
    FactParser("int-vector", parse_int_vector, ("256\t256\t32\t0\t0\n", *VALUE_SEEDS), (f"1 {HUGE}\n",)),
    FactParser(
        "id-list",
        parse_id_list,
        (_sos("sys/devices/system/node/node0/cpulist"), *VALUE_SEEDS),
        # A range of 10**14 ids was expanded into a set until memory ran out.
        ("0-99999999999999\n", f"0-{HUGE}\n"),
    ),
)
_NOT_WHOLE_FILES = ("int-value", "count-value", "int-vector", "id-list")


def check_parses_or_names_the_file(parser: FactParser, text: str) -> None:
    """The property: a result everything can be read from, or FactParseError naming ``SOURCE``."""
    result, error = result_or_own_error(lambda: parser.parse(text, SOURCE), FactParseError)
    if error is None:
        touch(result)
    else:
        assert str(error).startswith(SOURCE), f"{parser.name}: the message does not name the file: {error}"
        assert len(str(error)) < 1000, f"{parser.name}: a message of {len(str(error))} characters"


def _property_test(parser: FactParser) -> Callable[..., None]:
    @given(text=texts_like(parser.seeds))
    def test(text: str) -> None:
        check_parses_or_names_the_file(parser, text)

    for regression in parser.regressions:
        test = example(text=regression)(test)
    test.__name__ = test.__qualname__ = f"test_{parser.name.replace('-', '_')}_parses_or_raises_fact_parse_error"
    test.__doc__ = f"{parser.name}: a result, or FactParseError naming the file."
    return test


for _parser in PARSERS:
    _test = _property_test(_parser)
    globals()[_test.__name__] = _test


@pytest.mark.parametrize("parser", PARSERS, ids=lambda parser: parser.name)
def test_every_seed_parses(parser: FactParser) -> None:
    """The seeds are files the parser reads: the mutations start from something valid."""
    for seed in parser.seeds:
        if parser.name not in _NOT_WHOLE_FILES:
            touch(parser.parse(seed, SOURCE))


def _sysfs_files() -> dict[str, str]:
    root = SOSREPORT
    return {
        "/" + str(path.relative_to(root)): path.read_text()
        for path in sorted(root.glob("sys/**/hugepages/hugepages-*/*"))
        if path.name in ("nr_hugepages", "free_hugepages", "surplus_hugepages", "resv_hugepages")
    }


@given(
    files=st.dictionaries(
        st.sampled_from(sorted(_sysfs_files()))
        | st.from_regex(r"/sys/devices/system/node/node[0-9]{1,30}/hugepages/hugepages-[0-9a-z]{0,12}/[a-z_]{1,20}"),
        texts_like(tuple(_sysfs_files().values())),
        max_size=6,
    )
)
@example(files={f"/sys/devices/system/node/node{HUGE}/hugepages/hugepages-2048kB/nr_hugepages": "1\n"})
def test_hugepage_sysfs_parses_or_names_the_file(files: dict[str, str]) -> None:
    """The pool files by path: pools, or FactParseError naming one of the paths."""
    result, error = result_or_own_error(lambda: parse_hugepage_sysfs(files), FactParseError)
    touch(result)
    assert error is None or any(str(error).startswith(path) for path in files), str(error)


@given(text=texts_like(corpus_texts("other")) | random_text())
def test_x86_detection_never_raises(text: str) -> None:
    assert is_x86_cpuinfo(text) in (True, False)


@given(text=st.one_of(random_text(40), st.from_regex(r"\s*(0x|0)?[0-9a-fA-F]{0,30}[kKmMgGtTpPeE]?[bB]?\s*")))
@example(text="9" * 5000)
@example(text="0x" + "f" * 5000 + "E")
def test_sizes_parse_or_raise_value_error(text: str) -> None:
    """A size from a command line or a sysfs name: KiB, or the ValueError its callers turn into their message."""
    try:
        kib = parse_size_kib(text)
    except ValueError:
        return
    assert kib >= 0


@given(tokens=st.lists(st.one_of(st.from_regex(r"[0-9]{1,24}", fullmatch=True), random_text(6)), max_size=12))
def test_a_row_of_counts_reads_as_its_counts_one_by_one(tokens: list[str]) -> None:
    """parse_counts reads a well-formed row at once: the same counts, or the same error, as column by column."""
    tokens = [token for token in tokens if token and not any(ch.isspace() for ch in token)]  # as str.split() gives
    try:
        one_by_one: object = tuple(
            parse_count(token, SOURCE, 1, "row", f"column {column}") for column, token in enumerate(tokens, start=1)
        )
    except FactParseError as error:
        one_by_one = error.reason
    try:
        at_once: object = parse_counts(tokens, SOURCE, 1, "row")
    except FactParseError as error:
        at_once = error.reason
    assert at_once == one_by_one
