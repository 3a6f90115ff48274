"""/proc/cmdline on every captured file: tokenising, init args and hugepage requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.facts.corpus import corpus, ids, local_capture, read
from vrouter_preflight.facts.cmdline import HugepageRequest, KernelCmdline, parse_cmdline
from vrouter_preflight.facts.errors import FactParseError

FILES = corpus("cmdline")
G, M = 1048576, 1024

# file -> (number of parameters, default_hugepagesz in KiB, hugepage requests as (size, count, per_node))
EXPECTED: dict[str, tuple[int, int | None, tuple[tuple[int | None, int | None, dict[int, int] | None], ...]]] = {
    "arm32-android-mtk-3.4": (10, None, ()),
    "arm32-router-uboot-tail": (12, None, ()),
    "arm32-zynq-jffs2": (7, None, ()),
    "arm64-qemu-2node-per-node-4-sizes": (
        11,
        2 * M,
        ((G, 4, {0: 2, 1: 2}), (32 * M, 4, {0: 2, 1: 2}), (2 * M, 128, {0: 64, 1: 64}), (64, 4, {0: 2, 1: 2})),
    ),
    "aws-amazon-linux-label-root": (4, None, ()),
    "csit-ubuntu1604hwe-4.15-dnv-1g": (19, G, ((G, 8, None),)),
    "csit-ubuntu1804-4.15-taishan-arm64-odd-spaces": (14, None, ()),
    "csit-ubuntu2004-5.4-altra-arm64-mixed-hp": (16, 2 * M, ((2 * M, 32768, None), (G, 32, None))),
    "csit-ubuntu2404-6.8-grace-arm64-mixed-hp": (18, 2 * M, ((2 * M, 32768, None), (G, 32, None))),
    "debian11-5.10-lvm": (5, None, ()),
    "el9-5.14-crashkernel-ranges": (7, None, ()),
    "hwloc-arm64-5.15-iommu": (5, None, ()),
    "hwloc-arm64-6.17-gb10-ubuntu": (17, None, ()),
    "hwloc-debian12-6.1-lvm": (4, None, ()),
    "hwloc-el7-3.10-crashkernel-auto": (9, None, ()),
    "hwloc-ppc64le-el7a-lvm": (5, None, ()),
    "procfs-ubuntu-5.11-generic": (6, None, ()),
    "rhcos-4.18-el8-ostree": (9, None, ()),
    "ubuntu1204-3.2-generic": (6, None, ()),
    "ubuntu1404-3.13-generic": (6, None, ()),
}


def as_tuples(cmdline: KernelCmdline) -> tuple[tuple[int | None, int | None, dict[int, int] | None], ...]:
    return tuple(
        (request.size_kib, request.count, None if request.per_node is None else dict(request.per_node))
        for request in cmdline.hugepage_requests()
    )


def test_every_corpus_file_has_expected_values() -> None:
    assert sorted(EXPECTED) == [path.stem for path in FILES]


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_parses_corpus_file(path: Path) -> None:
    cmdline = parse_cmdline(path.read_text(), str(path))
    params, default_size, requests = EXPECTED[path.stem]
    assert len(cmdline.params) == params
    assert cmdline.init_args == ()
    assert cmdline.default_hugepagesz_kib() == default_size
    assert as_tuples(cmdline) == requests


def test_values_with_equals_commas_and_parentheses() -> None:
    aws = parse_cmdline(read("cmdline", "aws-amazon-linux-label-root"))
    assert aws.get("root") == "LABEL=/"
    el9 = parse_cmdline(read("cmdline", "el9-5.14-crashkernel-ranges"))
    assert el9.get("crashkernel") == "1G-4G:192M,4G-64G:256M,64G-:512M"
    assert el9.get("BOOT_IMAGE") == "(hd0,gpt1)/boot/vmlinuz-5.14.0-325.el9.x86_64"
    gb10 = parse_cmdline(read("cmdline", "hwloc-arm64-6.17-gb10-ubuntu"))
    assert gb10.get_all("console") == ("tty0", "tty0", "ttyS0,921600")
    assert gb10.get("console") == "ttyS0,921600"
    assert gb10.has("plymouth.use-simpledrm")
    assert gb10.get("plymouth.use-simpledrm") is None


def test_rhcos_ostree_has_no_hugepages() -> None:
    rhcos = parse_cmdline(read("cmdline", "rhcos-4.18-el8-ostree"))
    assert rhcos.hugepage_requests() == ()
    assert rhcos.default_hugepagesz_kib() is None
    assert (
        rhcos.get("ostree") == "/ostree/boot.1/rhcos/405a55e876e45e7c5a51e97c920a5e5e00294a6186e504ecf578605541d2dbc8/0"
    )
    assert rhcos.get("rootflags") == "defaults,prjquota"
    assert rhcos.has("rw")


def test_csit_odd_spaces_become_bare_parameters() -> None:
    cmdline = parse_cmdline(read("cmdline", "csit-ubuntu1804-4.15-taishan-arm64-odd-spaces"))
    assert cmdline.get("nohz_full") == "1-15"
    assert cmdline.get("rcu_nocbs") == "1-15"
    assert cmdline.get("isolcpus") == "1-15,17-31,33-47,49-63"
    assert cmdline.get_all("17-31,33-47,49-63") == (None, None)


def test_uboot_tail_words_are_bare_parameters() -> None:
    cmdline = parse_cmdline(read("cmdline", "arm32-router-uboot-tail"))
    assert cmdline.get("mem") == "128M;"
    assert [name for name, _ in cmdline.params[-7:]] == [
        "U-Boot",
        "V6.0.20P10N2",
        "20230310175405",
        "0x4200000",
        "0x1",
        "0x83",
        "0x8f",
    ]
    assert all(value is None for _, value in cmdline.params[-7:])


def test_xmrig_gb_suffix() -> None:
    cmdline = parse_cmdline(read("other", "xmrig-grub-args-1GB-suffix"))
    assert cmdline.hugepage_requests() == (HugepageRequest(G, 6), HugepageRequest(2 * M, 480))


def test_rpi4_dmesg_cmdline_intent() -> None:
    line = read("other", "rpi4-dmesg-unknown-hugepage-params").splitlines()[0]
    cmdline = parse_cmdline(line.split("Kernel command line: ", 1)[1], "dmesg")
    assert as_tuples(cmdline) == ((32 * M, 4, {0: 4}), (2 * M, 128, {0: 128}), (64, 4, {0: 4}))


def test_local_capture_init_args_after_double_dash() -> None:
    path = local_capture("cmdline")
    cmdline = parse_cmdline(path.read_text(), str(path))
    assert cmdline.get("rdinit") == "/process_api"
    assert cmdline.init_args[:3] == ("--firecracker-init", "--addr", "0.0.0.0:2024")
    assert cmdline.init_args[-1] == "--auth-required"
    assert len(cmdline.init_args) == 14
    assert not cmdline.has("--addr")
    assert cmdline.hugepage_requests() == ()


@pytest.mark.parametrize(
    ("text", "requests"),
    [
        ("hugepages=16", (HugepageRequest(None, 16),)),
        ("hugepages=16 hugepagesz=1G hugepages=2", (HugepageRequest(None, 16), HugepageRequest(G, 2))),
        ("hugepagesz=1G", (HugepageRequest(G, None),)),
        ("hugepagesz=1G hugepages=2 hugepages=5", (HugepageRequest(G, 2),)),
        ("default_hugepagesz=1G hugepagesz=1G hugepages=8", (HugepageRequest(G, 8),)),
        ("hugepagesz=2M hugepages=1 hugepagesz=2M hugepages=9", (HugepageRequest(2 * M, 1),)),
        ("hugepagesz=1073741824 hugepages=1", (HugepageRequest(G, 1),)),
    ],
)
def test_hugepage_pairing_follows_the_kernel(text: str, requests: tuple[HugepageRequest, ...]) -> None:
    assert parse_cmdline(text).hugepage_requests() == requests


def test_quoted_values_and_whole_quoted_parameters() -> None:
    cmdline = parse_cmdline('dyndbg="file x.c +p" "acpi_osi=Linux 2" quiet -- "init arg" x=1')
    assert cmdline.params == (("dyndbg", "file x.c +p"), ("acpi_osi", "Linux 2"), ("quiet", None))
    assert cmdline.init_args == ("init arg", "x=1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hugepagesz=3X hugepages=1", r"^/proc/cmdline line 1: hugepagesz= is not a size: '3X'$"),
        ("hugepagesz=1G hugepages=many", r"^/proc/cmdline line 1: hugepages= is not a number: 'many'$"),
        ("hugepagesz=1G hugepages=0:2,0:3", r"line 1: hugepages= names node 0 twice"),
        ("hugepagesz=1G hugepages=0:2,1:", r"line 1: hugepages= count is not a number: ''"),
        ("default_hugepagesz", r"line 1: default_hugepagesz= is not a size: None"),
    ],
)
def test_bad_hugepage_values_raise(text: str, message: str) -> None:
    cmdline = parse_cmdline(text)
    with pytest.raises(FactParseError, match=message):
        cmdline.hugepage_requests()


def test_bad_default_hugepagesz_raises() -> None:
    with pytest.raises(FactParseError, match=r"line 1: default_hugepagesz= is not a size: '1Q'"):
        parse_cmdline("default_hugepagesz=1Q").default_hugepagesz_kib()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('quiet dyndbg="file x.c', r"^/proc/cmdline line 1: unterminated double quote in 'dyndbg=\"file x.c'$"),
        ("quiet\nsplash\n", r"^/proc/cmdline line 2: the kernel command line is one line: 'splash'$"),
    ],
)
def test_bad_cmdline_raises(text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_cmdline(text)
