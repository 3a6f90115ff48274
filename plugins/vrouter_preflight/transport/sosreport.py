"""What a sosreport holds of the facts the suite reads, and where else it keeps what it did not copy.

sos (``sos report``; ``sosreport`` before 4.0) copies files under their live
paths and stores command output in ``sos_commands/<plugin>/``. It does not
copy ``/proc/sys``: the ``vm.*`` and ``kernel.*`` values are in
``sos_commands/kernel/sysctl_-a`` and the release also in
``sos_commands/kernel/uname_-a``. Which plugin copies which fact file is in
:data:`COPIED_BY`; the plugins that ran are listed in ``version.txt``. A fact
the sosreport does not hold is ``absent`` with the reason
:data:`NOT_IN_SOSREPORT` (and the plugin that would have copied it), so it is
never taken for a file the host lacks.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from vrouter_preflight.capture import PAGE_SIZE_KEY, Capture

NOT_IN_SOSREPORT = "not in this sosreport"

SYSCTL_FILE = "/sos_commands/kernel/sysctl_-a"
UNAME_FILE = "/sos_commands/kernel/uname_-a"
VERSION_FILE = "/version.txt"
COMMANDS_DIR = "/sos_commands"

_PROC_SYS = "/proc/sys/"
_OSRELEASE = "/proc/sys/kernel/osrelease"

#: Fact path prefix -> the sos plugin that copies it. A fact matching none
#: (``/sys/devices/system/node/online``, the agent config under
#: ``/var/lib/config-data``) is never in a sosreport.
COPIED_BY: tuple[tuple[str, str], ...] = (
    ("/proc/cmdline", "kernel"),
    ("/proc/buddyinfo", "kernel"),
    ("/proc/zoneinfo", "kernel"),
    ("/sys/module/", "kernel"),
    ("/proc/meminfo", "memory"),
    ("/proc/pagetypeinfo", "memory"),
    ("/sys/kernel/mm/hugepages/", "memory"),
    ("/sys/devices/system/node/node", "numa"),
    ("/proc/mounts", "filesys"),
    ("/proc/cpuinfo", "processor"),
    ("/etc/os-release", "release"),
    ("/sys/class/dmi/id/", "hardware"),
    ("/etc/contrail/", "opencontrail"),
)

#: Why a plugin may not have run, for the plugins whose absence is common.
_PLUGIN_NEEDS = {"numa": "it runs only where numactl or numad is installed"}

_SYSCTL_LINE = re.compile(r"^([A-Za-z0-9_][\w.\-/]*) = ?(.*)$")


@dataclass(frozen=True)
class SosreportEvidence:
    """What a sosreport holds besides copied files: sysctl values, the release, the plugins that ran.

    ``sysctl`` holds the ``/proc/sys`` keys asked for (:func:`parse_sysctl_all`'s ``only``), and is None
    when ``sysctl_-a`` is not in the sosreport.
    """

    sysctl: Mapping[str, str] | None
    release: str | None
    plugins: frozenset[str]


def parse_sysctl_all(text: str, only: Collection[str] | None = None) -> dict[str, str]:
    """``sysctl -a`` output as ``/proc/sys`` path -> file text (lines of one key joined).

    Lines that are not ``name = value`` (sysctl's warnings, which sos keeps) are skipped.
    With ``only`` (``/proc/sys`` paths), just those keys are kept, and only the lines
    that can hold them are matched: a compute's ``sysctl -a`` is thousands of
    ``net.*`` lines, and a sosreport fleet reads a few ``vm.*`` and ``kernel.*`` keys.

    >>> text = "vm.min_free_kbytes = 67584\\nvm.lowmem_reserve_ratio = 256\\t256\\t32\\t0\\t0\\n"
    >>> text += "net.core.somaxconn = 4096\\n"
    >>> parse_sysctl_all(text)["/proc/sys/vm/lowmem_reserve_ratio"]
    '256\\t256\\t32\\t0\\t0\\n'
    >>> parse_sysctl_all(text, only={"/proc/sys/vm/min_free_kbytes"})
    {'/proc/sys/vm/min_free_kbytes': '67584\\n'}
    """
    heads = None if only is None else sysctl_line_heads(only)
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        if heads is not None and not line.startswith(heads):
            continue
        match = _SYSCTL_LINE.match(line)
        if match is not None:
            lines.setdefault(_PROC_SYS + match.group(1).replace(".", "/"), []).append(match.group(2))
    return {path: "\n".join(values) + "\n" for path, values in lines.items() if only is None or path in only}


def sysctl_line_heads(paths: Iterable[str]) -> tuple[str, ...]:
    """How the ``sysctl -a`` lines of the ``/proc/sys`` keys ``paths`` begin: their top name, then a separator
    (``sysctl`` writes ``.``, and ``/`` within a name that has a dot).

    >>> sysctl_line_heads(["/proc/sys/vm/min_free_kbytes", "/proc/sys/vm/nr_hugepages", "/proc/meminfo"])
    ('vm.', 'vm/')
    """
    tops = sorted({path[len(_PROC_SYS) :].partition("/")[0] for path in paths if path.startswith(_PROC_SYS)})
    return tuple(top + separator for top in tops for separator in "./")


def release_from_uname(text: str) -> str | None:
    """The kernel release (third field) of ``uname -a`` output; None when it has fewer fields.

    >>> release_from_uname("Linux c7 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64 GNU/Linux\\n")
    '6.1.0-18-amd64'
    """
    fields = text.split()
    return fields[2] if len(fields) >= 3 else None


def plugins_in_version_txt(text: str) -> frozenset[str]:
    """The plugins listed in ``version.txt`` (``sosreport: 4.0`` then ``<plugin>: <version>`` lines).

    >>> sorted(plugins_in_version_txt("sosreport: 4.0\\nkernel: unversioned\\nnuma: unversioned"))
    ['kernel', 'numa']
    """
    names = (line.partition(":")[0].strip() for line in text.splitlines()[1:] if ":" in line)
    return frozenset(name for name in names if name)


def looks_like_sosreport(version_text: str | None, has_commands_dir: bool) -> bool:
    """True for a tree sos wrote: a ``version.txt`` starting ``sosreport:``, or ``sos_commands/``.

    >>> looks_like_sosreport("sosreport: 3.9\\n", False), looks_like_sosreport(None, False)
    (True, False)
    """
    return has_commands_dir or (version_text is not None and version_text.startswith("sosreport:"))


def copied_by(path: str) -> str | None:
    """The sos plugin that copies the fact at ``path`` (a path or a glob), None when none does.

    >>> copied_by("/sys/devices/system/node/node*/meminfo"), copied_by("/sys/devices/system/node/online")
    ('numa', None)
    """
    return next((plugin for prefix, plugin in COPIED_BY if path.startswith(prefix)), None)


def missing_reason(path: str, plugins: Iterable[str]) -> str | None:
    """Why the sosreport lacks ``path``, or None when it lacks it because the host does.

    >>> missing_reason("/sys/module/vrouter/version", {"kernel"}) is None
    True
    >>> missing_reason("/sys/devices/system/node/node*/meminfo", {"kernel"})
    'not in this sosreport: sos plugin numa did not run, it runs only where numactl or numad is installed'
    """
    plugin = copied_by(path)
    if plugin is None:
        return NOT_IN_SOSREPORT
    if plugin in set(plugins):
        return None
    needs = _PLUGIN_NEEDS.get(plugin)
    return f"{NOT_IN_SOSREPORT}: sos plugin {plugin} did not run" + (f", {needs}" if needs else "")


def _from_proc_sys(path: str, evidence: SosreportEvidence) -> Capture:
    if evidence.sysctl is not None and path in evidence.sysctl:
        return Capture(path, "ok", text=evidence.sysctl[path])
    if path == _OSRELEASE and evidence.release is not None:
        return Capture(path, "ok", text=evidence.release + "\n")
    if evidence.sysctl is None:
        return Capture(path, "absent", error=f"{NOT_IN_SOSREPORT}: no {SYSCTL_FILE.lstrip('/')}")
    return Capture(path, "absent")  # sysctl -a does not list it: this kernel has no such value


def fill_from_sosreport(captures: Mapping[str, Capture], evidence: SosreportEvidence) -> dict[str, Capture]:
    """The captures with what sos keeps elsewhere filled in, and every fact sos did not copy said so.

    ``/proc/sys`` values come from ``sysctl -a`` (the release from ``uname -a``
    when sysctl lacks it); an absent fact gets the reason
    :data:`NOT_IN_SOSREPORT` unless the plugin that copies it ran. Unreadable
    captures (a FIFO, a file over the limit) are kept as they are.

    >>> evidence = SosreportEvidence({"/proc/sys/vm/min_free_kbytes": "67584\\n"}, "6.1.0", frozenset({"kernel"}))
    >>> keys = ["/proc/sys/vm/min_free_kbytes", "/proc/sys/kernel/osrelease", "/sys/devices/system/node/online"]
    >>> filled = fill_from_sosreport({k: Capture(k, "absent") for k in keys}, evidence)
    >>> [(c.status, c.text or c.error) for c in filled.values()]
    [('ok', '67584\\n'), ('ok', '6.1.0\\n'), ('absent', 'not in this sosreport')]
    """
    filled: dict[str, Capture] = {}
    for key, capture in captures.items():
        if capture.status != "absent" or capture.error:
            filled[key] = capture
        elif key.startswith(_PROC_SYS):
            filled[key] = _from_proc_sys(key, evidence)
        elif key == PAGE_SIZE_KEY:
            filled[key] = Capture(key, "absent", error=NOT_IN_SOSREPORT)
        else:
            reason = missing_reason(key, evidence.plugins)
            filled[key] = capture if reason is None else Capture(key, "absent", error=reason)
    return filled
