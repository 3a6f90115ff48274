"""Will the reload find its contiguous blocks? Zone supplies, the atomic floor, the replay, the 1G remedy.

Pure functions over parsed facts (no I/O). ``supply`` turns buddyinfo and
zoneinfo into per-zone supplies with the kernel's ``GFP_ATOMIC`` floor,
``simulate`` replays vRouter's buddy requests against them, ``remedy`` plans
the field workaround (free 1G hugepages on one node).

>>> supplies = [ZoneSupply(0, "Normal", (0,) * 10 + (3,), 10_000, 4_312)]
>>> simulate_reload({10: 44, 9: 2, 8: 1}, supplies).fits
False
"""

from vrouter_preflight.contiguity.remedy import (
    FULL_BLOCKS_PER_1G_4K,
    MEASURED_BLOCKS_PER_1G_4K,
    PLANNING_BLOCKS_PER_1G_4K,
    Remedy,
    describe_remedies,
    freed_1g_blocks,
    plan_freeing_1g,
    remedies_by_freeing_1g,
    with_freed_1g,
)
from vrouter_preflight.contiguity.simulate import (
    ReloadSimulation,
    ZoneOutcome,
    count_usable_blocks,
    simulate_reload,
)
from vrouter_preflight.contiguity.supply import (
    ATOMIC_ZONELIST,
    ZoneSupply,
    atomic_floor,
    normal_protection_index,
    protection_against_normal,
    zone_supplies,
    zoneinfo_used,
)

__all__ = [
    "ATOMIC_ZONELIST",
    "FULL_BLOCKS_PER_1G_4K",
    "MEASURED_BLOCKS_PER_1G_4K",
    "PLANNING_BLOCKS_PER_1G_4K",
    "ReloadSimulation",
    "Remedy",
    "ZoneOutcome",
    "ZoneSupply",
    "atomic_floor",
    "count_usable_blocks",
    "describe_remedies",
    "freed_1g_blocks",
    "normal_protection_index",
    "plan_freeing_1g",
    "protection_against_normal",
    "remedies_by_freeing_1g",
    "simulate_reload",
    "with_freed_1g",
    "zone_supplies",
    "zoneinfo_used",
]
