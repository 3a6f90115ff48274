"""The JSON summary: verdicts, the contract's shape, demand/supply from real captures, the atomic writer."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.summaries import load_summary, schema_problems, validate_summary
from tests.unit.facts.corpus import corpus, ids, read, sysfs_files_from_grep
from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
from vrouter_preflight.facts.hugepages import parse_hugepage_sysfs
from vrouter_preflight.figures import demand_json, supply_json
from vrouter_preflight.records import CheckRecord, host_verdict
from vrouter_preflight.reporting.summary import build_summary, run_meta, write_summary
from vrouter_preflight.rollout import Rollout, parse_serial

HOST_KEYS = {"verdict", "checks", "demand", "supply"}
CHECK_KEYS = {"id", "node", "outcome", "message"}


def rec(host: str, check_id: str, outcome: str, node: int | None = None, message: str = "") -> CheckRecord:
    return CheckRecord(host, check_id, node, outcome, message)


@pytest.mark.parametrize(
    ("outcomes", "unreachable", "verdict"),
    [
        (["passed", "passed"], False, "pass"),
        (["passed", "skipped"], False, "pass"),
        (["passed", "failed", "skipped"], False, "fail"),
        (["failed", "error", "passed"], False, "error"),
        (["error"], False, "error"),
        (["passed"], True, "error"),
        ([], False, "error"),
        ([], True, "error"),
        (["skipped", "skipped"], False, "error"),
    ],
    ids=[
        "all-pass",
        "skip-does-not-fail",
        "fail",
        "error-beats-fail",
        "error-only",
        "unreachable",
        "no-records",
        "no-records-unreachable",
        "only-skipped-judged-nothing",
    ],
)
def test_host_verdict(outcomes: list[str], unreachable: bool, verdict: str) -> None:
    records = [rec("c0", f"check{i}", outcome) for i, outcome in enumerate(outcomes)]
    assert host_verdict(records, unreachable) == verdict


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="'xfailed' is not one of"):
        rec("c0", CheckId.REACHABLE.id, "xfailed")


def three_hosts() -> dict[str, Any]:
    buddy = parse_buddyinfo(read("buddyinfo", "lkml-fb-3.10-2node"))
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(read("node-hugepages", "hwloc-el7-3.10-2node-2m-reserved")))
    return build_summary(
        host_names=["compute-2", "compute-0", "compute-1"],
        records=[
            rec("compute-0", CheckId.REACHABLE.id, "passed"),
            rec("compute-0", CheckId.CONTIGUOUS_BLOCKS.id, "passed", node=0),
            rec(
                "compute-0",
                CheckId.CONTIGUOUS_BLOCKS.id,
                "failed",
                node=1,
                message="node 1: 0 free contiguous 4M blocks",
            ),
            rec("compute-1", CheckId.REACHABLE.id, "error", message="compute-1 (192.0.2.11:22): connection refused"),
            rec("compute-0", CheckId.HUGEPAGE_BACKING.id, "skipped", message="vRouter does not use hugepages"),
            rec("compute-2", CheckId.REACHABLE.id, "passed"),
        ],
        host_errors={"compute-1": "connection refused"},
        demand={"compute-0": demand_json({10: 44, 9: 2, 8: 1}, {1048576: 2}), "compute-1": None},
        supply={"compute-0": supply_json(buddy, pools)},
        meta=run_meta(suite_version="0.1.0", inventory="inventory/example.yaml", exit_status=1),
        not_run={"compute-0": {CheckId.REMEDIATION.id: "needs --destructive on the command line"}},
    )


def test_summary_has_the_contract_shape() -> None:
    summary = three_hosts()
    assert list(summary["hosts"]) == ["compute-2", "compute-0", "compute-1"], "inventory order"
    assert summary["schema_version"] == 1
    assert (summary["suite_version"], summary["inventory"], summary["exit_status"]) == (
        "0.1.0",
        "inventory/example.yaml",
        1,
    )
    assert summary["generated_at"].endswith("Z")
    assert summary["verdict"] == "error"
    for host in summary["hosts"].values():
        assert set(host) >= HOST_KEYS
        assert host["verdict"] in ("pass", "fail", "error")
        for check in host["checks"]:
            assert set(check) == CHECK_KEYS
            assert check["outcome"] in ("passed", "failed", "error", "skipped")
    assert json.loads(json.dumps(summary)) == summary, "plain JSON types only"
    validate_summary(summary)


def test_a_summary_with_a_rollout_and_every_kind_of_details_follows_the_schema(tmp_path: Path) -> None:
    rollout = Rollout(tmp_path, "run-1", ["compute-0", "compute-2"], parse_serial("1"), 0.0)
    with rollout.slot("compute-0") as decision:
        assert decision.run
        rollout.finish("compute-0", ok=False, reason="vRouter did not come back healthy")
    remediation = {
        "changed": True,
        "released": {"0": 1},
        "restored": {"0": 1},
        "shortfall": {},
        "back": True,
        "journal": "reports/journal/compute-0.json",
        "journal_closed": True,
        "warnings": ["drop_caches failed"],
    }
    records = [
        CheckRecord("compute-0", CheckId.REMEDIATION.id, None, "failed", "not healthy", remediation),
        CheckRecord("compute-2", CheckId.REMEDIATION.id, None, "passed", "plan: release 1 page", {"plan": "x"}),
        CheckRecord("compute-2", CheckId.CERTIFY_CPU_1G_PAGES.id, None, "passed", "ok", {"evidence": {"pdpe1gb": 1}}),
    ]
    summary = build_summary(
        host_names=["compute-0", "compute-2"],
        records=records,
        host_errors={},
        demand={},
        supply={},
        meta=run_meta(suite_version="0.1.0", inventory="inventory/example.yaml", exit_status=1),
        rollout=rollout.report(),
    )
    validate_summary(summary)
    assert summary["rollout"]["failed"] == ["compute-0"]
    assert summary["rollout"]["not_run"] == {"compute-2": summary["rollout"]["hosts"]["compute-2"]["reason"]}
    assert summary["rollout"]["stopped"] is not None, "max_fail_percentage 0 stops the rollout"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s["hosts"]["compute-0"]["checks"][0].update(id="vrouter_params"), "'vrouter_params' is not one of"),
        (lambda s: s["hosts"]["compute-0"].pop("not_run"), "'not_run' is a required property"),
        (lambda s: s["hosts"]["compute-0"]["counts"].update(passed="2"), "'2' is not of type 'integer'"),
        (lambda s: s.update(verdict="FAIL"), "'FAIL' is not one of"),
        (lambda s: s["hosts"]["compute-0"]["checks"][0].update(changed=True), "'released' is a dependency"),
        (lambda s: s.update(verdcit="fail"), "Additional properties are not allowed ('verdcit' was unexpected)"),
    ],
    ids=["unknown-check-id", "missing-field", "retyped-count", "unknown-verdict", "half-remediation", "typo"],
)
def test_the_schema_refuses_a_summary_that_breaks_the_contract(change: Any, problem: str) -> None:
    summary = three_hosts()
    change(summary)
    problems = schema_problems(summary)
    assert any(problem in found for found in problems), problems
    with pytest.raises(AssertionError, match=r"does not follow summary\.schema\.json"):
        validate_summary(summary)


def test_summary_per_host_content() -> None:
    hosts = three_hosts()["hosts"]
    c0, c1, c2 = hosts["compute-0"], hosts["compute-1"], hosts["compute-2"]
    assert (c0["verdict"], c1["verdict"], c2["verdict"]) == ("fail", "error", "pass")
    assert [(c["id"], c["node"], c["outcome"]) for c in c0["checks"]] == [
        (CheckId.REACHABLE.id, None, "passed"),
        (CheckId.CONTIGUOUS_BLOCKS.id, 0, "passed"),
        (CheckId.CONTIGUOUS_BLOCKS.id, 1, "failed"),
        (CheckId.HUGEPAGE_BACKING.id, None, "skipped"),
    ]
    assert c0["checks"][2]["message"] == "node 1: 0 free contiguous 4M blocks"
    assert c0["counts"] == {"passed": 2, "failed": 1, "error": 0, "skipped": 1}
    assert c0["demand"] == {"buddy_blocks": {"10": 44, "9": 2, "8": 1}, "hugepages": {"1G": 2}}
    assert list(c0["demand"]["buddy_blocks"]) == ["10", "9", "8"]
    assert (c1["error"], c1["demand"], c1["supply"]) == ("connection refused", None, None)
    assert (c2["error"], c2["demand"], c2["supply"]) == (None, None, None)


def test_summary_supply_from_real_captures() -> None:
    supply = three_hosts()["hosts"]["compute-0"]["supply"]
    assert supply["free_blocks"]["1"] == {"Normal": [5956, 15, 5, 28, 11, 8, 2, 0, 0, 0, 0]}
    assert list(supply["free_blocks"]["0"]) == ["DMA", "DMA32", "Normal"]
    assert supply["hugepages"]["2048"] == {
        "0": {"total": 2048, "free": 2048, "surplus": 0},
        "1": {"total": 2048, "free": 2048, "surplus": 0},
    }
    assert supply["hugepages"]["1048576"]["0"] == {"total": 0, "free": 0, "surplus": 0}
    assert supply["hugepages_global"]["2048"] == {"total": 4096, "free": 4096, "surplus": 0, "resv": 0, "overcommit": 0}


BUDDY_FILES = corpus("buddyinfo")


@pytest.mark.parametrize("path", BUDDY_FILES, ids=ids(BUDDY_FILES))
def test_supply_free_blocks_on_every_buddyinfo_capture(path: Path) -> None:
    buddy = parse_buddyinfo(path.read_text())
    free_blocks = supply_json(buddy, None)["free_blocks"]
    assert sorted(free_blocks, key=int) == [str(node) for node in buddy.nodes]
    for zone in buddy.zones:
        assert free_blocks[str(zone.node)][zone.zone] == list(zone.free_blocks)
        assert len(free_blocks[str(zone.node)][zone.zone]) == buddy.orders


HUGEPAGE_FILES = corpus("node-hugepages")


@pytest.mark.parametrize("path", HUGEPAGE_FILES, ids=ids(HUGEPAGE_FILES))
def test_supply_hugepages_on_every_sysfs_capture(path: Path) -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(path.read_text()))
    supply = supply_json(None, pools)
    assert supply["free_blocks"] is None
    assert list(supply["hugepages"]) == [str(size) for size in pools.sizes_kib]
    for size in pools.sizes_kib:
        per_node = supply["hugepages"][str(size)]
        assert list(per_node) == [str(node) for node in pools.nodes]
        for pool in pools.node_pools(size):
            assert per_node[str(pool.node)] == {"total": pool.nr, "free": pool.free, "surplus": pool.surplus}
        assert sum(counts["total"] for counts in per_node.values()) == supply["hugepages_global"][str(size)]["total"]


def test_supply_keeps_absent_counts_null() -> None:
    pools = parse_hugepage_sysfs({"/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages": "4\n"})
    supply = supply_json(None, pools)
    assert supply["hugepages"] == {"2048": {"0": {"total": 4, "free": None, "surplus": None}}}
    assert supply["hugepages_global"] == {}


def test_arm64_hugepage_sizes_in_demand_and_supply() -> None:
    pools = parse_hugepage_sysfs(sysfs_files_from_grep(read("node-hugepages", "hwloc-arm64-4node-4sizes")))
    assert list(supply_json(None, pools)["hugepages"]) == ["64", "2048", "32768", "1048576"]
    assert demand_json({}, {64: 1, 32768: 3, 1048576: 2})["hugepages"] == {"1G": 2, "32M": 3, "64K": 1}


@pytest.mark.parametrize(
    ("blocks", "pages", "message"),
    [
        ({-1: 3}, {}, "order -1"),
        ({10: -3}, {}, "order 10: -3"),
        ({}, {2048: -1}, "2048 KiB: -1"),
        ({}, {0: 1}, "0 KiB"),
    ],
)
def test_demand_refuses_negative_values(blocks: dict[int, int], pages: dict[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        demand_json(blocks, pages)


def test_build_summary_refuses_not_run_of_an_unknown_host() -> None:
    with pytest.raises(ValueError, match=r"not_run names hosts that are not in this run: \['ghost'\]"):
        build_summary(
            host_names=["c0"],
            records=[],
            host_errors={},
            demand={},
            supply={},
            meta={},
            not_run={"ghost": {CheckId.REMEDIATION.id: "needs --destructive"}},
        )


def test_build_summary_refuses_a_record_of_an_unknown_host() -> None:
    with pytest.raises(ValueError, match="'ghost', which is not in this run"):
        build_summary(
            host_names=["c0"],
            records=[rec("ghost", CheckId.REACHABLE.id, "passed")],
            host_errors={},
            demand={},
            supply={},
            meta={},
        )


@pytest.mark.parametrize("key", ["hosts", "verdict", "schema_version", "rollout"])
def test_build_summary_refuses_meta_that_would_overwrite_computed_fields(key: str) -> None:
    with pytest.raises(ValueError, match="meta may not set"):
        build_summary(host_names=[], records=[], host_errors={}, demand={}, supply={}, meta={key: 1})


def test_no_hosts_is_an_error_verdict() -> None:
    summary = build_summary(host_names=[], records=[], host_errors={}, demand={}, supply={}, meta={})
    assert (summary["hosts"], summary["verdict"]) == ({}, "error")


def test_write_summary_creates_parents_and_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "nested" / "summary.json"
    summary = three_hosts()
    assert write_summary(target, summary) == target
    assert load_summary(target) == summary
    assert target.read_text(encoding="utf-8").endswith("}\n")
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in target.parent.iterdir()] == ["summary.json"], "no temporary file left behind"


def test_write_summary_replaces_an_old_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old")
    inode_before = target.stat().st_ino
    summary = three_hosts()
    write_summary(target, summary)
    assert load_summary(target) == summary
    assert target.stat().st_ino != inode_before, "renamed over, not rewritten in place"


def test_write_summary_leaves_the_old_file_when_json_cannot_represent_the_summary(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text('{"hosts": {}}')
    with pytest.raises(ValueError, match="Out of range float"):
        write_summary(target, {"hosts": {}, "bad": float("nan")})
    assert target.read_text() == '{"hosts": {}}'
    assert os.listdir(tmp_path) == ["summary.json"]
