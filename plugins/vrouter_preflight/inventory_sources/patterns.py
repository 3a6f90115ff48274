"""Host patterns as Ansible's ``--limit`` reads them, over any inventory with groups.

A pattern is a list of terms separated by ``,`` (or by ``:`` when there is no
comma, Ansible's older form): ``compute,network``, ``compute:!compute02``,
``rack1:&dpdk``. Each term is

* ``all`` or ``*``: every host;
* a group name: the group's hosts and its child groups' hosts;
* a host name;
* a shell wildcard (``compute*``, ``c?mpute0[12]``) matched against group
  names (each matching group gives its hosts) and host names;
* ``~REGEX`` (Python syntax, matched from the start of the name);
* any of those followed by ``[i]``, ``[i:j]`` or ``[i:]`` to take part of the
  matched hosts (inclusive, from 0; a group's own hosts first, then its child
  groups' in declared order).

As in Ansible, the plain terms are united first (in the order given), then
the ``&`` terms intersect, then the ``!`` terms are taken away; with only
``&``/``!`` terms the start is ``all``. Unlike Ansible, which only warns,
a term that matches nothing is an error (a typo must not silently leave a
compute unchecked), and so is a pattern that leaves no host.

The same function serves the suite's own inventories: their ``groups``
labels are groups without children (:func:`universe_from_labels`).
"""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from vrouter_preflight.inventory_sources.errors import PatternError
from vrouter_preflight.inventory_sources.graph import ALL, UNGROUPED
from vrouter_preflight.inventory_sources.host_ranges import split_port
from vrouter_preflight.inventory_sources.model import OperatorInventory

_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
_COLON_TERMS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_MAX_PATTERN = 10_000


@dataclass(frozen=True)
class PatternUniverse:
    """What a pattern is matched against: host names in order, each group's hosts (children included).

    >>> PatternUniverse(hosts=("c1",), group_hosts={"all": ("c1",)}).hosts
    ('c1',)
    """

    hosts: tuple[str, ...]
    group_hosts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


def universe_of(inventory: OperatorInventory) -> PatternUniverse:
    """The pattern universe of an operator's inventory (a group's hosts: its own, then its children's).

    >>> from vrouter_preflight.inventory_sources.model import InventoryGroup
    >>> inv = OperatorInventory(("x",), "ansible-yaml", hosts={"c1": None, "c2": None},
    ...     groups={"all": InventoryGroup("all", children=("rack",)),
    ...             "rack": InventoryGroup("rack", hosts=("c2",), children=("compute",)),
    ...             "compute": InventoryGroup("compute", hosts=("c1", "c2"))})  # type: ignore[dict-item]
    >>> universe_of(inv).group_hosts["rack"]
    ('c2', 'c1')
    """
    memo: dict[str, tuple[str, ...]] = {}
    groups = inventory.groups
    for name in groups:
        ordered: dict[str, None] = {}
        seen = {name}
        queue = [name]
        while queue:
            group = queue.pop(0)
            ordered.update(dict.fromkeys(groups[group].hosts))
            for child in groups[group].children:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        memo[name] = tuple(ordered)
    hosts = tuple(inventory.hosts)
    memo[ALL] = hosts
    return PatternUniverse(hosts=hosts, group_hosts=MappingProxyType(memo))


def universe_from_labels(hosts: Iterable[tuple[str, Sequence[str]]]) -> PatternUniverse:
    """The pattern universe of the suite's own inventory: ``(host name, its groups labels)`` pairs.

    >>> u = universe_from_labels([("c1", ["compute"]), ("c2", ["compute", "rack2"]), ("s1", [])])
    >>> dict(u.group_hosts)
    {'compute': ('c1', 'c2'), 'rack2': ('c2',), 'ungrouped': ('s1',), 'all': ('c1', 'c2', 's1')}
    """
    names: list[str] = []
    groups: dict[str, dict[str, None]] = {}
    for name, labels in hosts:
        names.append(name)
        for label in labels or [UNGROUPED]:
            groups.setdefault(label, {})[name] = None
    result = {group: tuple(members) for group, members in groups.items()}
    result[ALL] = tuple(names)
    return PatternUniverse(hosts=tuple(names), group_hosts=MappingProxyType(result))


def split_pattern(pattern: str) -> list[str]:
    """The terms of a pattern, split at commas, else at colons outside ``[...]`` (Ansible's rule).

    >>> split_pattern("compute:!compute02"), split_pattern("a, b[1], c[2:3]"), split_pattern("fe80::1")
    (['compute', '!compute02'], ['a', 'b[1]', 'c[2:3]'], ['fe80::1'])
    """
    if "," in pattern:
        terms = pattern.split(",")
    elif split_port(pattern)[1] is not None or _looks_like_address(pattern):
        terms = [pattern]
    else:
        terms = _COLON_TERMS.findall(pattern)
    return [term.strip() for term in terms if term.strip()]


def _looks_like_address(pattern: str) -> bool:
    try:
        ipaddress.IPv6Address(pattern)
    except ValueError:
        return False
    return True


def _subscript(term: str) -> tuple[str, tuple[int, int | None] | None]:
    if term.startswith("~"):
        return term, None
    match = _SUBSCRIPT.match(term)
    if not match:
        return term, None
    base, index, start, _, end = match.groups()
    if index is not None:
        return base, (int(index), None)
    return base, (int(start), int(end) if end else -1)


def _matcher(expression: str, raw: str) -> re.Pattern[str]:
    try:
        if expression.startswith("~"):
            return re.compile(expression[1:])
        return re.compile(fnmatch.translate(expression))
    except re.error as exc:
        raise PatternError(f"--limit {raw!r}: {expression!r} is not a valid pattern ({exc})") from None


def _matches(expression: str, universe: PatternUniverse, raw: str) -> list[str]:
    """Hosts of one term without its ``&``/``!`` prefix and subscript, in Ansible's order."""
    regex = _matcher(expression, raw)
    found: dict[str, None] = {}
    groups = [name for name in universe.group_hosts if regex.match(name)]
    for group in groups:
        found.update(dict.fromkeys(universe.group_hosts[group]))
    if not groups or expression.startswith("~") or any(ch in expression for ch in ".?*["):
        found.update(dict.fromkeys(host for host in universe.hosts if regex.match(host)))
    return list(found)


def _term_hosts(term: str, universe: PatternUniverse, raw: str) -> list[str]:
    try:
        expression, subscript = _subscript(term)
    except ValueError:  # more digits than Python converts (4,300)
        raise PatternError(f"--limit {raw[:80]!r}: {term[:80]!r} has a subscript that is not a host number") from None
    if expression == "*":
        expression = ALL
    hosts = list(universe.group_hosts.get(ALL, universe.hosts)) if expression == ALL else []
    if not hosts:
        hosts = _matches(expression, universe, raw)
    if not hosts:
        known = [*universe.group_hosts, *universe.hosts]
        close = difflib.get_close_matches(expression, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PatternError(f"--limit {raw!r}: no group or host matches {term!r}{hint}")
    if subscript is None:
        return hosts
    start, end = subscript
    try:
        if end is None:
            return [hosts[start]]
        return hosts[start : (len(hosts) - 1 if end == -1 else end) + 1]
    except IndexError:
        raise PatternError(
            f"--limit {raw!r}: {term!r} asks for host {start} of {len(hosts)} (counted from 0)"
        ) from None


def select_hosts(pattern: str, universe: PatternUniverse) -> tuple[str, ...]:
    """The host names ``pattern`` selects, in inventory order; :class:`PatternError` if none or a term is unknown.

    >>> u = universe_from_labels([("compute01", ["compute"]), ("compute02", ["compute", "dpdk"]),
    ...                           ("net01", ["network"])])
    >>> select_hosts("compute:!compute02", u), select_hosts("all:&dpdk", u), select_hosts("~net.*,compute01", u)
    (('compute01',), ('compute02',), ('compute01', 'net01'))
    >>> select_hosts("comptue", u)
    Traceback (most recent call last):
    ...
    vrouter_preflight.inventory_sources.errors.PatternError: --limit 'comptue': no group or host matches \
'comptue'; did you mean 'compute'?
    """
    if not pattern.strip() or len(pattern) > _MAX_PATTERN:
        raise PatternError(f"--limit {pattern[:100]!r}: an empty or oversized pattern selects nothing")
    terms = split_pattern(pattern)
    plain = [t for t in terms if not t.startswith(("&", "!"))] or [ALL]
    ordered = plain + [t for t in terms if t.startswith("&")] + [t for t in terms if t.startswith("!")]
    known_hosts = set(universe.hosts)
    chosen: dict[str, None] = {}
    for term in ordered:
        if term.startswith("!"):
            for host in _term_hosts(term[1:], universe, pattern):
                chosen.pop(host, None)
        elif term.startswith("&"):
            keep = set(_term_hosts(term[1:], universe, pattern))
            chosen = {host: None for host in chosen if host in keep}
        elif term in known_hosts:
            chosen[term] = None  # an exact host name first, as Ansible
        else:
            chosen.update(dict.fromkeys(_term_hosts(term, universe, pattern)))
    if not chosen:
        raise PatternError(f"--limit {pattern!r} leaves no host to check")
    return tuple(host for host in universe.hosts if host in chosen)
