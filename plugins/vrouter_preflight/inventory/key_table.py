"""The README's inventory key table, rendered from the keys' declarations.

``python -m vrouter_preflight.inventory.key_table`` prints it; a unit test
checks that the README's table is exactly this, so a key added, removed or
changed in its declaration is a failing test until the README says so.

>>> print(key_table()[:2][1])
|---|---|---|---|---|---|
>>> [row for row in key_table() if row.startswith("| `port`")]
['| `port` | host, groups, defaults | ssh | an integer from 1 to 65535 | unset | unset: `~/.ssh/config`, else 22 |']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from vrouter_preflight.inventory.host import HostSpec
from vrouter_preflight.inventory.load import TOP_LEVEL_KEYS
from vrouter_preflight.keys.spec import TOP_LEVEL, KeySpec, key_specs

HEADER = "| key | where | transports | value | default | meaning |"


def default_text(spec: KeySpec) -> str:
    """How a key's default is written in the table.

    >>> [default_text(spec) for spec in key_specs(HostSpec)[:3]]
    ['`ssh`', 'unset', 'unset']
    """
    value = spec.default
    if spec.sub_keys:
        return "see below"
    if value is None:
        return "—" if spec.where == TOP_LEVEL else "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if value == ():
        return "none"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _rows(specs: Sequence[KeySpec], parent: KeySpec | None = None) -> Iterator[str]:
    for spec in specs:
        owner = parent or spec
        name = f"{parent.name}.{spec.name}" if parent else spec.name
        transports = "—" if owner.where == TOP_LEVEL else owner.applies.label
        cells = (f"`{name}`", ", ".join(owner.where), transports, spec.check.expected, default_text(spec), spec.doc)
        yield "| " + " | ".join(_cell(cell) for cell in cells) + " |"
        yield from _rows(spec.sub_keys, spec)


def key_table() -> list[str]:
    """The table's lines: header, rule, then one row per key (sub-keys as ``vrouter.flow_entries``).

    >>> len(key_table()) > 40
    True
    """
    return [HEADER, "|---|---|---|---|---|---|", *_rows(TOP_LEVEL_KEYS), *_rows(key_specs(HostSpec))]


if __name__ == "__main__":
    print("\n".join(key_table()))
