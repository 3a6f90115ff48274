"""``/etc/os-release``: shell-style ``KEY=value`` assignments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import numbered_lines

_ASSIGNMENT = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)")
# os-release(5): single quotes are literal; in double quotes and bare words a
# backslash escapes the next character; bare words may not contain spaces.
_WORD = re.compile(r"""'(?P<single>[^']*)'|"(?P<double>(?:[^"\\]|\\.)*)"|(?P<bare>(?:[^\s'"\\]|\\.)+)""")
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class OsRelease:
    """The variables of ``os-release``; the properties are ``None`` when absent.

    >>> release = parse_os_release('ID=rhel\\nVERSION_ID="9.4"\\n')
    >>> release.id, release.version_id, release.pretty_name
    ('rhel', '9.4', None)
    """

    values: Mapping[str, str]

    @property
    def id(self) -> str | None:
        """``ID``, e.g. ``ubuntu``.

        >>> OsRelease({"ID": "ubuntu"}).id
        'ubuntu'
        """
        return self.values.get("ID")

    @property
    def version_id(self) -> str | None:
        """``VERSION_ID``, e.g. ``22.04``.

        >>> OsRelease({}).version_id is None
        True
        """
        return self.values.get("VERSION_ID")

    @property
    def pretty_name(self) -> str | None:
        """``PRETTY_NAME``, e.g. ``Ubuntu 22.04.4 LTS``.

        >>> OsRelease({"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}).pretty_name
        'Debian GNU/Linux 12 (bookworm)'
        """
        return self.values.get("PRETTY_NAME")


def _unquote(value: str, source: str, line_no: int, line: str) -> str:
    """Join the quoted and bare pieces of one shell word."""
    pieces: list[str] = []
    position = 0
    while position < len(value):
        match = _WORD.match(value, position)
        if match is None:
            reason = "value has unquoted spaces" if value[position].isspace() else "bad quoting"
            raise FactParseError(source, line_no, reason, line)
        if match["single"] is not None:
            pieces.append(match["single"])
        else:
            pieces.append(_ESCAPE.sub(r"\1", match["double"] if match["double"] is not None else match["bare"]))
        position = match.end()
    return "".join(pieces)


def parse_os_release(text: str, source: str = "/etc/os-release") -> OsRelease:
    """Parse ``os-release`` with shell quoting; blank lines and ``#`` comments are skipped.

    >>> parse_os_release("# comment\\n\\nNAME='Red Hat Enterprise Linux'\\nID=rhel").values["NAME"]
    'Red Hat Enterprise Linux'
    """
    values: dict[str, str] = {}
    for line_no, line in numbered_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if match is None:
            raise FactParseError(source, line_no, "expected KEY=value", line)
        values[match["key"]] = _unquote(match["value"], source, line_no, line)
    return OsRelease(MappingProxyType(values))
