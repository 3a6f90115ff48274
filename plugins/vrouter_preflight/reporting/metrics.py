"""The run's figures for monitoring between upgrades (``--metrics PATH``): Prometheus text exposition format.

node_exporter's textfile collector reads ``*.prom`` files from a directory; the
file is written to a temporary name and renamed, so the collector never reads
half of it. Metric and label names are a contract (README "Monitoring"):

==============================================  ==============  ================================================
metric                                          labels          value
==============================================  ==============  ================================================
``vrouter_preflight_usable_4mib_blocks``        host, node      free 4 MiB blocks a GFP_ATOMIC reload can take
``vrouter_preflight_reload_4mib_blocks_needed`` host            4 MiB blocks a reload asks for (margin, spare in)
``vrouter_preflight_free_1g_hugepages``         host, node      free 1G hugepages
``vrouter_preflight_host_verdict``              host            0 pass, 1 fail, 2 error (not reached, not judged)
``vrouter_preflight_hosts``                     verdict         hosts per verdict
``vrouter_preflight_run_timestamp_seconds``     (none)          when the run's summary was made (Unix time)
==============================================  ==============  ================================================

A figure the run could not read is left out (absent, never zero).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from vrouter_preflight.atomic_files import write_text_atomic
from vrouter_preflight.facts.sizes import GIB_KIB
from vrouter_preflight.records import VERDICTS

PREFIX = "vrouter_preflight_"
VERDICT_VALUES = {verdict: index for index, verdict in enumerate(VERDICTS)}
#: name -> (help, labels)
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "usable_4mib_blocks": (
        "Free 4 MiB blocks (one vRouter table chunk) a GFP_ATOMIC reload could take on the NUMA node, above the "
        "zones' atomic floors.",
        ("host", "node"),
    ),
    "reload_4mib_blocks_needed": (
        "4 MiB blocks a vRouter reload asks for, contiguity margin and spare blocks included.",
        ("host",),
    ),
    "free_1g_hugepages": ("Free 1G hugepages on the NUMA node.", ("host", "node")),
    "host_verdict": ("The host's preflight verdict: 0 pass, 1 fail, 2 error (not reached or not judged).", ("host",)),
    "hosts": ("Hosts of the run per verdict.", ("verdict",)),
    "run_timestamp_seconds": ("When the run's summary was made, in seconds since the Unix epoch.", ()),
}


def escape_label(value: str) -> str:
    """A label value as the text format wants it: backslash, double quote and newline escaped.

    >>> escape_label('a"b\\\\c\\nd')
    'a\\\\"b\\\\\\\\c\\\\nd'
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _samples(summary: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, str], float]]:
    """Every (metric, labels, value) of a summary, metric by metric."""
    hosts: Mapping[str, Any] = summary.get("hosts") or {}
    for host, entry in hosts.items():
        for node, usable in ((entry.get("supply") or {}).get("usable_chunks") or {}).items():
            yield "usable_4mib_blocks", {"host": host, "node": str(node)}, float(usable)
    for host, entry in hosts.items():
        demand = entry.get("demand") or {}
        order = demand.get("chunk_order")
        needed = (demand.get("buddy_blocks") or {}).get(str(order)) if order is not None else None
        if needed is not None:
            yield "reload_4mib_blocks_needed", {"host": host}, float(needed)
    for host, entry in hosts.items():
        pools = ((entry.get("supply") or {}).get("hugepages") or {}).get(str(GIB_KIB)) or {}
        for node, counts in pools.items():
            if counts.get("free") is not None:
                yield "free_1g_hugepages", {"host": host, "node": str(node)}, float(counts["free"])
    for host, entry in hosts.items():
        yield "host_verdict", {"host": host}, float(VERDICT_VALUES[str(entry.get("verdict"))])
    for verdict in VERDICTS:
        count = sum(1 for entry in hosts.values() if entry.get("verdict") == verdict)
        yield "hosts", {"verdict": verdict}, float(count)
    generated = summary.get("generated_at")
    if generated:
        moment = datetime.strptime(str(generated), "%Y-%m-%dT%H:%M:%S%z")
        yield "run_timestamp_seconds", {}, moment.timestamp()


def metrics_text(summary: Mapping[str, Any]) -> str:
    """The summary's figures in the Prometheus text exposition format (version 0.0.4).

    >>> summary = {"generated_at": "2026-12-03T09:00:00Z", "hosts": {"c0": {"verdict": "fail",
    ...     "demand": {"chunk_order": 10, "buddy_blocks": {"10": 46, "9": 2}},
    ...     "supply": {"usable_chunks": {"0": 12}, "hugepages": {"1048576": {"0": {"free": 14}}}}}}}
    >>> print(metrics_text(summary), end="")  # doctest: +ELLIPSIS
    # HELP vrouter_preflight_usable_4mib_blocks Free 4 MiB blocks ...
    # TYPE vrouter_preflight_usable_4mib_blocks gauge
    vrouter_preflight_usable_4mib_blocks{host="c0",node="0"} 12
    # HELP vrouter_preflight_reload_4mib_blocks_needed 4 MiB blocks a vRouter reload asks for, ...
    # TYPE vrouter_preflight_reload_4mib_blocks_needed gauge
    vrouter_preflight_reload_4mib_blocks_needed{host="c0"} 46
    ...
    vrouter_preflight_host_verdict{host="c0"} 1
    ...
    vrouter_preflight_run_timestamp_seconds 1796288400
    """
    by_metric: dict[str, list[str]] = {name: [] for name in METRICS}
    for name, labels, value in _samples(summary):
        label_text = ",".join(f'{key}="{escape_label(text)}"' for key, text in labels.items())
        shown = int(value) if value.is_integer() else value
        by_metric[name].append(f"{PREFIX}{name}{{{label_text}}} {shown}" if labels else f"{PREFIX}{name} {shown}")
    lines: list[str] = []
    for name, (help_text, _labels) in METRICS.items():
        if not by_metric[name]:
            continue
        lines += [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} gauge", *by_metric[name]]
    return "\n".join(lines) + "\n"


def write_metrics(path: str | os.PathLike[str], summary: Mapping[str, Any]) -> Path:
    """Write the summary's metrics to ``path`` atomically (for node_exporter's textfile collector).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     written = write_metrics(Path(d, "vrouter_preflight.prom"), {"hosts": {}})
    ...     written.read_text().splitlines()[-1]
    'vrouter_preflight_hosts{verdict="error"} 0'
    """
    return write_text_atomic(path, metrics_text(summary))
