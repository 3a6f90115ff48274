"""Failure signatures written after the reload started, and persisted hugepage sysctls (pure).

Signatures (domain notes §2.3, §5.2, §7 step 6):

* agent log: ``Assertion`` (R4.0/R4.1 ``ksync_memory.cc:100 ... table_size_ != 0``),
  ``Error sending Huge Page configuration`` (R4.1+, R2005+), ``Error mapping
  KSync memory`` (R5.0-R2003, derived);
* kernel log: ``resp: -1`` (R2005+ ``Huge page req_recv_cntr:N resp_cntr:N
  resp: -1 ret: -12``), ``page allocation failure: order:`` (the kernel's
  ``warn_alloc``), ``vrouter module ... mem error`` and ``Init failed``.

Only lines written after the reload started count: kernel lines after the
marker the stage writes to ``/dev/kmsg`` just before the reload, or, when the
marker is not there (no write access, or the ring buffer wrapped), lines whose
timestamp is not before the uptime read at that moment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from vrouter_preflight.facts.lines import is_plain_number

SignatureSource = Literal["kernel log", "agent log"]


@dataclass(frozen=True)
class SignaturePattern:
    """A text that means the reload failed, where it appears, and what it means."""

    source: SignatureSource
    needle: str
    meaning: str


SIGNATURES: tuple[SignaturePattern, ...] = (
    SignaturePattern("agent log", "Assertion", "the agent asserted (R4.x: the kernel handed it a table of size 0)"),
    SignaturePattern(
        "agent log",
        "Error sending Huge Page configuration",
        "the kernel could not allocate the tables; KSync was not started",
    ),
    SignaturePattern("agent log", "Error mapping KSync memory", "the agent could not map a table"),
    SignaturePattern("kernel log", "resp: -1", "vRouter's table allocation failed (MEM_FAILURE)"),
    SignaturePattern("kernel log", "page allocation failure: order:", "a high-order allocation failed"),
    SignaturePattern("kernel log", "mem error", "vRouter tore down after a second table allocation failure"),
    SignaturePattern("kernel log", "Init failed", "the vrouter module failed to initialise"),
)


@dataclass(frozen=True)
class Signature:
    """One failure signature found after the reload started.

    >>> Signature("kernel log", "resp: -1", "Huge page ... resp: -1 ret: -12", "failed").describe()
    "kernel log: 'Huge page ... resp: -1 ret: -12' (failed)"
    """

    source: SignatureSource
    needle: str
    line: str
    meaning: str

    def describe(self) -> str:
        """One line for the operator."""
        return f"{self.source}: {self.line.strip()!r} ({self.meaning})"


_STAMP = re.compile(r"^\s*(?:<\d+>)?\[\s*(\d+\.\d+)\]")


def kernel_lines_after(dmesg: str, marker: str, uptime: float | None) -> tuple[tuple[str, ...], str]:
    """Kernel log lines after the reload started, and how the start was found.

    >>> log = "[  10.0] old resp: -1\\n[  20.0] vrpf MARK\\n[  21.5] page allocation failure: order:10\\n"
    >>> kernel_lines_after(log, "vrpf MARK", None)
    (('[  21.5] page allocation failure: order:10',), 'after the marker')
    >>> kernel_lines_after(log, "absent", 15.0)[0]
    ('[  20.0] vrpf MARK', '[  21.5] page allocation failure: order:10')
    >>> kernel_lines_after(log, "absent", None)[1]
    'the whole kernel log (no marker, no uptime)'
    """
    lines = dmesg.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip().endswith(marker):
            return tuple(lines[index + 1 :]), "after the marker"
    if uptime is None:
        return tuple(lines), "the whole kernel log (no marker, no uptime)"
    after = tuple(line for line in lines if (m := _STAMP.match(line)) is None or float(m.group(1)) >= uptime)
    return after, f"timestamps from {uptime:.1f}s of uptime (no marker found)"


def scan_signatures(kernel_lines: Iterable[str], agent_lines: Iterable[str]) -> tuple[Signature, ...]:
    """Every signature line, kernel log first, in log order.

    >>> found = scan_signatures(["vrouter: Huge page req_recv_cntr:1 resp_cntr:1 resp: -1 ret: -12"],
    ...                         ["ksync_memory.cc:100: ... Assertion `table_size_ != 0' failed."])
    >>> [(s.source, s.needle) for s in found]
    [('kernel log', 'resp: -1'), ('agent log', 'Assertion')]
    >>> scan_signatures(["Huge page req_recv_cntr:1 resp_cntr:1 resp: 0 ret: 0"], [])
    ()
    """
    found: list[Signature] = []
    for source, lines in (("kernel log", kernel_lines), ("agent log", agent_lines)):
        patterns = [p for p in SIGNATURES if p.source == source]
        for line in lines:
            for pattern in patterns:
                if pattern.needle in line:
                    found.append(Signature(pattern.source, pattern.needle, line, pattern.meaning))
                    break
    return tuple(found)


@dataclass(frozen=True)
class PersistedSetting:
    """``vm.nr_hugepages*`` written in a sysctl file: it comes back on the next ``sysctl --system``.

    >>> PersistedSetting("/etc/sysctl.d/99-tripleo.conf", 3, "vm.nr_hugepages", "4").describe()
    "/etc/sysctl.d/99-tripleo.conf:3 persists vm.nr_hugepages = 4: a runtime change of the 1G pools is undone \
by the next 'sysctl --system' (or a TripleO/Juju apply); change it there too, or expect it"
    """

    path: str
    line: int
    key: str
    value: str

    def describe(self) -> str:
        """The warning for the operator."""
        return (
            f"{self.path}:{self.line} persists {self.key} = {self.value}: a runtime change of the 1G pools is undone "
            f"by the next 'sysctl --system' (or a TripleO/Juju apply); change it there too, or expect it"
        )


_SETTING = re.compile(r"^\s*-?\s*(vm[./]nr_hugepages(?:_mempolicy)?)\s*=\s*(\S+)")


def persisted_hugepage_settings(text: str | Sequence[str]) -> tuple[PersistedSetting, ...]:
    """Settings of ``vm.nr_hugepages`` in ``grep -Hn`` output (``path:line:text``); comments ignored.

    Give it the output of
    :data:`~vrouter_preflight.remediation.commands.PERSISTED_SYSCTL_COMMAND`.

    >>> out = ("/etc/sysctl.conf:12:# vm.nr_hugepages = 8\\n"
    ...        "/etc/sysctl.d/10-contrail-hugepage.conf:1:vm.nr_hugepages=1024\\n")
    >>> [(s.path, s.key, s.value) for s in persisted_hugepage_settings(out)]
    [('/etc/sysctl.d/10-contrail-hugepage.conf', 'vm.nr_hugepages', '1024')]
    """
    lines = text.splitlines() if isinstance(text, str) else list(text)
    found: list[PersistedSetting] = []
    for entry in lines:
        path, sep, rest = entry.partition(":")
        number, sep2, content = rest.partition(":")
        if not sep or not sep2 or not is_plain_number(number):
            continue
        match = _SETTING.match(content)
        if match is not None:
            found.append(PersistedSetting(path, int(number), match.group(1).replace("/", "."), match.group(2)))
    return tuple(found)
