"""Raw fact capture: which files the suite reads and how one command reads them all.

A live host (local or SSH) runs ONE shell script
(:mod:`~vrouter_preflight.capture_script`) that reads every source with a fixed
handful of processes and prints one answer, compressed when that pays;
:func:`read_capture_answer` (:mod:`~vrouter_preflight.capture_answer`) turns it
back into :class:`Capture` records. A snapshot reads the same paths from a
tree. The sources are in :mod:`~vrouter_preflight.capture_sources`, the record
and its statuses in :mod:`~vrouter_preflight.capture_records`; this module is
the one place the rest of the suite imports them from.

>>> import subprocess
>>> boundary = new_boundary()
>>> script = build_capture_script([FactSource("/proc/version"), FactSource("/proc/no-such-file")], boundary)
>>> answer = subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout
>>> captures = read_capture_answer(answer, boundary)
>>> captures["/proc/version"].text.startswith("Linux"), captures["/proc/no-such-file"].status
(True, 'absent')
"""

from __future__ import annotations

from vrouter_preflight.capture_answer import CaptureAnswerError, parse_capture_stream, read_capture_answer
from vrouter_preflight.capture_records import Capture, CaptureStatus, status_words
from vrouter_preflight.capture_script import (
    ANSWER_BYTE_LIMIT,
    COMPRESS_ABOVE,
    FILE_BYTE_LIMIT,
    MAX_ANSWER_BYTES,
    build_capture_script,
    new_boundary,
)
from vrouter_preflight.capture_sources import (
    AGENT_CONF_PATHS,
    CPUINFO_KEY,
    DMI_DIR,
    DMI_FIELDS,
    FACT_SOURCES,
    HUGETLBFS_TABLES_KEY,
    PAGE_SIZE_KEY,
    FactSource,
)

__all__ = [
    "AGENT_CONF_PATHS",
    "ANSWER_BYTE_LIMIT",
    "COMPRESS_ABOVE",
    "CPUINFO_KEY",
    "DMI_DIR",
    "DMI_FIELDS",
    "FACT_SOURCES",
    "FILE_BYTE_LIMIT",
    "HUGETLBFS_TABLES_KEY",
    "MAX_ANSWER_BYTES",
    "PAGE_SIZE_KEY",
    "Capture",
    "CaptureAnswerError",
    "CaptureStatus",
    "FactSource",
    "build_capture_script",
    "new_boundary",
    "parse_capture_stream",
    "read_capture_answer",
    "status_words",
]
