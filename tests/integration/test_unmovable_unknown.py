"""Issue 13 item 13: without a readable /proc/pagetypeinfo the replay assumes the reload's small parts split
4 MiB blocks (the kernel's fallback); ``contiguous_blocks`` and the summary say so, and only then.

The field report's node in hugepage mode (tests/gate_snapshots.py) has 3 usable free 4 MiB blocks; the
reload's residual ask is one 4 MiB part plus small parts, and the default 2 spare 4 MiB blocks. Without
pagetypeinfo a small part is taken to split one of the 3, and the host fails. With a pagetypeinfo whose
Unmovable lists hold the free 1 and 2 MiB blocks, the small parts come from there and the host passes: the
false fail the issue measured (18 of 81 held-out scenarios), and why the message names the way out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gate_snapshots import field_report_node
from tests.suite_runs import run_suite
from tests.summaries import load_summary

pytestmark = pytest.mark.timeout(300)

UNMOVABLE_UNKNOWN = "Unmovable lists unknown: worst case assumed; `become: sudo` reads them"
TYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")


def pagetypeinfo_for(buddyinfo: str) -> str:
    """A pagetypeinfo agreeing with ``buddyinfo``: every free block below order 10 Unmovable, order 10 Movable."""
    lines = [
        "Page block order: 9",
        "Pages per block:  512",
        "",
        "Free pages count per migrate type at order " + " ".join(f"{order:6d}" for order in range(11)),
    ]
    for row in buddyinfo.splitlines():
        prefix, counts_text = row.split("zone", 1)
        zone, *counts = counts_text.split()
        node = prefix.split()[1].rstrip(",")
        by_type = {
            "Unmovable": [*counts[:10], "0"],
            "Movable": ["0"] * 10 + [counts[10]],
        }
        for migrate_type in TYPES:
            values = by_type.get(migrate_type, ["0"] * 11)
            lines.append(
                f"Node {node:>4}, zone {zone:>8}, type {migrate_type:>12} " + " ".join(f"{v:>6}" for v in values)
            )
    return "\n".join(lines) + "\n"


def test_the_message_says_when_the_unmovable_lists_are_unknown(tmp_path: Path) -> None:
    written = field_report_node(tmp_path / "without")
    field_report_node(
        tmp_path / "with", extra={"/proc/pagetypeinfo": pagetypeinfo_for(written["/proc/buddyinfo"].decode())}
    )
    vrouter = {"hugepage_size": "1G"}
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(
        json.dumps(
            {
                "hosts": {
                    "without-pagetypeinfo": {"transport": "snapshot", "path": "without", "vrouter": vrouter},
                    "with-pagetypeinfo": {"transport": "snapshot", "path": "with", "vrouter": vrouter},
                }
            }
        )
    )
    summary_path = tmp_path / "summary.json"

    result = run_suite("--inventory", str(inventory), f"--summary-json={summary_path}", "-k", "contiguous_blocks")

    assert "Traceback" not in result.stdout + result.stderr
    summary = load_summary(summary_path)
    checks = {
        name: next(c for c in host["checks"] if c["id"] == "contiguous_blocks")
        for name, host in summary["hosts"].items()
    }
    without, with_ = checks["without-pagetypeinfo"], checks["with-pagetypeinfo"]
    assert without["outcome"] == "failed", without
    assert f"find no block; {UNMOVABLE_UNKNOWN}; to fix: free 1 × 1G page" in without["message"]
    assert with_["outcome"] == "passed", with_
    assert "Unmovable lists unknown" not in with_["message"]
    # The same words reach the operator's terminal (pytest's short summary) as well as the JSON summary.
    assert UNMOVABLE_UNKNOWN in result.stdout
