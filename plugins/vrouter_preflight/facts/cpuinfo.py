"""``/proc/cpuinfo``: the CPU feature flags (``pdpe1gb`` decides 1 GiB pages on x86)."""

from __future__ import annotations

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines

FLAG_KEYS = ("flags", "Features")


def parse_cpu_flags(text: str, source: str = "/proc/cpuinfo") -> frozenset[str]:
    """Flags of the first ``flags`` (x86) or ``Features`` (arm) line; empty when there is none.

    Every non-blank line must be ``key : value``.

    >>> sorted(parse_cpu_flags("processor\\t: 0\\nflags\\t\\t: fpu pse pdpe1gb\\n"))
    ['fpu', 'pdpe1gb', 'pse']
    >>> parse_cpu_flags("processor : 0\\nFeatures : fp asimd\\n") == {"fp", "asimd"}
    True
    """
    flags: frozenset[str] | None = None
    for line_no, line in numbered_lines(text):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise FactParseError(source, line_no, "expected 'key : value'", line)
        if flags is None and key.strip() in FLAG_KEYS:
            flags = frozenset(value.split())
    return flags if flags is not None else frozenset()
