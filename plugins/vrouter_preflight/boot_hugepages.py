"""Boot-time hugepages: what was asked for (inventory ``expect:`` or the command
line) and whether the kernel reserved it, node by node. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from vrouter_preflight.facts.cmdline import KernelCmdline
from vrouter_preflight.facts.hugepages import HugepagePools
from vrouter_preflight.facts.sizes import GIB_KIB, format_kib
from vrouter_preflight.inventory import BootExpectation, ExpectedPool


def describe_pool(pool: ExpectedPool) -> str:
    """A pool as an operator writes it.

    >>> describe_pool(ExpectedPool(1048576, total=340))
    '340 × 1G'
    >>> describe_pool(ExpectedPool(2048, per_node={0: 512, 1: 512}))
    '2M per node 0:512,1:512'
    """
    if pool.per_node is not None:
        nodes = ",".join(f"{node}:{count}" for node, count in sorted(pool.per_node.items()))
        return f"{format_kib(pool.size_kib)} per node {nodes}"
    return f"{pool.total} × {format_kib(pool.size_kib)}"


def cmdline_pools(cmdline: KernelCmdline, default_kib: int | None) -> tuple[ExpectedPool, ...]:
    """The pools the command line asks for (a bare ``hugepages=`` is of the default size).

    >>> from vrouter_preflight.facts.cmdline import parse_cmdline
    >>> cmdline_pools(parse_cmdline("default_hugepagesz=1GB hugepagesz=1G hugepages=340"), None)
    (ExpectedPool(size_kib=1048576, total=340, per_node=None),)
    """
    pools = []
    for request in cmdline.hugepage_requests():
        size = request.size_kib if request.size_kib is not None else default_kib
        if size is None or request.count is None:
            continue
        if request.per_node is not None:
            pools.append(ExpectedPool(size, per_node=dict(request.per_node)))
        else:
            pools.append(ExpectedPool(size, total=request.count))
    return tuple(pools)


def expected_pools(
    expectation: BootExpectation | None, cmdline: KernelCmdline, default_kib: int | None
) -> tuple[ExpectedPool, ...]:
    """The pools to verify: the inventory's when it names any, else the command line's.

    >>> from vrouter_preflight.facts.cmdline import parse_cmdline
    >>> expected_pools(None, parse_cmdline("quiet"), 2048)
    ()
    """
    if expectation is not None and expectation.pools:
        return expectation.pools
    return cmdline_pools(cmdline, default_kib)


def compare_with_expectation(
    expectation: BootExpectation | None, cmdline: KernelCmdline, meminfo_default_kib: int | None
) -> list[str]:
    """Where the command line differs from the inventory's ``expect:`` (empty when it matches).

    >>> from vrouter_preflight.facts.cmdline import parse_cmdline
    >>> want = BootExpectation(1048576, (ExpectedPool(1048576, total=340),))
    >>> for problem in compare_with_expectation(want, parse_cmdline("hugepagesz=1G hugepages=300"), 2048):
    ...     print(problem)
    default_hugepagesz is 2M (command line: not set), inventory expects 1G
    the command line asks for 300 × 1G, the inventory expects 340 × 1G
    """
    if expectation is None:
        return []
    problems = []
    cmdline_default = cmdline.default_hugepagesz_kib()
    if expectation.default_hugepagesz_kib is not None:
        actual = cmdline_default or meminfo_default_kib
        if actual != expectation.default_hugepagesz_kib:
            shown = format_kib(actual) if actual else "unknown"
            given = format_kib(cmdline_default) if cmdline_default else "not set"
            problems.append(
                f"default_hugepagesz is {shown} (command line: {given}), "
                f"inventory expects {format_kib(expectation.default_hugepagesz_kib)}"
            )
    asked = {pool.size_kib: pool for pool in cmdline_pools(cmdline, cmdline_default or meminfo_default_kib)}
    for want in expectation.pools:
        got = asked.get(want.size_kib)
        if got is None:
            problems.append(
                f"the command line has no hugepagesz={format_kib(want.size_kib)} hugepages=… "
                f"(inventory expects {describe_pool(want)})"
            )
        elif _counts(got) != _counts(want):
            problems.append(
                f"the command line asks for {describe_pool(got)}, the inventory expects {describe_pool(want)}"
            )
    return problems


def _counts(pool: ExpectedPool) -> object:
    return dict(pool.per_node) if pool.per_node is not None else pool.total


def even_shares(total: int, nodes: Sequence[int]) -> dict[int, int]:
    """How the kernel spreads a boot-time total over the nodes: evenly, lowest nodes take the rest.

    >>> even_shares(341, [0, 1])
    {0: 171, 1: 170}
    """
    if not nodes:
        return {}
    base, extra = divmod(total, len(nodes))
    return {node: base + (1 if index < extra else 0) for index, node in enumerate(sorted(nodes))}


def reservation_shortfalls(
    pools: Sequence[ExpectedPool],
    hugepages: HugepagePools,
    nodes: Sequence[int],
    cpu_flags: frozenset[str] | None,
) -> list[str]:
    """Pools the kernel holds fewer pages of than asked, with the pages missing per node.

    ``nr_hugepages`` is read now: a pool changed at runtime since boot shows
    here too.

    >>> from vrouter_preflight.facts.hugepages import HugepagePool, HugepagePools
    >>> pools = HugepagePools((HugepagePool(GIB_KIB, None, 338, 28, 0), HugepagePool(GIB_KIB, 0, 170, 14, 0),
    ...                        HugepagePool(GIB_KIB, 1, 168, 14, 0)))
    >>> reservation_shortfalls([ExpectedPool(GIB_KIB, total=340)], pools, [0, 1], None)
    ['1G: 338 of 340 reserved, 2 missing on node 1 (168 of 170)']
    """
    problems = []
    for want in pools:
        size = format_kib(want.size_kib)
        held = hugepages.global_pool(want.size_kib)
        if held is None or held.nr is None:
            reason = ""
            if want.size_kib == GIB_KIB and cpu_flags is not None and "pdpe1gb" not in cpu_flags:
                reason = " (the CPU lacks pdpe1gb: no 1G pages on this hardware)"
            problems.append(f"the kernel has no {size} hugepage pool{reason}: {describe_pool(want)} asked for")
            continue
        per_node = dict(want.per_node) if want.per_node is not None else even_shares(want.total or 0, nodes)
        total = sum(per_node.values()) if want.per_node is not None else (want.total or 0)
        short = []
        for node, count in sorted(per_node.items()):
            pool = hugepages.node_pool(node, want.size_kib)
            have = pool.nr if pool is not None and pool.nr is not None else 0
            if have < count:
                short.append(f"{count - have} missing on node {node} ({have} of {count})")
        if held.nr < total or (want.per_node is not None and short):
            detail = ", ".join(short) if short else "spread over the nodes"
            problems.append(f"{size}: {held.nr} of {total} reserved, {detail}")
    return problems
