"""CPU flags from /proc/cpuinfo, x86 and arm layouts (no capture in the corpus)."""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.cpuinfo import parse_cpu_flags
from vrouter_preflight.facts.errors import FactParseError

X86 = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz
flags\t\t: fpu vme de pse tsc msr pae mce pdpe1gb rdtscp lm
bugs\t\t: spectre_v1

processor\t: 1
flags\t\t: fpu only-on-second-cpu
"""

ARM = """\
processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
"""


def test_x86_first_flags_line() -> None:
    flags = parse_cpu_flags(X86)
    assert "pdpe1gb" in flags
    assert "only-on-second-cpu" not in flags
    assert len(flags) == 11


def test_arm_features() -> None:
    assert parse_cpu_flags(ARM) == {"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "cpuid"}


def test_no_flags_line_gives_empty_set() -> None:
    assert parse_cpu_flags("processor\t: 0\nmodel\t: 2964\n") == frozenset()


def test_line_without_colon_raises() -> None:
    with pytest.raises(FactParseError, match=r"^/proc/cpuinfo line 2: expected 'key : value': 'garbage'$"):
        parse_cpu_flags("processor\t: 0\ngarbage\n")
