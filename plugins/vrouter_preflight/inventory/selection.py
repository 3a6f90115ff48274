"""Which hosts of an inventory a run checks: ``--limit`` (Ansible's host patterns), then ``--hosts``.

``--limit PATTERN`` reads the pattern as Ansible does (groups, host names,
wildcards, ``a:b``, ``a:&b``, ``a:!b``, comma lists; see
:mod:`~vrouter_preflight.inventory_sources.patterns`) over the Ansible groups of an
operator's inventory and over the ``groups`` labels of the suite's own hosts; a term
that matches nothing, or a pattern that leaves no host, is a usage error. ``--hosts``
keeps its meaning (exact names, each of which must exist); with both, a host is
checked when both select it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence

from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory.host import MAX_NAME, HostSpec
from vrouter_preflight.inventory_sources import PatternUniverse, select_hosts
from vrouter_preflight.keys.checks import shown

_LISTED = 50


def hosts_option_names(only_hosts: Sequence[str], known: Sequence[str], source: str) -> set[str]:
    """The names ``--hosts`` gives (each item may hold several, comma-separated); each must be a known host.

    >>> sorted(hosts_option_names(["c1,c2"], ["c1", "c2", "c3"], "inv.yaml"))
    ['c1', 'c2']
    >>> hosts_option_names(["compute-4"], ["compute-1", "c2"], "inv.yaml")
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: inv.yaml: --hosts names unknown host 'compute-4' (did you mean \
'compute-1'?); known hosts: compute-1, c2
    """
    wanted = [part.strip() for item in only_hosts for part in item.split(",") if part.strip()]
    if not wanted:
        raise InventoryError(f"{source}: --hosts selects no host")
    known_set = set(known)
    unknown = [name for name in wanted if name not in known_set]
    if unknown:
        hints = [
            f"{shown(name)} (did you mean {close[0]!r}?)" if close else shown(name)
            for name in unknown[:10]
            for close in [difflib.get_close_matches(name[:MAX_NAME], known, n=1)]
        ]
        more = f" and {len(known) - _LISTED} more" if len(known) > _LISTED else ""
        listed = ", ".join(known[:_LISTED]) + more
        raise InventoryError(f"{source}: --hosts names unknown host {', '.join(hints)}; known hosts: {listed}")
    return set(wanted)


def select_inventory_hosts(
    names: Sequence[str],
    specs: Mapping[str, HostSpec],
    universe: Callable[[], PatternUniverse],
    *,
    source: str,
    only_hosts: Sequence[str] | None = None,
    limit: str | None = None,
    unsafe: Mapping[str, str] | None = None,
) -> tuple[HostSpec, ...]:
    """The hosts ``--limit`` and ``--hosts`` select, in inventory order.

    ``names`` are every host of the inventory in order, ``specs`` their specs;
    ``universe`` builds what ``--limit`` is matched against (only when it is given);
    a selected name in ``unsafe`` (no spec) is an error saying why.

    >>> from vrouter_preflight.inventory_sources import universe_from_labels
    >>> specs = {n: HostSpec(name=n, groups=g) for n, g in (("c1", ("compute",)), ("c2", ("compute", "dpdk")))}
    >>> def universe() -> PatternUniverse:
    ...     return universe_from_labels((s.name, s.groups) for s in specs.values())
    >>> [s.name for s in select_inventory_hosts(list(specs), specs, universe, source="i", limit="compute:!dpdk")]
    ['c1']
    >>> select_inventory_hosts(list(specs), specs, universe, source="i", limit="dpdk", only_hosts=["c1"])
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.InventoryError: i: --hosts c1 and --limit 'dpdk' have no host in common
    """
    chosen = set(names)
    if limit is not None:
        chosen = set(select_hosts(limit, universe()))
    if only_hosts is not None:
        wanted = hosts_option_names(only_hosts, names, source)
        chosen &= wanted
        if not chosen:
            raise InventoryError(
                f"{source}: --hosts {','.join(sorted(wanted))[:200]} and --limit {limit!r:.200} have no host in common"
            )
    refused = [name for name in names if name in chosen and name in (unsafe or {})]
    if refused:
        first = refused[0]
        # A name of thousands of characters is left out by its start (the whole name made the message as long).
        left_out = first if len(first) <= 80 else first[:60] + "*"
        raise InventoryError(
            f"{source}: host {shown(first)}: {(unsafe or {})[first]}; leave it out with --limit 'all,!{left_out}'"
            + (f" ({len(refused) - 1} more such hosts)" if len(refused) > 1 else "")
        )
    return tuple(specs[name] for name in names if name in chosen)
