"""Raw fact capture: which files the suite reads and how one command reads them all.

A live host (local or SSH) runs ONE shell script that prints every file
between boundary lines; :func:`parse_capture_stream` splits that output back
into :class:`Capture` records. A snapshot reads the same paths from a tree.
A file that does not exist is recorded as ``absent``, never as empty or zero.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vrouter_preflight.shell import quote

CaptureStatus = Literal["ok", "absent", "unreadable"]


@dataclass(frozen=True)
class FactSource:
    """One thing to read: an absolute path or glob, or a command.

    ``pattern`` may hold shell glob characters; every match becomes its own
    capture keyed by its path. ``command`` (for live hosts only) replaces a
    plain ``cat`` of the pattern: its output is stored under ``pattern``.

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
        """True when the pattern can expand to several paths."""
        return any(ch in self.pattern for ch in "*?[")


@dataclass(frozen=True)
class Capture:
    """What one source gave: its text, or why there is none.

    >>> Capture("/proc/pagetypeinfo", "unreadable", error="permission denied").ok
    False
    """

    path: str
    status: CaptureStatus
    text: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the text was read."""
        return self.status == "ok"


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
    # Only the first processor's block: the flags are the same on every CPU
    # and a 256-CPU cpuinfo is hundreds of kilobytes.
    FactSource(CPUINFO_KEY, command="sed '/^$/q' /proc/cpuinfo"),
    FactSource(PAGE_SIZE_KEY, command="getconf PAGESIZE"),
    *(FactSource(path) for path in AGENT_CONF_PATHS),
    # The agent's hugepage-backed table files, "<bytes> <path>" per line, on
    # every hugetlbfs mount (they survive agent restarts and are reused).
    FactSource(
        HUGETLBFS_TABLES_KEY,
        command=(
            "awk '$3 == \"hugetlbfs\" {print $2}' /proc/mounts | while read -r m; do "
            'for f in "$m/flow" "$m/bridge"; do [ -f "$f" ] && printf \'%s %s\\n\' "$(stat -c %s "$f")" "$f"; done; '
            "done; true"
        ),
    ),
)


def new_boundary() -> str:
    """A fresh random boundary marker for one capture run.

    >>> len(new_boundary())
    32
    """
    return "@@VRPF" + secrets.token_hex(13)


def build_capture_script(sources: Sequence[FactSource], boundary: str) -> str:
    """The POSIX sh script that prints every source between boundary lines.

    Per file it prints ``B F path``, the content, then a newline and
    ``B E rc reason``; a missing file (or a glob with no match) prints
    ``B A path``.

    >>> script = build_capture_script([FactSource("/proc/version")], "@@X")
    >>> "emit /proc/version" in script
    True
    """
    b = quote(boundary)
    lines = [
        f"B={b}",
        "emit() {",
        '  if [ -e "$1" ]; then',
        '    printf \'%s F %s\\n\' "$B" "$1"',
        '    cat -- "$1" 2>/dev/null; r=$?',
        '    if [ "$r" -eq 0 ]; then why=; elif [ -r "$1" ]; then why=read-error; else why=permission-denied; fi',
        '    printf \'\\n%s E %s %s\\n\' "$B" "$r" "$why"',
        "  else",
        '    printf \'%s A %s\\n\' "$B" "$1"',
        "  fi",
        "}",
    ]
    for source in sources:
        if source.command is not None:
            lines.append(f"printf '%s F %s\\n' \"$B\" {quote(source.pattern)}")
            lines.append(f"{{ {source.command}; }} 2>/dev/null; r=$?")
            lines.append('printf \'\\n%s E %s %s\\n\' "$B" "$r" command-failed')
        elif source.is_glob:
            # Unquoted on purpose so the shell expands the glob; patterns are
            # constants of this module, never inventory values.
            lines.append(f'for f in {source.pattern}; do emit "$f"; done')
        else:
            lines.append(f"emit {quote(source.pattern)}")
    return "\n".join(lines) + "\n"


def parse_capture_stream(stdout: str, boundary: str) -> dict[str, Capture]:
    """Split the capture script's output back into one Capture per path.

    >>> out = "@@X F /a\\nhello\\n\\n@@X E 0 \\n@@X A /b\\n"
    >>> caps = parse_capture_stream(out, "@@X")
    >>> caps["/a"].text, caps["/b"].status
    ('hello\\n', 'absent')
    """
    captures: dict[str, Capture] = {}
    header = boundary + " "
    current: str | None = None
    start = 0
    pos = 0
    text = stdout
    while pos < len(text):
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        line = text[pos:end]
        next_pos = end + 1
        if line.startswith(header):
            kind, _, rest = line[len(header) :].partition(" ")
            if kind == "A":
                captures[rest] = Capture(rest, "absent")
            elif kind == "F":
                current, start = rest, next_pos
            elif kind == "E" and current is not None:
                body = text[start : max(start, pos - 1)]
                rc, _, why = rest.partition(" ")
                if rc == "0":
                    captures[current] = Capture(current, "ok", text=body)
                else:
                    captures[current] = Capture(current, "unreadable", error=why.strip() or f"exit status {rc}")
                current = None
        pos = next_pos
    return captures
