"""Ansible's INI inventory (Kolla-Ansible's ``multinode``): ``[group]``, ``[group:children]``, ``[group:vars]``.

Read as Ansible's ``ini`` plugin does:

* lines starting with ``#`` or ``;`` are comments; lines before any section
  are hosts of ``ungrouped``;
* a host line is split like a shell line (quotes group, ``#`` starts a
  comment): the first word is the host entry (ranges ``compute[01:20]``, a
  port ``host:2222``), the rest ``key=value`` variables;
* a ``[group:vars]`` line is ``key = value`` split at the first ``=``, no shell
  splitting (a ``#`` there is part of the value);
* a ``[group:children]`` line names a group that may be declared further down;
  one never declared is an error, and so is ``[group:vars]`` for a group never
  declared.

Values are typed as Ansible types INI values: a value that reads as a Python
literal becomes that literal (``2222`` an int, ``True`` a bool, ``"kolla"`` the
string, ``[1, 2]`` a list); everything else stays the string as written
(``yes``, ``10.0.0.12``, ``kolla``). So ``ansible_port=2222`` is the integer
2222 and ``ansible_become=yes`` the string ``'yes'``, which the connection
mapping reads as a boolean like Ansible does.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings

from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.graph import UNGROUPED, InventoryBuilder
from vrouter_preflight.inventory_sources.host_ranges import expand_host_entry

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_LINE = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_MAX_LITERAL = 10_000
_NAMED_LITERALS = frozenset({"True", "False", "None"})


def ini_value(text: str) -> object:
    """An INI value typed as Ansible types it: a Python literal if it is one, else the text.

    >>> ini_value("2222"), ini_value("True"), ini_value("yes"), ini_value("'kolla'"), ini_value("10.0.0.12")
    (2222, True, 'yes', 'kolla', '10.0.0.12')
    >>> ini_value("[1, 2]"), ini_value("1+2j"), ini_value("...")
    ([1, 2], '1+2j', '...')
    """
    if len(text) > _MAX_LITERAL or not text:
        return text
    if text[0].isalpha() and text not in _NAMED_LITERALS and not any(q in text for q in "'\""):
        return text  # a name or word, not a literal: skip the parser (the common case, and 50x faster)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if value is Ellipsis or isinstance(value, complex):
        return text
    return _plain(value)


def _plain(value: object) -> object:
    """Tuples and sets become lists (what the YAML and JSON readers give too)."""
    if isinstance(value, (tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def split_host_line(line: str) -> list[str]:
    """A host line's words, split like a shell line (``#`` starts a comment).

    Without quotes, backslashes or ``#`` that is plain whitespace splitting,
    taken directly (``shlex`` costs a millisecond a line on a big inventory).

    >>> split_host_line("compute02 ansible_host=10.0.0.12"), split_host_line("c1 a='x y' # note")
    (['compute02', 'ansible_host=10.0.0.12'], ['c1', 'a=x y'])
    """
    if not any(mark in line for mark in "'\"\\#"):
        return line.split()
    return shlex.split(line, comments=True)


class _IniReader:
    def __init__(self, builder: InventoryBuilder) -> None:
        self.builder = builder
        self.group = UNGROUPED
        self.state = "hosts"
        self.line_no = 0
        # group -> (line, state, parents) for groups named before they are declared
        self.pending: dict[str, tuple[int, str, list[str]]] = {}

    def fail(self, message: str) -> SourceError:
        return SourceError(f"{self.builder.shown}: line {self.line_no}: {message}")

    def section(self, match: re.Match[str]) -> None:
        group, state = match.group(1), match.group(2) or "hosts"
        if state not in ("hosts", "children", "vars"):
            raise self.fail(f"section [{group}:{state}] has an unknown type {state!r} (hosts, children or vars)")
        builder = self.builder
        if not builder.has_group(group):
            if state == "vars" and group not in self.pending:
                self.pending[group] = (self.line_no, "vars", [])
            builder.add_group(group)
        if group in self.pending and state != "vars":
            _, pending_state, parents = self.pending.pop(group)
            if pending_state == "children":
                for parent in parents:
                    builder.add_child(parent, group)
        self.group, self.state = group, state

    def host_line(self, line: str) -> None:
        try:
            words = split_host_line(line)
        except ValueError as exc:
            raise self.fail(f"cannot split host line: {exc}") from None
        if not words:
            return
        entry = words[0]
        if entry.endswith(":"):
            raise self.fail(f"host entry {entry!r} ends with ':' (a ':' is followed by a port number)")
        try:
            names, port = expand_host_entry(entry)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        variables: list[tuple[str, object]] = []
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep:
                raise self.fail(f"expected key=value after the host name, got {word[:100]!r}")
            variables.append((key, ini_value(value)))
        for name in names:
            self.builder.add_host(name, self.group, port)
            for key, typed in variables:
                self.builder.set_host_var(name, key, typed)

    def vars_line(self, line: str) -> None:
        key, sep, value = line.partition("=")
        if not sep:
            raise self.fail(f"expected key=value in [{self.group}:vars], got {line[:100]!r}")
        self.builder.set_group_var(self.group, key.strip(), ini_value(value.strip()))

    def child_line(self, line: str) -> None:
        match = _GROUP_LINE.match(line)
        if not match:
            raise self.fail(f"expected a group name in [{self.group}:children], got {line[:100]!r}")
        child = match.group(1)
        if self.builder.has_group(child):
            self.builder.add_child(self.group, child)
        elif child in self.pending:
            self.pending[child][2].append(self.group)
        else:
            self.pending[child] = (self.line_no, "children", [self.group])

    def read(self, text: str) -> None:
        for self.line_no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            match = _SECTION.match(line)
            if match:
                self.section(match)
            elif line.startswith("[") and line.endswith("]"):
                raise self.fail(f"invalid section {line[:100]!r}: no spaces or other characters inside [ ]")
            elif self.state == "hosts":
                self.host_line(line)
            elif self.state == "vars":
                self.vars_line(line)
            else:
                self.child_line(line)
        for group, (line_no, state, parents) in self.pending.items():
            self.line_no = line_no
            if state == "vars":
                raise self.fail(f"[{group}:vars] is for group {group!r}, which is never declared")
            raise self.fail(f"[{parents[-1]}:children] names group {group!r}, which is never declared")


def read_ini_inventory(text: str, builder: InventoryBuilder) -> None:
    """Add the groups, hosts and variables of an INI inventory to ``builder``.

    >>> b = InventoryBuilder("multinode")
    >>> read_ini_inventory('''
    ... [compute]
    ... compute01
    ... compute02 ansible_host=10.0.0.12 ansible_user=kolla ansible_port=2222
    ... [baremetal:children]
    ... compute
    ... [baremetal:vars]
    ... ansible_become = yes
    ... ''', b)
    >>> b.host_vars("compute02")
    {'ansible_host': '10.0.0.12', 'ansible_user': 'kolla', 'ansible_port': 2222}
    >>> read_ini_inventory("[compute:children]\\nrack1\\n", InventoryBuilder("bad"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory_sources.errors.SourceError: bad: line 2: [compute:children] names group 'rack1', \
which is never declared
    """
    _IniReader(builder).read(text)
