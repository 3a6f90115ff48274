"""Telling an x86 /proc/cpuinfo apart: the sosreport's and this machine's, against other architectures' layouts."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from tests.unit.facts.corpus import DATA
from vrouter_preflight.facts.cpu_architecture import is_x86_cpuinfo

SOSREPORT_CPUINFO = DATA / "sosreport" / "sosreport-vm-debian12" / "proc" / "cpuinfo"

# The first processor as arm64 (arch/arm64/kernel/cpuinfo.c), 32-bit ARM (arch/arm/kernel/setup.c),
# POWER (arch/powerpc/kernel/setup-common.c) and s390 (arch/s390/kernel/processor.c) print it.
OTHER_ARCHITECTURES = {
    "arm64": "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n"
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n",
    "arm": "processor\t: 0\nmodel name\t: ARMv7 Processor rev 0 (v7l)\nBogoMIPS\t: 1332.00\n"
    "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpd32\nCPU implementer\t: 0x41\n"
    "CPU architecture: 7\n",
    "ppc64le": "processor\t: 0\ncpu\t\t: POWER9, altivec supported\nclock\t\t: 2300.000000MHz\n"
    "revision\t: 2.2 (pvr 004e 1202)\n",
    "s390x": "vendor_id       : IBM/S390\n# processors    : 4\nbogomips per cpu: 3033.00\n"
    "features\t: esan3 zarch stfle msa ldisp eimm dfp edat etf3eh highgprs te vx\n",
}


def test_the_sosreports_x86_cpuinfo_is_recognised() -> None:
    assert is_x86_cpuinfo(SOSREPORT_CPUINFO.read_text())


def test_this_machines_cpuinfo_says_what_uname_says() -> None:
    x86 = platform.machine() in ("x86_64", "i386", "i486", "i586", "i686")
    assert is_x86_cpuinfo(Path("/proc/cpuinfo").read_text()) == x86


@pytest.mark.parametrize("name", sorted(OTHER_ARCHITECTURES))
def test_other_architectures_are_not_x86(name: str) -> None:
    assert not is_x86_cpuinfo(OTHER_ARCHITECTURES[name])


def test_only_the_first_processor_counts_and_stray_lines_are_ignored() -> None:
    assert not is_x86_cpuinfo("processor : 0\nFeatures : fp\n\nvendor_id : x\ncpu family : 6\nflags : fpu\n")
    assert is_x86_cpuinfo("garbage without a colon\nvendor_id : x\ncpu family : 6\nflags : fpu\n")
    assert not is_x86_cpuinfo("")
