"""The inventory's ``trial:`` and ``remediation:`` blocks: what the live stages may try and do.

>>> from vrouter_preflight.keys.spec import Section
>>> Section(TrialPlan, "trial settings")({"nodes": [0, 1, 1], "sizes": ["1G", "2MB"]})
TrialPlan(nodes=(0, 1), sizes_kib=(1048576, 2048))
"""

from __future__ import annotations

from dataclasses import dataclass

from vrouter_preflight.demand import hugepage_mode
from vrouter_preflight.inventory.boot import MAX_NODE, NUMA_NODE
from vrouter_preflight.keys.checks import Flag, Invalid, Rule, list_of
from vrouter_preflight.keys.spec import key

_TRIAL_SIZES_KIB = {"1G": 1048576, "2M": 2048}


def _trial_nodes(value: object) -> tuple[int, ...]:
    items = list_of(value, "NUMA node numbers", "[0, 1]", empty_allowed=False)
    return tuple(dict.fromkeys(NUMA_NODE(item) for item in items))


def _trial_size(value: object) -> int:
    mode = hugepage_mode(value)
    if mode == "none":
        raise Invalid("expected 1G or 2M, got 'none'")
    return _TRIAL_SIZES_KIB[mode]


def _trial_sizes(value: object) -> tuple[int, ...]:
    items = list_of(value, "page sizes", "[1G, 2M]", empty_allowed=False)
    return tuple(dict.fromkeys(_trial_size(item) for item in items))


@dataclass(frozen=True)
class TrialPlan:
    """The inventory's ``trial:`` block: where and with which page sizes to try the allocation.

    Empty ``nodes``: one trial for the host, wherever the kernel places the
    pages; empty ``sizes_kib``: the page size vRouter is configured with.

    >>> TrialPlan(nodes=(0, 1)).sizes_kib
    ()
    """

    nodes: tuple[int, ...] = key(
        (),
        Rule(f"a non-empty list of NUMA node numbers (0 to {MAX_NODE})", _trial_nodes),
        "one trial per NUMA node listed (unset: one per host, wherever the kernel puts it)",
    )
    sizes_kib: tuple[int, ...] = key(
        (),
        Rule("a non-empty list of 1G and 2M", _trial_sizes),
        "page sizes to try (unset: the one vRouter is configured with)",
        name="sizes",
    )


@dataclass(frozen=True)
class RemediationSteps:
    """The inventory's ``remediation:`` block: which memory steps the destructive stage may take.

    >>> RemediationSteps().compact_memory
    True
    """

    sync: bool = key(True, Flag(), "destructive stage: `sync` (write dirty pages so drop_caches can free them)")
    drop_caches: bool = key(
        True, Flag(), "destructive stage: `echo 3 > /proc/sys/vm/drop_caches` (page cache and reclaimable slab)"
    )
    compact_memory: bool = key(
        True, Flag(), "destructive stage: `echo 1 > /proc/sys/vm/compact_memory` (every zone into high-order blocks)"
    )
