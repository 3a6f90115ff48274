"""An ssh_config cut down to the blocks that can apply to one host (pure: no file I/O).

paramiko's ``SSHConfig.lookup`` walks every ``Host``/``Match`` block of the
file (and calls ``getpass.getuser()`` per block): with a generated config of
one block per compute, every host's lookup costs the whole fleet's. This index
splits the text into blocks once; a host's lookup then gets the global lines,
the blocks whose literal ``Host`` names are its own (a dict hit), and every
block that must be evaluated to know (wildcards, negations, ``Match``), in
their original order. paramiko's answer for that host is the same, since a
``Host`` block whose patterns do not match contributes nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_SETTING = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")  # paramiko's SSHConfig.SETTINGS_REGEX
_GLOB = frozenset("*?[!")


@dataclass(frozen=True)
class _Block:
    """One ``Host``/``Match`` block: its text, and the only names it can apply to (None: evaluate it)."""

    text: str
    names: frozenset[str] | None


@dataclass
class SshConfigIndex:
    """The blocks of one ssh_config text, indexed by the literal host names they apply to.

    >>> text = "User ops\\nHost c0 c1\\n  Port 2200\\nHost c2\\n  Port 2202\\nHost *.lab\\n  User lab\\n"
    >>> print(SshConfigIndex.parse(text).text_for("c1"), end="")
    User ops
    Host c0 c1
      Port 2200
    Host *.lab
      User lab
    """

    preamble: str = ""
    blocks: list[_Block] = field(default_factory=list)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)
    whole_text: str | None = None

    @classmethod
    def parse(cls, text: str) -> SshConfigIndex:
        """Split ``text`` into its global lines and its blocks.

        With ``CanonicalizeHostname`` anywhere, paramiko matches blocks again
        against a canonical name found at lookup time: the text is then
        used whole.
        """
        index = cls()
        if "canonicalizehostname" in text.lower():
            index.whole_text = text
            return index
        preamble: list[str] = []
        current: list[str] | None = None
        names: frozenset[str] | None = None
        for line in text.splitlines(keepends=True):
            setting = _SETTING.match(line.strip())
            keyword = setting.group(1).lower() if setting else ""
            if keyword in ("host", "match"):
                if current is not None:
                    index._add(_Block("".join(current), names))
                assert setting is not None
                current, names = [line], _literal_names(setting.group(2)) if keyword == "host" else None
            elif current is None:
                preamble.append(line)
            else:
                current.append(line)
        if current is not None:
            index._add(_Block("".join(current), names))
        index.preamble = "".join(preamble)
        return index

    def _add(self, block: _Block) -> None:
        position = len(self.blocks)
        self.blocks.append(block)
        if block.names is None:
            self.always.append(position)
        else:
            for name in block.names:
                self.by_name.setdefault(name, []).append(position)

    def text_for(self, *names: str) -> str:
        """The config text paramiko needs to look up each of ``names``."""
        if self.whole_text is not None:
            return self.whole_text
        chosen = set(self.always)
        for name in names:
            chosen.update(self.by_name.get(name, ()))
        body = "".join(self.blocks[position].text for position in sorted(chosen))
        if self.preamble and not self.preamble.endswith("\n") and body:
            return self.preamble + "\n" + body
        return self.preamble + body


def _literal_names(value: str) -> frozenset[str] | None:
    """The names a ``Host`` line can match when all its patterns are plain names; None otherwise.

    paramiko matches with ``fnmatch`` (case-sensitive here), so a plain
    pattern matches exactly itself.

    >>> sorted(_literal_names("c0 'c1'")), _literal_names("c* !bad"), _literal_names("x\\\\y")
    (['c0', 'c1'], None, None)
    """
    if "\\" in value:
        return None  # shlex's escapes: leave the reading to paramiko
    try:
        patterns = shlex.split(value)
    except ValueError:
        return None  # paramiko will say what is wrong with the line
    if not patterns or any(ch in _GLOB for pattern in patterns for ch in pattern):
        return None
    return frozenset(patterns)
