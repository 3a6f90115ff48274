"""Typed facts of one host, parsed lazily from its raw captures.

Each property parses its file on first use and caches the result. A file
the host does not have gives ``None`` (absent is never zero); a file the
kernel formats in a way the parser does not accept raises
:class:`~vrouter_preflight.facts.errors.FactParseError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from vrouter_preflight.capture import (
    AGENT_CONF_PATHS,
    CPUINFO_KEY,
    DMI_DIR,
    DMI_FIELDS,
    HUGETLBFS_TABLES_KEY,
    PAGE_SIZE_KEY,
    Capture,
    status_words,
)
from vrouter_preflight.facts.agent_conf import AgentConf, parse_agent_conf
from vrouter_preflight.facts.buddyinfo import BuddyInfo, parse_buddyinfo
from vrouter_preflight.facts.cmdline import KernelCmdline, parse_cmdline
from vrouter_preflight.facts.cpu_architecture import is_x86_cpuinfo
from vrouter_preflight.facts.cpuinfo import parse_cpu_flags
from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.hugepages import HugepagePools, parse_hugepage_sysfs
from vrouter_preflight.facts.hugetlbfs_files import HugetlbfsFile, parse_hugetlbfs_files
from vrouter_preflight.facts.meminfo import MemInfo, NodeMemInfo, parse_meminfo, parse_node_meminfo
from vrouter_preflight.facts.mounts import HugetlbfsMount, Mount, hugetlbfs_mounts, parse_mounts
from vrouter_preflight.facts.os_release import OsRelease, parse_os_release
from vrouter_preflight.facts.pagetypeinfo import PageTypeInfo, parse_pagetypeinfo
from vrouter_preflight.facts.values import parse_id_list, parse_int_value, parse_int_vector
from vrouter_preflight.facts.zoneinfo import ZoneInfo, parse_zoneinfo

T = TypeVar("T")

_NODE_FILE = re.compile(r"^/sys/devices/system/node/node(\d+)/(meminfo|cpulist)$")
_VROUTER_PARAM = "/sys/module/vrouter/parameters/"
_VM_SYSCTLS = (
    "nr_hugepages",
    "nr_hugepages_mempolicy",
    "nr_overcommit_hugepages",
    "min_free_kbytes",
    "compaction_proactiveness",
)
# Base page size by the number of buddy orders, for snapshots that did not
# record `getconf PAGESIZE`: x86-64 and 4 KiB ARM have 11 orders, arm64 with
# 64 KiB pages 14.
_PAGE_SIZE_BY_ORDERS = {11: 4096, 14: 65536}


@dataclass(frozen=True)
class Unavailable:
    """A fact source that could not be used, and why, in the capture's words (:meth:`Capture.describe`).

    >>> Unavailable("/proc/pagetypeinfo", "unreadable", "permission-denied").describe()
    '/proc/pagetypeinfo: unreadable (permission-denied)'
    >>> Unavailable("/proc/buddyinfo", "not-regular", "fifo").describe()
    '/proc/buddyinfo: not a regular file (fifo)'
    """

    path: str
    status: str
    error: str = ""

    def describe(self) -> str:
        """One line for reports."""
        return f"{self.path}: {status_words(self.status, self.error)}"


class HostFacts:
    """The typed, lazily parsed view of one host's captures.

    >>> from vrouter_preflight.capture import Capture
    >>> facts = HostFacts("c0", {"/proc/sys/kernel/osrelease": Capture("/proc/sys/kernel/osrelease", "ok", "6.1.0\\n")})
    >>> facts.kernel_release
    '6.1.0'
    >>> facts.buddyinfo is None
    True
    """

    def __init__(self, host: str, captures: Mapping[str, Capture]) -> None:
        self.host = host
        self.captures = captures

    def text(self, path: str) -> str | None:
        """The text of ``path`` when it was read, else None."""
        capture = self.captures.get(path)
        return capture.text if capture is not None and capture.ok else None

    def _parsed(self, path: str, parse: Callable[[str, str], T]) -> T | None:
        text = self.text(path)
        return None if text is None else parse(text, path)

    def _texts_matching(self, prefix: str) -> dict[str, str]:
        return {path: c.text for path, c in self.captures.items() if path.startswith(prefix) and c.ok}

    @property
    def unavailable(self) -> tuple[Unavailable, ...]:
        """Every source that was absent or unreadable, in capture order."""
        return tuple(Unavailable(c.path, c.status, c.error) for c in self.captures.values() if not c.ok)

    def why_missing(self, path: str) -> str:
        """Why ``path`` gave no text, in the words the facts report uses (one wording for every check).

        >>> from vrouter_preflight.capture import Capture
        >>> fifo = Capture("/proc/buddyinfo", "not-regular", error="fifo")
        >>> HostFacts("c0", {fifo.path: fifo}).why_missing("/proc/buddyinfo")
        '/proc/buddyinfo: not a regular file (fifo)'
        >>> HostFacts("c0", {}).why_missing("/proc/zoneinfo")
        '/proc/zoneinfo: absent'
        """
        capture = self.captures.get(path)
        if capture is None:
            return Unavailable(path, "absent").describe()
        return Unavailable(capture.path, capture.status, capture.error).describe()

    @cached_property
    def kernel_release(self) -> str | None:
        """``uname -r``, from /proc/sys/kernel/osrelease."""
        text = self.text("/proc/sys/kernel/osrelease")
        return None if text is None else text.strip()

    @cached_property
    def cmdline(self) -> KernelCmdline | None:
        """The kernel command line."""
        return self._parsed("/proc/cmdline", parse_cmdline)

    @cached_property
    def meminfo(self) -> MemInfo | None:
        """/proc/meminfo."""
        return self._parsed("/proc/meminfo", parse_meminfo)

    @cached_property
    def buddyinfo(self) -> BuddyInfo | None:
        """/proc/buddyinfo: free blocks per order per node and zone."""
        return self._parsed("/proc/buddyinfo", parse_buddyinfo)

    @cached_property
    def zoneinfo(self) -> ZoneInfo | None:
        """/proc/zoneinfo: free pages, watermarks and protection per zone."""
        return self._parsed("/proc/zoneinfo", parse_zoneinfo)

    @cached_property
    def pagetypeinfo(self) -> PageTypeInfo | None:
        """/proc/pagetypeinfo (root-only since Linux 5.4; None when unreadable)."""
        return self._parsed("/proc/pagetypeinfo", parse_pagetypeinfo)

    @property
    def pagetypeinfo_if_parsed(self) -> PageTypeInfo | None:
        """:attr:`pagetypeinfo`, or ``None`` when it cannot be parsed either.

        For the reload replay, which then assumes no unmovable free blocks (the
        safe reading); the ``facts_parse`` check reports the parse error.

        >>> from vrouter_preflight.capture import Capture
        >>> broken = Capture("/proc/pagetypeinfo", "ok", text="Page block order: nine\\n")
        >>> HostFacts("c0", {broken.path: broken}).pagetypeinfo_if_parsed is None
        True
        """
        try:
            return self.pagetypeinfo
        except FactParseError:
            return None

    @cached_property
    def mounts(self) -> tuple[Mount, ...] | None:
        """/proc/mounts."""
        return self._parsed("/proc/mounts", parse_mounts)

    @cached_property
    def default_hugepage_kib(self) -> int | None:
        """The default hugepage size (meminfo ``Hugepagesize``); None without hugetlbfs."""
        meminfo = self.meminfo
        return None if meminfo is None else meminfo.kib("Hugepagesize")

    @cached_property
    def hugetlbfs_mounts(self) -> tuple[HugetlbfsMount, ...] | None:
        """hugetlbfs mounts with their page size; None when /proc/mounts is absent."""
        mounts = self.mounts
        if mounts is None:
            return None
        return hugetlbfs_mounts(mounts, self.default_hugepage_kib or 0)

    @cached_property
    def hugetlbfs_files(self) -> tuple[HugetlbfsFile, ...] | None:
        """The agent's ``flow``/``bridge`` files on hugetlbfs mounts; None when not listed (snapshots)."""
        return self._parsed(HUGETLBFS_TABLES_KEY, parse_hugetlbfs_files)

    @cached_property
    def agent_conf(self) -> AgentConf | None:
        """contrail-vrouter-agent.conf, from the first place deployments keep it on the host."""
        for path in AGENT_CONF_PATHS:
            parsed = self._parsed(path, parse_agent_conf)
            if parsed is not None:
                return parsed
        return None

    @cached_property
    def os_release(self) -> OsRelease | None:
        """/etc/os-release."""
        return self._parsed("/etc/os-release", parse_os_release)

    @cached_property
    def cpu_flags(self) -> frozenset[str] | None:
        """CPU flags of the first processor (``pdpe1gb`` means 1G pages)."""
        return self._parsed(CPUINFO_KEY, parse_cpu_flags)

    @cached_property
    def x86(self) -> bool:
        """True when the first processor of cpuinfo is an x86 one (its buddyinfo then has exactly 11 orders).

        >>> from vrouter_preflight.capture import Capture
        >>> text = "vendor_id : GenuineIntel\\ncpu family : 6\\nflags : fpu\\n"
        >>> HostFacts("c0", {CPUINFO_KEY: Capture(CPUINFO_KEY, "ok", text)}).x86, HostFacts("c1", {}).x86
        (True, False)
        """
        text = self.text(CPUINFO_KEY)
        return text is not None and is_x86_cpuinfo(text)

    @cached_property
    def cpu_model(self) -> str | None:
        """The first processor's ``model name`` (x86); None where cpuinfo has none (most ARM kernels)."""
        text = self.text(CPUINFO_KEY)
        for line in () if text is None else text.splitlines():
            key, colon, value = line.partition(":")
            if colon and key.strip() == "model name" and value.strip():
                return value.strip()
        return None

    @cached_property
    def dmi(self) -> dict[str, str | None]:
        """DMI identity (``sys_vendor``, ``product_name``, ``bios_version``, ``bios_date``); None where unreadable.

        >>> HostFacts("c0", {}).dmi["sys_vendor"] is None
        True
        """
        values: dict[str, str | None] = {}
        for name in DMI_FIELDS:
            text = self.text(f"{DMI_DIR}/{name}")
            values[name] = None if text is None or not text.strip() else text.strip()
        return values

    @cached_property
    def page_size(self) -> int | None:
        """Base page size in bytes: ``getconf PAGESIZE``, else inferred from buddyinfo."""
        measured = self._parsed(PAGE_SIZE_KEY, parse_int_value)
        if measured is not None:
            return measured
        buddy = self.buddyinfo
        return None if buddy is None else _PAGE_SIZE_BY_ORDERS.get(buddy.orders)

    @cached_property
    def page_size_inferred(self) -> bool:
        """True when :attr:`page_size` was inferred rather than measured."""
        return self.text(PAGE_SIZE_KEY) is None and self.page_size is not None

    @cached_property
    def vm_sysctls(self) -> dict[str, int | None]:
        """The ``vm.*`` values the suite reads; None where the kernel lacks one."""
        return {name: self._parsed(f"/proc/sys/vm/{name}", parse_int_value) for name in _VM_SYSCTLS}

    @cached_property
    def lowmem_reserve_ratio(self) -> tuple[int, ...] | None:
        """``vm.lowmem_reserve_ratio``, one ratio per zone."""
        return self._parsed("/proc/sys/vm/lowmem_reserve_ratio", parse_int_vector)

    @cached_property
    def hugepages(self) -> HugepagePools:
        """Hugepage pools per size, global and per NUMA node."""
        files = self._texts_matching("/sys/kernel/mm/hugepages/")
        files.update(
            (path, text)
            for path, text in self._texts_matching("/sys/devices/system/node/").items()
            if "/hugepages/" in path
        )
        return parse_hugepage_sysfs(files)

    @cached_property
    def node_meminfo(self) -> dict[int, NodeMemInfo]:
        """Per-NUMA-node meminfo, keyed by node id."""
        return {
            int(match.group(1)): parse_node_meminfo(text, path)
            for path, text in self._texts_matching("/sys/devices/system/node/node").items()
            if (match := _NODE_FILE.match(path)) and match.group(2) == "meminfo"
        }

    @cached_property
    def node_cpus(self) -> dict[int, tuple[int, ...]]:
        """CPUs of each NUMA node, keyed by node id."""
        return {
            int(match.group(1)): parse_id_list(text, path)
            for path, text in self._texts_matching("/sys/devices/system/node/node").items()
            if (match := _NODE_FILE.match(path)) and match.group(2) == "cpulist"
        }

    @cached_property
    def numa_nodes(self) -> tuple[int, ...]:
        """Online NUMA node ids (from sysfs, else from buddyinfo)."""
        online = self._parsed("/sys/devices/system/node/online", parse_id_list)
        if online is not None:
            return online
        if self.node_meminfo:
            return tuple(sorted(self.node_meminfo))
        buddy = self.buddyinfo
        return () if buddy is None else buddy.nodes

    @cached_property
    def vrouter_version(self) -> str | None:
        """``/sys/module/vrouter/version``; None when the module is not loaded."""
        text = self.text("/sys/module/vrouter/version")
        return None if text is None else text.strip()

    @cached_property
    def vrouter_parameters(self) -> dict[str, str]:
        """The vrouter module's parameters as strings (empty when not loaded)."""
        return {
            path[len(_VROUTER_PARAM) :]: text.strip() for path, text in self._texts_matching(_VROUTER_PARAM).items()
        }

    def parse_errors(self) -> list[FactParseError]:
        """Parse every fact and return the errors (empty when all parse).

        >>> HostFacts("c0", {}).parse_errors()
        []
        """
        errors: list[FactParseError] = []
        for name in _PARSED_FACTS:
            try:
                getattr(self, name)
            except FactParseError as exc:
                errors.append(exc)
        return errors


_PARSED_FACTS = (
    "kernel_release",
    "cmdline",
    "meminfo",
    "buddyinfo",
    "zoneinfo",
    "pagetypeinfo",
    "mounts",
    "default_hugepage_kib",
    "hugetlbfs_mounts",
    "hugetlbfs_files",
    "agent_conf",
    "os_release",
    "cpu_flags",
    "page_size",
    "vm_sysctls",
    "lowmem_reserve_ratio",
    "hugepages",
    "node_meminfo",
    "node_cpus",
    "numa_nodes",
    "vrouter_version",
    "vrouter_parameters",
)
