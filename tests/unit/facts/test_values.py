"""One-value files, integer vectors and kernel id lists."""

from __future__ import annotations

import pytest

from tests.unit.facts.corpus import read
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.values import parse_id_list, parse_int_value, parse_int_vector


def test_nr_hugepages_fixture_is_zero() -> None:
    assert parse_int_value(read("other", "procfs-fixture-nr_hugepages"), "/proc/sys/vm/nr_hugepages") == 0


def test_int_value_accepts_sign_and_no_newline() -> None:
    assert parse_int_value("-1", "/proc/sys/kernel/perf_event_paranoid") == -1
    assert parse_int_value("4096\n", "/proc/sys/vm/nr_hugepages") == 4096


@pytest.mark.parametrize("text", ["", "\n", "abc\n", "1 2\n", "1\n2\n", "0x10\n"])
def test_int_value_rejects_anything_else(text: str) -> None:
    with pytest.raises(FactParseError, match=r"^/proc/sys/vm/nr_hugepages line [12]: "):
        parse_int_value(text, "/proc/sys/vm/nr_hugepages")


def test_int_vector_reads_lowmem_reserve_ratio() -> None:
    assert parse_int_vector("256\t256\t32\t0\t0\n", "/proc/sys/vm/lowmem_reserve_ratio") == (256, 256, 32, 0, 0)


@pytest.mark.parametrize("text", ["", "256 x 32\n", "1\n2\n"])
def test_int_vector_rejects_bad_text(text: str) -> None:
    with pytest.raises(FactParseError, match="lowmem_reserve_ratio line"):
        parse_int_vector(text, "/proc/sys/vm/lowmem_reserve_ratio")


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0-3,8,10-11\n", (0, 1, 2, 3, 8, 10, 11)),
        ("0\n", (0,)),
        ("0-1,8,250-255\n", (0, 1, 8, 250, 251, 252, 253, 254, 255)),
        ("", ()),
        ("\n", ()),
    ],
)
def test_id_list(text: str, ids: tuple[int, ...]) -> None:
    assert parse_id_list(text, "/sys/devices/system/node/online") == ids


@pytest.mark.parametrize("text", ["3-1\n", "0-\n", "a\n", "0,,1\n", "0 1\n", "0-3:2\n"])
def test_id_list_rejects_malformed(text: str) -> None:
    with pytest.raises(FactParseError, match=r"^/sys/devices/system/node/online line 1: "):
        parse_id_list(text, "/sys/devices/system/node/online")
