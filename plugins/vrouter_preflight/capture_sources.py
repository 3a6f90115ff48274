"""Which facts the suite reads from a host: files, globs and a few commands.

A :class:`FactSource` is an absolute path or glob (every match becomes its own
capture, keyed by its path) or, for live hosts only, a command whose output is
stored under the source's key. :data:`FACT_SOURCES` is the standard set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactSource:
    """One thing to read: an absolute path or glob, or a command.

    ``pattern`` may hold shell glob characters; every match becomes its own
    capture keyed by its path. ``command`` (for live hosts only) replaces
    reading the pattern: its output is stored under ``pattern``.

    >>> FactSource("/proc/buddyinfo").key
    '/proc/buddyinfo'
    """

    pattern: str
    command: str | None = None

    @property
    def key(self) -> str:
        """The capture key (the pattern itself)."""
        return self.pattern

    @property
    def is_glob(self) -> bool:
        """True when the pattern can expand to several paths.

        >>> FactSource("/sys/devices/system/node/node*/meminfo").is_glob
        True
        """
        return any(ch in self.pattern for ch in "*?[")


_HUGEPAGE_FILES = (
    "nr_hugepages",
    "nr_hugepages_mempolicy",
    "nr_overcommit_hugepages",
    "free_hugepages",
    "resv_hugepages",
    "surplus_hugepages",
)

PAGE_SIZE_KEY = "getconf:PAGESIZE"
CPUINFO_KEY = "/proc/cpuinfo"
HUGETLBFS_TABLES_KEY = "hugetlbfs:tables"
#: Where deployments keep the agent's config on the host: packages (R3/R4)
#: and RHOSP's puppet-generated tree. Containerised agents keep theirs inside
#: the container; the inventory's ``vrouter.hugepage_size`` covers those.
AGENT_CONF_PATHS = (
    "/etc/contrail/contrail-vrouter-agent.conf",
    "/var/lib/config-data/puppet-generated/contrail/etc/contrail/contrail-vrouter-agent.conf",
)

#: The DMI identity of the machine (``/sys/class/dmi/id``): absent on machines without DMI.
DMI_DIR = "/sys/class/dmi/id"
DMI_FIELDS = ("sys_vendor", "product_name", "bios_version", "bios_date")

# The command sources. On a live host the capture script serves these three
# with ONE awk (see capture_script); ``command`` says what each prints.
#: The first processor's block of /proc/cpuinfo: the flags are the same on
#: every CPU and a 256-CPU cpuinfo is hundreds of kilobytes.
CPUINFO_SOURCE = FactSource(CPUINFO_KEY, command="sed '/^$/q' /proc/cpuinfo")
#: The base page size.
PAGE_SIZE_SOURCE = FactSource(PAGE_SIZE_KEY, command="getconf PAGESIZE")
#: The agent's hugepage-backed table files, ``<bytes> <path>`` per line, on
#: every hugetlbfs mount (they survive agent restarts and are reused).
HUGETLBFS_TABLES_SOURCE = FactSource(
    HUGETLBFS_TABLES_KEY,
    command=(
        "awk '$3 == \"hugetlbfs\" {print $2}' /proc/mounts | while read -r m; do "
        'for f in "$m/flow" "$m/bridge"; do [ -f "$f" ] && stat -c \'%s %n\' -- "$f"; done; done; true'
    ),
)

FACT_SOURCES: tuple[FactSource, ...] = (
    FactSource("/proc/cmdline"),
    FactSource("/proc/meminfo"),
    FactSource("/proc/buddyinfo"),
    FactSource("/proc/zoneinfo"),
    FactSource("/proc/pagetypeinfo"),
    FactSource("/proc/mounts"),
    FactSource("/proc/sys/kernel/osrelease"),
    *(
        FactSource(f"/proc/sys/vm/{name}")
        for name in (
            "nr_hugepages",
            "nr_hugepages_mempolicy",
            "nr_overcommit_hugepages",
            "min_free_kbytes",
            "compaction_proactiveness",
            "lowmem_reserve_ratio",
        )
    ),
    *(FactSource(f"/sys/kernel/mm/hugepages/hugepages-*/{name}") for name in _HUGEPAGE_FILES),
    FactSource("/sys/devices/system/node/online"),
    FactSource("/sys/devices/system/node/node*/meminfo"),
    FactSource("/sys/devices/system/node/node*/cpulist"),
    *(
        FactSource(f"/sys/devices/system/node/node*/hugepages/hugepages-*/{name}")
        for name in ("nr_hugepages", "free_hugepages", "surplus_hugepages")
    ),
    FactSource("/sys/module/vrouter/version"),
    FactSource("/sys/module/vrouter/parameters/*"),
    FactSource("/etc/os-release"),
    # What hardware this is, for certificates; some kernels make these root-only.
    *(FactSource(f"{DMI_DIR}/{name}") for name in DMI_FIELDS),
    *(FactSource(path) for path in AGENT_CONF_PATHS),
    CPUINFO_SOURCE,
    PAGE_SIZE_SOURCE,
    HUGETLBFS_TABLES_SOURCE,
)
