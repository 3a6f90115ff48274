"""``--metrics PATH``: the run's figures as node_exporter's textfile collector reads them.

The file is parsed with prometheus_client's own parser; every figure must be the JSON summary's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gate_snapshots import field_report_node
from tests.suite_runs import run_suite

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
Run = tuple[dict[str, Any], Samples, Path]
STAMP = "vrouter_preflight_run_timestamp_seconds"


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[tuple[str, tuple[tuple[str, str], ...]], float], Path]:
    """One run over a failing field node, a healthy one, an unreachable host and this machine."""
    root = tmp_path_factory.mktemp("metrics")
    field_report_node(root / "field", normal_order10=(2, 1))
    field_report_node(root / "healthy", normal_order10=(60, 60))
    hosts = {
        "field-node": {"transport": "snapshot", "path": "field"},
        "healthy-node": {"transport": "snapshot", "path": "healthy"},
        "gone-node": {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3},
        "this-machine": {"transport": "local"},
    }
    inventory = root / "fleet.yaml"
    inventory.write_text(json.dumps({"hosts": hosts}))
    prom = root / "textfile" / "vrouter_preflight.prom"
    done = run_suite("--inventory", str(inventory), "--summary-json", str(root / "s.json"), "--metrics", str(prom))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr
    return json.loads((root / "s.json").read_text()), samples(prom.read_text()), prom


def samples(text: str) -> Samples:
    """name, sorted labels -> value, as Prometheus parses the file."""
    parsed = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            parsed[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return parsed


def test_every_figure_is_the_summarys(run: Run) -> None:
    summary, parsed, _ = run
    verdict_value = {"pass": 0, "fail": 1, "error": 2}
    for host, entry in summary["hosts"].items():
        assert parsed[("vrouter_preflight_host_verdict", (("host", host),))] == verdict_value[entry["verdict"]]
    for host in ("field-node", "healthy-node", "this-machine"):
        entry = summary["hosts"][host]
        order = entry["demand"]["chunk_order"]
        needed = parsed[("vrouter_preflight_reload_4mib_blocks_needed", (("host", host),))]
        assert needed == entry["demand"]["buddy_blocks"][str(order)]
        for node, usable in entry["supply"]["usable_chunks"].items():
            assert parsed[("vrouter_preflight_usable_4mib_blocks", (("host", host), ("node", node)))] == usable
    assert parsed[("vrouter_preflight_free_1g_hugepages", (("host", "field-node"), ("node", "1")))] == 14
    field, healthy = summary["hosts"]["field-node"], summary["hosts"]["healthy-node"]
    assert sum(field["supply"]["usable_chunks"].values()) < field["demand"]["buddy_blocks"]["10"]
    assert sum(healthy["supply"]["usable_chunks"].values()) >= healthy["demand"]["buddy_blocks"]["10"]
    stamp = datetime.strptime(summary["generated_at"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    assert parsed[(STAMP, ())] == stamp
    counts = {verdict: parsed[("vrouter_preflight_hosts", (("verdict", verdict),))] for verdict in verdict_value}
    assert counts == {"pass": 2, "fail": 1, "error": 1}


def test_an_unreachable_host_has_no_figures_only_its_verdict(
    run: Run,
) -> None:
    _, parsed, _ = run
    gone = [key for key in parsed if ("host", "gone-node") in key[1]]
    assert gone == [("vrouter_preflight_host_verdict", (("host", "gone-node"),))]


def test_merge_writes_the_same_metrics(run: Run, tmp_path: Path) -> None:
    summary, parsed, prom = run
    source = prom.parent.parent / "s.json"
    merged_prom = tmp_path / "merged.prom"
    command = [
        str(Path(sys.executable).parent / "vrouter-preflight"),
        "merge",
        "--summary-json",
        str(tmp_path / "m.json"),
    ]
    done = subprocess.run(
        [*command, "--metrics", str(merged_prom), str(source)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == summary["exit_status"], done.stderr
    merged = samples(merged_prom.read_text())
    merged.pop(("vrouter_preflight_run_timestamp_seconds", ()))
    assert merged == {
        key: value for key, value in parsed.items() if key[0] != "vrouter_preflight_run_timestamp_seconds"
    }
    assert not list(merged_prom.parent.glob(".*.tmp")), "no temporary file left behind"
