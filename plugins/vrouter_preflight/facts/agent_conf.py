"""``contrail-vrouter-agent.conf`` and the hugepage files it tells the agent to map.

The agent reads this file with Boost.Program_options' config-file parser, and
this parser follows that reader line for line:

* ``#`` starts a comment anywhere on a line (``key=a # note`` is ``key=a``);
  a line whose first non-blank character is ``;`` is a comment too (Python
  tools that read the file treat it so; the agent ignores such a line as an
  unknown option). An inline ``;`` is part of the value.
* Spaces and tabs around a line, a key and a value are dropped; a value keeps
  its inner spaces (``huge_page_1G=/dev/hugepages1G/bridge /dev/hugepages1G/flow``).
* ``[NAME]`` starts a section; names and keys are case-sensitive, as in the
  agent (``[restart]`` is not ``[RESTART]``). The same section may appear more
  than once. Keys before any section belong to the section ``""``.
* A key may be given more than once: :attr:`AgentConf.sections` keeps the last
  value, :meth:`AgentConf.values` all of them (the agent refuses a repeated
  single-valued option, and collects repeated list options such as
  ``huge_page_1G``).
* Any other non-blank line (no ``=``, ``[RESTART`` without ``]``, an empty key)
  is an error, as it is for the agent; :class:`FactParseError` names the line.

Hugepage files (``[RESTART] huge_page_1G`` / ``huge_page_2M``) follow
``AgentParam`` (``agent_param.cc``) and ``KSync::SetHugePages``: one line is
split on single spaces (two spaces make an empty path, which the agent skips
while it still counts the position); the first path is the bridge table, the
second the flow table, and further paths are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines
from vrouter_preflight.facts.sizes import GIB_KIB, MIB2_KIB

AGENT_CONF = "/etc/contrail/contrail-vrouter-agent.conf"
RESTART = "RESTART"
#: ``[RESTART]`` keys in the order the agent maps them, with their page size.
HUGEPAGE_KEYS: tuple[tuple[str, int], ...] = (("huge_page_1G", GIB_KIB), ("huge_page_2M", MIB2_KIB))
_TABLES: tuple[Literal["bridge", "flow"], ...] = ("bridge", "flow")
_BLANKS = " \t\r\n"  # what Boost's trim_ws drops

TableName = Literal["bridge", "flow"]


@dataclass(frozen=True)
class AgentConfEntry:
    """One ``key=value`` line, with the section it sits in and its line number.

    >>> AgentConfEntry("RESTART", "huge_page_1G", "/dev/hugepages/bridge /dev/hugepages/flow", 12).line_no
    12
    """

    section: str
    key: str
    value: str
    line_no: int


@dataclass(frozen=True)
class AgentHugepageFile:
    """One hugetlbfs file the agent maps for a table.

    ``table`` is ``None`` for a path past the second, which the agent ignores.

    >>> AgentHugepageFile(1048576, "/dev/hugepages1G/flow", "flow").table
    'flow'
    """

    size_kib: int
    path: str
    table: TableName | None


@dataclass(frozen=True)
class AgentConf:
    """The parsed file: every entry in order, and ``sections`` (last value wins).

    >>> conf = parse_agent_conf("[DEFAULT]\\nlog_level=SYS_NOTICE\\n[RESTART]\\nhuge_page_2M=/dev/hugepages/bridge\\n")
    >>> sorted(conf.sections), conf.get("DEFAULT", "log_level"), conf.get("DEFAULT", "log_file")
    (['DEFAULT', 'RESTART'], 'SYS_NOTICE', None)
    """

    entries: tuple[AgentConfEntry, ...]
    source: str = field(default=AGENT_CONF, compare=False)
    sections: Mapping[str, Mapping[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sections: dict[str, dict[str, str]] = {}
        for entry in self.entries:
            sections.setdefault(entry.section, {})[entry.key] = entry.value
        frozen = MappingProxyType({name: MappingProxyType(keys) for name, keys in sections.items()})
        object.__setattr__(self, "sections", frozen)

    def get(self, section: str, key: str) -> str | None:
        """The value of ``key`` in ``section`` (the last one if repeated), ``None`` when absent.

        >>> parse_agent_conf("[DEFAULT]\\nplatform=\\n").get("DEFAULT", "platform")
        ''
        >>> parse_agent_conf("[DEFAULT]\\nplatform=\\n").get("RESTART", "platform") is None
        True
        """
        return self.sections.get(section, {}).get(key)

    def values(self, section: str, key: str) -> tuple[str, ...]:
        """Every value given to ``key`` in ``section``, in file order.

        >>> parse_agent_conf("[A]\\nx=1\\n[B]\\nx=2\\n[A]\\nx=3\\n").values("A", "x")
        ('1', '3')
        """
        return tuple(entry.value for entry in self.entries if entry.section == section and entry.key == key)

    def hugepage_files(self) -> tuple[AgentHugepageFile, ...]:
        """The files of ``[RESTART] huge_page_1G`` then ``huge_page_2M``; empty when neither is set.

        >>> conf = parse_agent_conf("[RESTART]\\nhuge_page_1G=/dev/hugepages1G/bridge /dev/hugepages1G/flow\\n")
        >>> [(f.size_kib, f.path, f.table) for f in conf.hugepage_files()]
        [(1048576, '/dev/hugepages1G/bridge', 'bridge'), (1048576, '/dev/hugepages1G/flow', 'flow')]
        """
        files: list[AgentHugepageFile] = []
        for key, size_kib in HUGEPAGE_KEYS:
            given = self.values(RESTART, key)
            # One line is split on each single space; several lines are one path each.
            paths = given[0].split(" ") if len(given) == 1 else list(given)
            for index, path in enumerate(paths):
                if path:
                    table = _TABLES[index] if index < len(_TABLES) else None
                    files.append(AgentHugepageFile(size_kib, path, table))
        return tuple(files)

    def configured_hugepage_size_kib(self) -> int | None:
        """The page size in KiB the agent is told to use, or ``None`` for no hugepage mode.

        1G when ``huge_page_1G`` names a bridge or flow file, else 2M when
        ``huge_page_2M`` does; with neither the tables come from the buddy
        allocator. (With both, the agent maps all four files and the kernel
        carves each table from the first segment that fits: the 1G ones.)

        >>> parse_agent_conf("[RESTART]\\nhuge_page_1G=\\nhuge_page_2M=/dev/hugepages/bridge /dev/hugepages/flow\\n"
        ...                  ).configured_hugepage_size_kib()
        2048
        >>> parse_agent_conf("[RESTART]\\nbackup_enable=false\\n").configured_hugepage_size_kib() is None
        True
        """
        sizes = {found.size_kib for found in self.hugepage_files() if found.table is not None}
        for _, size_kib in HUGEPAGE_KEYS:
            if size_kib in sizes:
                return size_kib
        return None


def parse_agent_conf(text: str, source: str = AGENT_CONF) -> AgentConf:
    """Parse ``contrail-vrouter-agent.conf`` as the agent reads it (see the module docstring).

    >>> conf = parse_agent_conf("# written by the container\\n[DEFAULT]\\nplatform = default  # kernel mode\\n")
    >>> conf.get("DEFAULT", "platform")
    'default'
    >>> parse_agent_conf("[DEFAULT]\\nlog_local\\n", "agent.conf")
    Traceback (most recent call last):
    ...
    vrouter_preflight.facts.errors.FactParseError: agent.conf line 2: expected [SECTION] or key=value: 'log_local'
    """
    entries: list[AgentConfEntry] = []
    section = ""
    for line_no, line in numbered_lines(text):
        content = line.split("#", 1)[0].strip(_BLANKS)
        if not content or content.startswith(";"):
            continue
        if content.startswith("[") and content.endswith("]"):
            section = content[1:-1]
            if not section.strip(_BLANKS):
                raise FactParseError(source, line_no, "empty section name", line)
            continue
        key, equals, value = content.partition("=")
        if not equals:
            raise FactParseError(source, line_no, "expected [SECTION] or key=value", line)
        key = key.strip(_BLANKS)
        if not key:
            raise FactParseError(source, line_no, "empty key before '='", line)
        entries.append(AgentConfEntry(section, key, value.strip(_BLANKS), line_no))
    return AgentConf(tuple(entries), source)
