"""Pictures for the change-board report: free blocks per order and hugepage pools, per NUMA node.

Pure: plain numbers in, PNG bytes out (matplotlib's Agg canvas, no pyplot
and no global state, so it is safe in any process and thread). The same
inputs always give the same bytes (no timestamp in the file).

Who calls what: :mod:`vrouter_preflight.reporting.check_charts` turns a check's facts
into these inputs and the check's :class:`~vrouter_preflight.wiring.verdict.Verdict` attaches
the result; the host overview of ``make report`` draws from the JSON summary.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

#: Colours that stay apart for colour-blind readers (Okabe-Ito) and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BEFORE, AFTER, RESTORED = "#999999", "#0072B2", "#009E73"
NEED = "#D55E00"
DPI = 80


@dataclass(frozen=True)
class ZoneBlocks:
    """Free blocks per buddy order (index = order) of one zone of one NUMA node.

    >>> ZoneBlocks(0, "Normal", (5, 4, 3)).label
    'node 0 Normal'
    """

    node: int
    zone: str
    free_blocks: tuple[int, ...]

    @property
    def label(self) -> str:
        """The chart legend's name of the zone: ``node 0 Normal``."""
        return f"node {self.node} {self.zone}"


@dataclass(frozen=True)
class PoolCounts:
    """One hugepage pool of one NUMA node: ``total`` and ``free`` pages (None = not readable).

    >>> PoolCounts(1, "1G", 170, 14).node
    1
    """

    node: int
    size: str
    total: int | None
    free: int | None


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, without the timestamp or software tags that make bytes differ between runs.

    >>> png_bytes(Figure(figsize=(1, 1)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _count(value: float, _position: float) -> str:
    return f"{value:,.0f}" if value >= 1 else ""


def _log_counts(axes: Axes, top: int) -> None:
    """A log count axis from 0.8 (so 1 shows as a stub and 0 as nothing) with plain-number labels."""
    axes.set_yscale("log")
    axes.set_ylim(0.8, max(10.0, top * 2.0))
    axes.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
    axes.yaxis.set_minor_locator(NullLocator())
    axes.yaxis.set_major_formatter(FuncFormatter(_count))
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def _by_node(zones: Sequence[ZoneBlocks]) -> dict[int, list[ZoneBlocks]]:
    nodes: dict[int, list[ZoneBlocks]] = {}
    for zone in zones:
        nodes.setdefault(zone.node, []).append(zone)
    return dict(sorted(nodes.items()))


def _node_totals(zones: Sequence[ZoneBlocks]) -> dict[int, list[int]]:
    """Free blocks per order of each node, its zones added up."""
    totals: dict[int, list[int]] = {}
    for zone in zones:
        row = totals.setdefault(zone.node, [0] * len(zone.free_blocks))
        row.extend([0] * (len(zone.free_blocks) - len(row)))
        for order, count in enumerate(zone.free_blocks):
            row[order] += count
    return dict(sorted(totals.items()))


def _mark_need(axes: Axes, needed: Mapping[int, int], orders: int, width: float) -> None:
    for order, count in needed.items():
        if 0 <= order < orders and count > 0:
            axes.hlines(count, order - width, order + width, colors=NEED, linewidths=2.2, zorder=5)
            axes.annotate(
                f"needs {count:,}",
                (order, count),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=7,
                color=NEED,
            )


def _panels(count: int, height: float = 3.0) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(min(4.6 * count, 11.0) + 0.6, height), layout="constrained")
    axes = figure.subplots(1, count, squeeze=False)[0]
    return figure, list(axes)


def free_blocks_chart(zones: Sequence[ZoneBlocks], needed: Mapping[int, int] | None = None, *, title: str) -> bytes:
    """Free blocks per order, one panel per NUMA node, one bar per zone; what a reload needs in red.

    ``needed`` maps a buddy order to the blocks of that order a reload asks
    for (drawn as a red mark over the order). The count axis is logarithmic:
    low orders have hundreds of thousands of blocks, high orders a handful.

    >>> png = free_blocks_chart([ZoneBlocks(0, "Normal", (9, 3, 1)), ZoneBlocks(1, "Normal", (4, 0, 2))],
    ...                         {2: 5}, title="c0: free blocks")
    >>> png[:4]
    b'\\x89PNG'
    >>> free_blocks_chart([], title="x")
    Traceback (most recent call last):
    ...
    ValueError: no zones to draw
    """
    if not zones:
        raise ValueError("no zones to draw")
    nodes = _by_node(zones)
    figure, panels = _panels(len(nodes))
    top = max(max(zone.free_blocks, default=0) for zone in zones)
    for axes, (node, node_zones) in zip(panels, nodes.items()):
        orders = max(len(zone.free_blocks) for zone in node_zones)
        width = 0.8 / len(node_zones)
        for index, zone in enumerate(node_zones):
            offset = (index - (len(node_zones) - 1) / 2) * width
            axes.bar(
                [order + offset for order in range(len(zone.free_blocks))],
                zone.free_blocks,
                width=width,
                color=PALETTE[index % len(PALETTE)],
                label=zone.zone,
            )
        _style_order_axes(axes, needed or {}, orders, top, f"NUMA node {node}")
    panels[0].set_ylabel("free blocks", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return png_bytes(figure)


def free_blocks_before_after_chart(
    before: Sequence[ZoneBlocks],
    after: Sequence[ZoneBlocks],
    needed: Mapping[int, int] | None = None,
    *,
    title: str,
    after_label: str = "after",
) -> bytes:
    """Free blocks per order of each NUMA node (zones added up), before and after a change.

    >>> b = [ZoneBlocks(0, "Normal", (9, 3, 1))]
    >>> a = [ZoneBlocks(0, "Normal", (9, 3, 300))]
    >>> free_blocks_before_after_chart(b, a, {2: 44}, title="c0: remediation")[:4]
    b'\\x89PNG'
    """
    totals = {"before": _node_totals(before), after_label: _node_totals(after)}
    nodes = sorted(set(totals["before"]) | set(totals[after_label]))
    if not nodes:
        raise ValueError("no zones to draw")
    figure, panels = _panels(len(nodes))
    top = max((max(row, default=0) for stage in totals.values() for row in stage.values()), default=1)
    for axes, node in zip(panels, nodes):
        rows = [(label, colour, stage.get(node)) for (label, stage), colour in zip(totals.items(), (BEFORE, AFTER))]
        orders = max(len(row) for _, _, row in rows if row is not None)
        for index, (label, colour, row) in enumerate(rows):
            if row is None:
                continue
            axes.bar([o + (index - 0.5) * 0.4 for o in range(len(row))], row, width=0.4, color=colour, label=label)
        _style_order_axes(axes, needed or {}, orders, top, f"NUMA node {node} (all zones)")
    panels[0].set_ylabel("free blocks", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return png_bytes(figure)


def _style_order_axes(axes: Axes, needed: Mapping[int, int], orders: int, top: int, title: str) -> None:
    """The common look of a free-blocks-per-order panel: the need marked, log counts, labels, legend."""
    _mark_need(axes, needed, orders, 0.45)
    _log_counts(axes, top)
    axes.set_xticks(range(orders))
    axes.set_xlabel("order (block = 2^order pages)", fontsize=8)
    axes.set_title(title, fontsize=9)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, loc="upper right", frameon=False)


def _label_bars(axes: Axes, bars: object, values: Sequence[int | None]) -> None:
    axes.bar_label(bars, labels=["n/a" if v is None else f"{v:,}" for v in values], fontsize=7, padding=1)  # type: ignore[arg-type]


def hugepage_pools_chart(pools: Sequence[PoolCounts], *, title: str, min_free: int | None = None) -> bytes:
    """Total and free pages of each hugepage pool, grouped by NUMA node; one panel per page size.

    ``min_free`` (the inventory's ``min_free_1g_per_node``) is drawn as a red
    line on the 1G panel. A count that could not be read shows as ``n/a``.

    >>> hugepage_pools_chart([PoolCounts(0, "1G", 170, 14), PoolCounts(1, "1G", 170, 14),
    ...                       PoolCounts(0, "2M", 0, 0)], title="c0: hugepages", min_free=1)[:4]
    b'\\x89PNG'
    """
    if not pools:
        raise ValueError("no hugepage pools to draw")
    sizes = list(dict.fromkeys(pool.size for pool in pools))
    figure, panels = _panels(len(sizes))
    for axes, size in zip(panels, sizes):
        of_size = sorted((pool for pool in pools if pool.size == size), key=lambda pool: pool.node)
        positions = range(len(of_size))
        totals = [pool.total for pool in of_size]
        frees = [pool.free for pool in of_size]
        bars = axes.bar([p - 0.2 for p in positions], [t or 0 for t in totals], width=0.4, color=BEFORE, label="total")
        _label_bars(axes, bars, totals)
        bars = axes.bar([p + 0.2 for p in positions], [f or 0 for f in frees], width=0.4, color=AFTER, label="free")
        _label_bars(axes, bars, frees)
        if min_free is not None and size == "1G":
            axes.axhline(min_free, color=NEED, linewidth=1.5, linestyle="--", label=f"min free {min_free}")
        axes.set_xticks(list(positions), [f"node {pool.node}" for pool in of_size])
        axes.set_title(f"{size} pages", fontsize=9)
        axes.set_ylim(0, max([*(t or 0 for t in totals), *(f or 0 for f in frees), min_free or 0, 1]) * 1.2)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, loc="upper right", frameon=False)
    panels[0].set_ylabel("pages", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return png_bytes(figure)


def pool_stages_chart(stages: Sequence[tuple[str, Mapping[int, int | None]]], *, title: str, what: str) -> bytes:
    """One hugepage count per NUMA node at each stage of a change (before, released, given back).

    >>> pool_stages_chart([("before", {0: 170, 1: 170}), ("released", {0: 169, 1: 170}),
    ...                    ("given back", {0: 170, 1: 170})], title="c0: 1G pages", what="1G pages")[:4]
    b'\\x89PNG'
    """
    if not stages:
        raise ValueError("no stages to draw")
    nodes = sorted({node for _, counts in stages for node in counts})
    figure, (axes,) = _panels(1, height=3.0)
    width = 0.8 / len(stages)
    colours = (BEFORE, AFTER, RESTORED, *PALETTE)
    for index, (label, counts) in enumerate(stages):
        values = [counts.get(node) for node in nodes]
        offset = (index - (len(stages) - 1) / 2) * width
        bars = axes.bar(
            [n + offset for n in range(len(nodes))],
            [v or 0 for v in values],
            width=width,
            color=colours[index % len(colours)],
            label=label,
        )
        _label_bars(axes, bars, values)
    top = max((v or 0 for _, counts in stages for v in counts.values()), default=1)
    axes.set_ylim(0, max(top, 1) * 1.25)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xticks(range(len(nodes)), [f"node {n}" for n in nodes])
    axes.set_ylabel(what, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, loc="upper right", frameon=False, ncols=len(stages))
    figure.suptitle(title, fontsize=10)
    return png_bytes(figure)
