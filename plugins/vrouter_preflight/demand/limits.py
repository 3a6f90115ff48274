"""The plausible ranges of the demand model's inputs, declared once.

The inventory's ``vrouter:`` keys check against them at load; the module
parameters a target reports (``/sys/module/vrouter/parameters/*``) are checked
against the same ranges when the settings are resolved, so an implausible
fact costs that host an ERROR, never the run: with every table at its
maximum the demand is about 10,500 blocks of 4 MiB, and the replay's cost
follows the demand.

* Table sizes: vRouter's defaults are 512K flows, 256K bridge entries, 512K
  nexthops; the largest seen in the field is 8M flows. 64M entries (a 16 GiB
  flow table) is the bound.
* ``contiguity_margin``: 1.0 (none) to 10.0; ``contiguity_spare_blocks``: 0 to 1024
  (4 GiB of 4 MiB blocks).

>>> TABLE_ENTRIES.expected
'an integer from 1 to 67,108,864'
>>> OVERFLOW_ENTRIES(0), CONTIGUITY_MARGIN(1.5), SPARE_BLOCKS(2)
(0, 1.5, 2)
"""

from __future__ import annotations

from vrouter_preflight.keys.checks import IntRange, NumberRange

MAX_TABLE_ENTRIES = 1 << 26
"""64M entries: 128 times vRouter's default flow table, 8 times the largest seen in the field."""

TABLE_ENTRIES = IntRange(1, MAX_TABLE_ENTRIES)
"""A main table (flow, bridge) or the nexthop table: vRouter cannot create an empty one."""

OVERFLOW_ENTRIES = IntRange(0, MAX_TABLE_ENTRIES, zero="auto: 20% of the main table")
"""An overflow table; 0 asks vRouter for 20% of the main table, rounded up to 1K."""

CONTIGUITY_MARGIN = NumberRange(1.0, 10.0, "a number", hint=" (1.5 asks for 50% more free blocks)")
"""What every buddy request is multiplied by before the replay."""

SPARE_BLOCKS = IntRange(0, 1024, "a number of 4 MiB blocks")
"""Free 4 MiB blocks the gate wants beyond the demand."""
