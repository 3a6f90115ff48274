"""Whether ``/proc/cpuinfo`` was printed by an x86 kernel.

Only x86's ``show_cpuinfo`` (``arch/x86/kernel/cpu/proc.c``, every version)
prints a ``cpu family`` line, next to ``vendor_id`` and ``flags``; ia64 prints
``family``, s390 ``vendor_id`` and ``features``, ARM and arm64 ``CPU
architecture`` and ``Features``, POWER ``cpu``. Other architectures are not
told apart: nothing here needs them.
"""

from __future__ import annotations

from vrouter_preflight.facts.lines import numbered_lines

_X86_KEYS = frozenset({"vendor_id", "cpu family", "flags"})


def is_x86_cpuinfo(text: str) -> bool:
    """True when the first processor of ``/proc/cpuinfo`` has x86's ``vendor_id``, ``cpu family`` and ``flags``.

    Lines without a ``:`` are ignored; the first blank line ends the first processor.

    >>> is_x86_cpuinfo("processor\\t: 0\\nvendor_id\\t: GenuineIntel\\ncpu family\\t: 6\\nflags\\t\\t: fpu vme\\n")
    True
    >>> is_x86_cpuinfo("processor\\t: 0\\nBogoMIPS\\t: 50.00\\nFeatures\\t: fp asimd\\nCPU architecture: 8\\n")
    False
    """
    keys: set[str] = set()
    for _, line in numbered_lines(text):
        if not line.strip():
            break
        key, colon, _ = line.partition(":")
        if colon:
            keys.add(key.strip())
    return keys >= _X86_KEYS
