"""Reading the inventory file: bounded in size and depth, strict about duplicates, one message per problem.

* At most :data:`MAX_INVENTORY_BYTES` are read (a fleet of 10,000 hosts
  takes about 0.5 MiB); a larger file, ``/dev/zero`` included, is refused
  before parsing.
* Nesting deeper than :data:`MAX_DEPTH` (an inventory needs 5) is refused
  with its line, instead of exhausting Python's recursion.
* Merge keys may not build a mapping of more than
  :data:`~vrouter_preflight.inventory_sources.yaml_text.MAX_MERGED_PAIRS` entries.
* A key given twice is an error (PyYAML would keep the last one).
* A value YAML cannot build (an integer of 5,000 digits, a date like
  ``2001-13-45``) is an error with its line.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "deep.yaml"
>>> _ = path.write_text("hosts:\\n" + "".join(" " * level + "- \\n" for level in range(1, 200)))
>>> read_yaml(path, "deep.yaml")
Traceback (most recent call last):
...
vrouter_preflight.errors.InventoryError: deep.yaml: line 64, column 64: invalid YAML: nested deeper than 64 levels
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.source_files import read_text
from vrouter_preflight.inventory_sources.yaml_text import BoundedMerges
from vrouter_preflight.keys.checks import shown

MAX_INVENTORY_BYTES = 4 << 20
"""4 MiB: some 80,000 one-line host entries (10,000 take 0.5 MiB); that much parses in a few seconds."""
MAX_DEPTH = 64


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _StrictRules(Composer, BoundedMerges, Resolver):
    """The composing and constructing half of a loader: duplicates refused, nesting and merges bounded.

    It remembers the chain of keys above the mapping being composed so the
    message can say "host 'compute-0' is defined twice". The events come from
    libyaml when PyYAML has it (five times faster), else from PyYAML's own parser.
    """

    def __init__(self) -> None:
        Composer.__init__(self)
        BoundedMerges.__init__(self)
        Resolver.__init__(self)
        self._key_path: list[object] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if len(self._key_path) >= MAX_DEPTH:
            mark = parent.start_mark if parent is not None else None
            raise _TooDeep(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=mark)
        self._key_path.append(index.value if isinstance(index, ScalarNode) else None)
        try:
            return super().compose_node(parent, index)
        finally:
            self._key_path.pop()

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], ScalarNode] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key_node.tag, key_node.value), key_node)
            if first is not key_node:
                raise _DuplicateKey(self._key_path[1:], key_node.value, first, key_node)
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            reason = str(exc).split(":")[0][:80]
            raise ConstructorError(None, None, f"cannot read this value ({reason})", node.start_mark) from None


class _PythonLoader(_StrictRules, Reader, Scanner, Parser):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictRules.__init__(self)


_LOADERS: list[Callable[[str], _StrictRules]] = [_PythonLoader]
"""Loader classes, preferred first: libyaml's parser when PyYAML was built with it."""

try:
    from yaml._yaml import CParser

    class _LibyamlLoader(_StrictRules, CParser):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _StrictRules.__init__(self)

    _LOADERS.insert(0, _LibyamlLoader)
except ImportError:  # PyYAML built without libyaml: PyYAML's own parser, five times slower
    pass


class _DuplicateKey(Exception):
    def __init__(self, path: list[object], key: str, first: Node, again: Node) -> None:
        lines = f"lines {first.start_mark.line + 1} and {again.start_mark.line + 1}"
        names = [str(part) for part in path[1:]]
        if path == ["hosts"]:
            text = f"host {shown(key)} is defined twice ({lines}); each host name must be unique"
        elif len(path) >= 2 and path[0] == "hosts" and None not in path:
            name = ".".join([*names[1:], key])  # a sub-key: 'vrouter.flow_entries'
            text = f"host {shown(str(path[1]))}: key {shown(name)} is given twice ({lines})"
        elif path and path[0] == "defaults" and None not in path:
            text = f"defaults: key {shown('.'.join([*names, key]))} is given twice ({lines})"
        else:
            text = f"key {shown(key)} is given twice ({lines})"
        super().__init__(text)


def _read_text(path: Path, shown_path: str) -> str:
    try:
        return read_text(
            path,
            shown_path,
            limit=MAX_INVENTORY_BYTES,
            too_large="an inventory of 10,000 hosts takes about 0.5",
        )
    except SourceError as exc:
        raise InventoryError(str(exc)) from None


def read_yaml(path: Path, shown_path: str) -> object:
    """The YAML document at ``path``; any problem is one :class:`InventoryError` starting with ``shown_path``.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "inv.yaml"
    >>> _ = path.write_text("hosts:\\n  c0:\\n  c0:\\n")
    >>> read_yaml(path, "inv.yaml")
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: inv.yaml: host 'c0' is defined twice (lines 2 and 3); each host \
name must be unique
    """
    loader = _LOADERS[0](_read_text(path, shown_path))
    collecting = gc.isenabled()
    gc.disable()  # a document makes no cycles worth collecting; collections while it grows cost more than the parse
    try:
        return loader.get_single_data()
    except _DuplicateKey as exc:
        raise InventoryError(f"{shown_path}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InventoryError(f"{shown_path}: {where}invalid YAML: {what}{context}") from None
    except yaml.YAMLError as exc:
        first_line = str(exc).strip().splitlines()[:1] or ["unknown error"]
        raise InventoryError(f"{shown_path}: invalid YAML: {first_line[0][:200]}") from None
    finally:
        if collecting:
            gc.enable()
