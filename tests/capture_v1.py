"""The capture script and its parser as shipped before issue 15, frozen as the reference.

The one-command capture was rewritten for speed (a fixed handful of
processes, one buffered and possibly compressed answer). Its parse results
must stay byte-for-byte what this version gave, so the tests and
``bench/capture_bench.py`` run this copy next to the new script. It is kept
verbatim (a ``cat`` per file between random boundary lines) and is not used by
the suite itself.

>>> "emit /proc/version" in build_v1_script([FactSource("/proc/version")], "@@X")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vrouter_preflight.capture import CPUINFO_KEY, HUGETLBFS_TABLES_KEY, PAGE_SIZE_KEY, Capture, FactSource
from vrouter_preflight.shell import quote

#: The commands of the old FACT_SOURCES, by key (a process each, a ``stat`` per table file).
V1_COMMANDS = {
    CPUINFO_KEY: "sed '/^$/q' /proc/cpuinfo",
    PAGE_SIZE_KEY: "getconf PAGESIZE",
    HUGETLBFS_TABLES_KEY: (
        "awk '$3 == \"hugetlbfs\" {print $2}' /proc/mounts | while read -r m; do "
        'for f in "$m/flow" "$m/bridge"; do [ -f "$f" ] && printf \'%s %s\\n\' "$(stat -c %s "$f")" "$f"; done; '
        "done; true"
    ),
}


def v1_sources(sources: Sequence[FactSource]) -> list[FactSource]:
    """``sources`` with the old commands in place of the standard ones."""
    return [replace(s, command=V1_COMMANDS.get(s.key, s.command)) if s.command else s for s in sources]


def build_v1_script(sources: Sequence[FactSource], boundary: str) -> str:
    """The old POSIX sh script: ``B F path``, the content, ``B E rc reason`` per file."""
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
            lines.append(f'for f in {source.pattern}; do emit "$f"; done')
        else:
            lines.append(f"emit {quote(source.pattern)}")
    return "\n".join(lines) + "\n"


def parse_v1_stream(stdout: str, boundary: str) -> dict[str, Capture]:
    """The old parser: one Capture per path, in the order printed."""
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
