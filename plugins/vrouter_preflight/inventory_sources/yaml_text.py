"""YAML as Ansible reads it: safe types, anchors and aliases, ``!vault`` and ``!unsafe`` tags.

``!unsafe`` marks a string Ansible must not template: it is kept as the plain
string. ``!vault`` is an inline vault-encrypted value: it becomes a
:class:`~vrouter_preflight.inventory_sources.hidden.VaultedValue` (the suite
cannot decrypt it; only a connection variable holding one is a problem, for
that host). A mapping key given twice keeps its last value, as in Ansible.
Merge keys (``<<``) may not build a mapping of more than :data:`MAX_MERGED_PAIRS`
entries (nested merges would grow exponentially), and a value YAML cannot
build (an integer of 5,000 digits) or nesting too deep for Python is one error.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.hidden import VaultedValue

VAULT_HEADER = "$ANSIBLE_VAULT;"
MAX_MERGED_PAIRS = 100_000
"""Entries a mapping may reach through merge keys (``<<: [*a, *a, …]`` nested would grow exponentially)."""

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedMerges(yaml.constructor.SafeConstructor):
    """A constructor whose merge keys cannot build a mapping of more than :data:`MAX_MERGED_PAIRS` entries.

    Nested merges are flattened from the inside out, each level checked in turn,
    so a merge bomb stops at the first level past the bound.
    """

    def flatten_mapping(self, node: MappingNode) -> None:
        super().flatten_mapping(node)
        if len(node.value) > MAX_MERGED_PAIRS:
            raise ConstructorError(
                None, None, f"merge keys make a mapping of more than {MAX_MERGED_PAIRS:,} entries", node.start_mark
            )


class _AnsibleYamlLoader(_Base, BoundedMerges):  # type: ignore[valid-type,misc]  # CSafeLoader when libyaml is there
    """SafeLoader plus Ansible's two tags, merges bounded."""

    def __init__(self, stream: str) -> None:
        _Base.__init__(self, stream)


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> VaultedValue:
    return VaultedValue(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_AnsibleYamlLoader.add_constructor("!vault", _vault)
_AnsibleYamlLoader.add_constructor("!unsafe", _unsafe)


def is_vault_file(text: str) -> bool:
    """Whether a whole file is vault-encrypted (only ``ansible-inventory`` with the vault password reads it).

    >>> is_vault_file("$ANSIBLE_VAULT;1.1;AES256\\n6338..."), is_vault_file("all: {}")
    (True, False)
    """
    return text.lstrip().startswith(VAULT_HEADER)


def load_yaml(text: str, shown: str) -> object:
    """The document in ``text``; a syntax error names ``shown`` with line and column.

    >>> load_yaml("a: &x [1, 2]\\nb: *x\\npw: !vault |\\n  $ANSIBLE_VAULT;1.1;AES256\\n  3838\\n", "inv.yml")
    {'a': [1, 2], 'b': [1, 2], 'pw': '<vaulted>'}
    >>> load_yaml("all:\\n  hosts: [a\\n", "inv.yml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory_sources.errors.SourceError: inv.yml: line 3, column 1: invalid YAML: ...
    """
    loader = _AnsibleYamlLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        context = f" ({exc.context})" if exc.context else ""
        raise SourceError(f"{shown}: {where}invalid YAML: {exc.problem or 'syntax error'}{context}") from None
    except yaml.YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["syntax error"])[0][:200]
        raise SourceError(f"{shown}: invalid YAML: {first}") from None
    except RecursionError:
        raise SourceError(f"{shown}: invalid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # a value YAML cannot build: 5,000 digits, month 13
        raise SourceError(f"{shown}: invalid YAML: cannot read a value ({str(exc).split(':')[0][:80]})") from None
    finally:
        loader.dispose()
