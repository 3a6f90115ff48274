"""The one POSIX ``sh`` command that reads every fact source of a host.

It runs on busybox ``ash``, RHEL 7 (bash 4.2 as ``sh``, coreutils 8.22) and
``dash``, and the processes it starts do not grow with the number of files,
NUMA nodes or hugepage sizes:

- shell builtins expand the globs and sort every path out (``[ -f ]``,
  ``[ -e ]``…): absent, not a regular file (never opened, so a FIFO cannot
  block the capture), or to be read;
- ONE ``head -c`` reads every file to be read, at most
  :data:`FILE_BYTE_LIMIT` + 1 bytes each, so a huge or endless file never
  makes the answer huge; it separates the files with ``==> NAME <==`` lines
  whose names carry a per-run random prefix of ``/`` and ``./`` components
  (:func:`header_prefix`) that no file's content can forge, and its error
  messages (permission denied, a symlink loop…) name the files they are about;
  ONE ``tr`` turns NUL bytes into SOH (0x01) on the way, as a shell variable
  cannot hold NUL (the parser turns them back: a file's own SOH bytes read as NUL);
- ONE ``awk`` serves the standard command sources (the first processor of
  ``/proc/cpuinfo``, the page size, the hugetlbfs mounts) and at most one
  ``stat`` sizes the agent's table files on those mounts;
- every record starts with a random boundary line; the shell holds the whole
  answer and writes it at once (a few SSH packets instead of one per record).
  Above ``compress_above`` bytes (:data:`COMPRESS_ABOVE`) it is gzip-compressed
  and base64-encoded when the host has both tools; an answer above
  :data:`ANSWER_BYTE_LIMIT` is replaced by one line saying its size.

:mod:`vrouter_preflight.capture_answer` reads the answer back.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from vrouter_preflight.capture_sources import (
    CPUINFO_KEY,
    CPUINFO_SOURCE,
    HUGETLBFS_TABLES_KEY,
    HUGETLBFS_TABLES_SOURCE,
    PAGE_SIZE_KEY,
    PAGE_SIZE_SOURCE,
    FactSource,
)
from vrouter_preflight.shell import quote

#: Bytes kept of one file or command output; one more byte read makes it ``too-large``.
#: The biggest file read on real hosts is ``/proc/zoneinfo``: about 1 MiB with 768 CPUs on 8 nodes.
FILE_BYTE_LIMIT = 4 * 1024 * 1024
#: Bytes of one host's whole answer before compression; above it the host is an ERROR.
ANSWER_BYTE_LIMIT = 16 * 1024 * 1024
#: Answers above this many bytes are compressed (``gzip -1``, then base64), when the host has both.
#: Below it compressing costs the compute two more processes (about 3.5 ms) and gains nothing; above
#: it the answer shrinks about 8x on the wire (a big host's zoneinfo nears a megabyte) for about 10 ms
#: of compute CPU per MB, the controller's CPU about the same (``bench/capture_bench.py``).
COMPRESS_ABOVE = 64 * 1024
#: The most the script can print: base64 (76 columns) of gzip's worst case for ANSWER_BYTE_LIMIT.
MAX_ANSWER_BYTES = (ANSWER_BYTE_LIMIT + ANSWER_BYTE_LIMIT // 16384 * 5 + 64) * 4 // 3 * 77 // 76 + 64

_PREFIX_BITS = 32
_GLOB_PART = re.compile(r"(\*|\?|\[[^\]/]*\])")

# The per-path sorter. A regular file (or a symlink that leads nowhere:
# dangling or a loop, which head's error message tells apart) is recorded
# ``R`` and added to head's list ``o``; anything else is recorded here. Records
# wait in ``m`` and go out in one write before the next command's.
_SORT_FUNCTION = r"""classify() {
  if [ -f "$1" ] || { [ -L "$1" ] && [ ! -e "$1" ]; }; then m="$m$B R $1$N"; o="$o$N$P$1"
  elif [ -e "$1" ]; then
    k=other
    if [ -d "$1" ]; then k=directory; elif [ -p "$1" ]; then k=fifo; elif [ -S "$1" ]; then k=socket
    elif [ -c "$1" ] || [ -b "$1" ]; then k=device; fi
    m="$m$B N $k $1$N"
  else m="$m$B A $1$N"; fi
}"""

# The standard command sources, served by ONE awk instead of a process each.
# Each fragment prints its source's record as the command would print it
# (``sed '/^$/q'`` keeps the blank line; ``getconf`` runs only where the awk's
# own /proc/self/smaps has no KernelPageSize) into the answer; the hugetlbfs
# mount points go to awk's stderr, which the shell keeps in ``x``.
_AWK_FRAGMENTS = {
    CPUINFO_SOURCE: (
        r'c = ""; r = 1; while ((s = (getline l < "/proc/cpuinfo")) > 0) { r = 0; c = c l "\n"; if (l == "") break }'
        "\nif (s == 0) r = 0\n"
        rf'printf "%s F {CPUINFO_KEY}\n%s\n%s E %d command-failed\n", B, c, B, r'
    ),
    PAGE_SIZE_SOURCE: (
        r'p = ""; while ((getline l < "/proc/self/smaps") > 0) if (l ~ /^KernelPageSize:/) '
        r'{ split(l, w, " "); p = w[2] * 1024; break }'
        "\n"
        r'if (p == "") { "getconf PAGESIZE 2>/dev/null" | getline p }'
        "\n"
        rf'if (p == "") printf "%s F {PAGE_SIZE_KEY}\n\n%s E 1 command-failed\n", B, B; '
        rf'else printf "%s F {PAGE_SIZE_KEY}\n%s\n\n%s E 0 command-failed\n", B, p, B'
    ),
}
_AWK_MOUNTS = (
    r'while ((getline l < "/proc/mounts") > 0) { split(l, w, " "); '
    r'if (w[3] == "hugetlbfs") print w[2] > "/dev/stderr" }'
)
# The table files on those mounts: one stat for all of them (none on most hosts).
_HUGETLBFS_LINES = (
    f"printf '%s F %s\\n' \"$B\" {HUGETLBFS_TABLES_KEY}",
    't=; set -f; for h in $x; do for f in "$h/flow" "$h/bridge"; do [ -f "$f" ] && t="$t $f"; done; done',
    "[ -z \"$t\" ] || stat -c '%s %n' -- $t 2>/dev/null; set +f",
    "printf '\\n%s E 0 command-failed\\n' \"$B\"",
)
_AWK_SERVED = (*_AWK_FRAGMENTS, HUGETLBFS_TABLES_SOURCE)
# The shell holds the answer and a shell variable cannot hold NUL bytes: tr
# turns them into SOH (0x01), which the parser turns back.
_NUL, _SOH = r"'\000'", r"'\001'"
_FLUSH = 'printf %s "$m"; m='


def new_boundary() -> str:
    """A fresh random boundary marker for one capture run.

    >>> len(new_boundary())
    32
    """
    return "@@VRPF" + secrets.token_hex(13)


def header_prefix(boundary: str) -> str:
    """The run's random path prefix that ``head`` prints before every file name.

    Made of ``/`` and ``./`` only, so ``PREFIX + /proc/meminfo`` is the same
    file from ``/``; derived from the boundary, so the parser knows it too.

    >>> prefix = header_prefix("@@X")
    >>> prefix.startswith("/") and prefix.endswith("/") and set(prefix) == {"/", "."}
    True
    >>> header_prefix("@@X") == header_prefix("@@X") != header_prefix("@@Y")
    True
    """
    bits = int.from_bytes(hashlib.sha256(boundary.encode()).digest()[: _PREFIX_BITS // 8], "big")
    return "/" + "".join("./" if bits >> shift & 1 else "/" for shift in range(_PREFIX_BITS))


def glob_word(pattern: str) -> str:
    """``pattern`` as one shell word: literal parts quoted, glob characters left to the shell.

    >>> glob_word("/sys/node*/x y")
    "/sys/node*'/x y'"
    >>> glob_word("/proc/meminfo")
    '/proc/meminfo'
    """
    return "".join(part if _GLOB_PART.fullmatch(part) else quote(part) for part in _GLOB_PART.split(pattern) if part)


def _file_loop(patterns: Sequence[str]) -> str:
    words = " ".join(glob_word(pattern) for pattern in patterns)
    return f'for f in {words}; do classify "$f"; done'


def _command_lines(source: FactSource) -> list[str]:
    """A command source: its output through ``head -c`` (a command that floods is cut at the per-file limit and
    ends on SIGPIPE, never filling the answer), its own exit status kept through fd 4."""
    return [
        _FLUSH,
        f"printf '%s F %s\\n' \"$B\" {quote(source.pattern)}",
        f"r=$( {{ {{ {{ {source.command}; }} 2>/dev/null 3>&-; echo $? >&4; }} "
        f"| head -c {FILE_BYTE_LIMIT + 1} >&3; }} 4>&1 )",
        'printf \'\\n%s E %s %s\\n\' "$B" "$r" command-failed',
    ]


def _awk_lines(sources: Sequence[FactSource]) -> list[str]:
    """ONE awk for every standard command source in ``sources``; the records it prints go out now."""
    served = [source for source in sources if source in _AWK_FRAGMENTS]
    program = "BEGIN {\n" + "\n".join([*(_AWK_FRAGMENTS[source] for source in served), _AWK_MOUNTS]) + "\n}"
    # Without awk, each of them is a failed command, as its own command would have been.
    failed = "".join(f"%s F {source.key}\\n\\n%s E 127 command-failed\\n" for source in served)
    boundaries = ' "$B"' * 2 * len(served)
    return [
        _FLUSH,
        f"x=$(awk -v B=\"$B\" '{program}' 2>&1 >&3 3>&-) || {{ x=; printf '{failed}'{boundaries}; }}",
    ]


def build_capture_script(sources: Sequence[FactSource], boundary: str, *, compress_above: int = COMPRESS_ABOVE) -> str:
    """The POSIX sh script that reads every source and prints one answer.

    Records, each on its own line starting with the boundary ``B``:
    ``B R path`` (read by head below), ``B A path`` (absent),
    ``B N kind path`` (not a regular file), a command's ``B F key``, its
    output, a newline and ``B E rc reason``; then ``B H``, head's output, a
    newline, ``B S rc`` and head's error messages; ``B Z`` ends the answer.
    Or only ``B T bytes`` when the answer is too large. Answers above
    ``compress_above`` bytes are compressed where the host can.

    >>> script = build_capture_script([FactSource("/proc/version")], "@@X")
    >>> "for f in /proc/version; do" in script and "head -c 4194305" in script
    True
    """
    lines = [
        "LC_ALL=C; export LC_ALL",
        f"B={quote(boundary)}",
        f"P={quote(header_prefix(boundary))}",
        "N='\n'",
        _SORT_FUNCTION,
        "answer() {",
        "exec 3>&1; m=; o=",
    ]
    pending: list[str] = []
    awk_done = False
    for source in sources:
        if source.command is None:
            pending.append(source.pattern)
            continue
        if pending:
            lines.append(_file_loop(pending))
            pending = []
        if source in _AWK_SERVED:
            if not awk_done:
                lines.extend(_awk_lines(sources))
                awk_done = True
            if source == HUGETLBFS_TABLES_SOURCE:
                lines.extend([_FLUSH, *_HUGETLBFS_LINES])
        else:
            lines.extend(_command_lines(source))
    if pending:
        lines.append(_file_loop(pending))
    lines += [
        _FLUSH,
        'if [ -n "$o" ]; then IFS=$N; set -f; set -- $o; set +f; unset IFS',
        "printf '%s H\\n' \"$B\"",
        f'e=$({{ head -c {FILE_BYTE_LIMIT + 1} "$P/dev/null" "$@" 3>&- | tr {_NUL} {_SOH} >&3 3>&-; }} 2>&1); r=$?',
        'printf \'\\n%s S %s\\n%s\\n\' "$B" "$r" "$e"; fi',
        "printf '%s Z\\n' \"$B\"",
        "}",
        "a=$(answer); n=${#a}",
        f'if [ "$n" -gt {ANSWER_BYTE_LIMIT} ]; then printf \'%s T %s\\n\' "$B" "$n"',
        f'elif [ "$n" -gt {int(compress_above)} ] && command -v gzip >/dev/null 2>&1 &&',
        "command -v base64 >/dev/null 2>&1",
        "then printf '%s\\n' \"$a\" | gzip -1 -c | base64",
        "else printf '%s\\n' \"$a\"; fi",
    ]
    return "\n".join(lines) + "\n"
