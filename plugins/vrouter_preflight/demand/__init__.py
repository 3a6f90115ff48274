"""What a kernel-mode vRouter reload needs from a node's memory. Pure: no I/O.

* :mod:`vrouter_preflight.demand.release`: release names and the two boundaries that
  matter (R1911 table layout, R2005 hugepage mode);
* :mod:`vrouter_preflight.demand.overrides`: the inventory's ``vrouter:`` block, each key
  declared once; :mod:`vrouter_preflight.demand.limits`: the plausible ranges of its figures;
* :mod:`vrouter_preflight.demand.settings`: table sizes and memory mode, from the
  inventory, the module parameters, the agent config and the defaults;
* :mod:`vrouter_preflight.demand.allocator`: ``get_order`` and ``vr_btable_alloc``'s
  4 MiB split, for any base page size;
* :mod:`vrouter_preflight.demand.reload`: every buddy request and hugepage a reload makes.

>>> from vrouter_preflight.demand import VrouterOverrides
>>> s = vrouter_settings(VrouterOverrides(release="R2011"), {"vr_flow_entries": "524288"})
>>> vrouter_demand(s, 4096).blocks_by_order()
{10: 44, 9: 2, 8: 1}
"""

from __future__ import annotations

from vrouter_preflight.demand.allocator import CHUNK_BYTES, BuddyRequest, btable_orders, btable_requests, get_order
from vrouter_preflight.demand.limits import (
    CONTIGUITY_MARGIN,
    MAX_TABLE_ENTRIES,
    OVERFLOW_ENTRIES,
    SPARE_BLOCKS,
    TABLE_ENTRIES,
)
from vrouter_preflight.demand.overrides import Deployment, HugepageMode, VrouterOverrides, hugepage_mode
from vrouter_preflight.demand.release import ACCEPTED_FORMS, R1911, R2005, ReleaseInfo, parse_release
from vrouter_preflight.demand.reload import VrouterDemand, vrouter_demand
from vrouter_preflight.demand.settings import (
    DEFAULT_BRIDGE_ENTRIES,
    DEFAULT_FLOW_ENTRIES,
    MODULE_PARAMETERS,
    VrouterSettings,
    auto_overflow,
    vrouter_settings,
)

__all__ = [
    "ACCEPTED_FORMS",
    "CHUNK_BYTES",
    "CONTIGUITY_MARGIN",
    "DEFAULT_BRIDGE_ENTRIES",
    "DEFAULT_FLOW_ENTRIES",
    "MAX_TABLE_ENTRIES",
    "MODULE_PARAMETERS",
    "OVERFLOW_ENTRIES",
    "R1911",
    "R2005",
    "SPARE_BLOCKS",
    "TABLE_ENTRIES",
    "BuddyRequest",
    "Deployment",
    "HugepageMode",
    "ReleaseInfo",
    "VrouterDemand",
    "VrouterOverrides",
    "VrouterSettings",
    "auto_overflow",
    "btable_orders",
    "btable_requests",
    "get_order",
    "hugepage_mode",
    "parse_release",
    "vrouter_demand",
    "vrouter_settings",
]
