"""Will a vRouter reload find the physically contiguous memory its tables need?

Check id: ``contiguous_blocks``.
"""

from __future__ import annotations

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.contiguity import ZoneSupply, describe_remedies, plan_freeing_1g, simulate_reload
from vrouter_preflight.demand import VrouterDemand
from vrouter_preflight.fleet import HostUnderTest
from vrouter_preflight.wiring.check_inputs import free_1g_by_node
from vrouter_preflight.wiring.items import check
from vrouter_preflight.wiring.verdict import Verdict
from vrouter_preflight.wording import format_blocks

#: Said when /proc/pagetypeinfo was not read (absent, or unreadable without root): the replay then takes no
#: free block to be on the Unmovable lists, so a small part splits a 4 MiB block (the kernel's fallback).
UNMOVABLE_UNKNOWN = "Unmovable lists unknown: worst case assumed; `become: sudo` reads them"


@check(CheckId.CONTIGUOUS_BLOCKS)
def test_contiguous_blocks(
    host: HostUnderTest, kernel_vrouter: None, demand: VrouterDemand, supplies: tuple[ZoneSupply, ...], verdict: Verdict
) -> None:
    """Every buddy request of a reload (× contiguity_margin, + contiguity_spare_blocks) finds a block
    GFP_ATOMIC would really get.

    Requests are replayed smallest first, each taking the largest free block
    (the kernel's fallback for an unmovable request), against the free blocks
    of each zone, honouring each zone's atomic floor (3/8 of ``min`` plus,
    below Normal, ``protection[Normal]``). Without /proc/zoneinfo only Normal
    zones count. On failure the message names the shortfall and how many free
    1G pages to release on which node. Without a readable /proc/pagetypeinfo
    no free block is known to be Unmovable, so each small part is taken to
    split a larger block (the worst case), and the message says so.
    """
    requests = demand.blocks_with_margin()
    simulation = simulate_reload(requests, supplies, page_size=demand.page_size)
    verdict.attach_table(
        "free blocks per zone",
        ["node", "zone", *(f"o{order}" for order in range(len(supplies[0].free_blocks)))] if supplies else ["node"],
        [[s.node, s.zone, *s.free_blocks] for s in supplies],
    )
    mode = "hugepage mode, residual requests" if demand.settings.hugepage_mode else "buddy mode"
    if demand.spare_blocks:
        mode += f"; {demand.spare_blocks} spare order-{demand.chunk_order} included"
    unknown = f"; {UNMOVABLE_UNKNOWN}" if host.facts.text("/proc/pagetypeinfo") is None else ""
    if simulation.fits:
        verdict.conclude(True, f"contiguous memory fits a reload: {format_blocks(requests)} ({mode}){unknown}")
        return
    plan = plan_freeing_1g(requests, supplies, free_1g_by_node(host.facts.hugepages), page_size=demand.page_size)
    headline, *zones = simulation.describe().splitlines()
    verdict.conclude(
        False,
        f"not enough contiguous memory for a reload ({mode}): {headline}{unknown}; to fix: {describe_remedies(plan)}"
        f"; per zone: {'; '.join(zone.strip() for zone in zones)}",
    )
