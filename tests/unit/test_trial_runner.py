"""The trial's pure parts: the command sent, the report read back, pool comparison, the verdict message."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from vrouter_preflight.facts.agent_conf import parse_agent_conf
from vrouter_preflight.facts.mounts import hugetlbfs_mounts, parse_mounts
from vrouter_preflight.transport.base import CommandResult
from vrouter_preflight.trial.judge import (
    MountFinding,
    agent_directories,
    check_mounts,
    judge_size,
    judge_trial,
    pool_rows,
)
from vrouter_preflight.trial.report import (
    PoolCounters,
    SizePools,
    SizeTrial,
    Supply,
    TrialProtocolError,
    parse_report,
    pool_changes,
)
from vrouter_preflight.trial.runner import (
    INTERPRETERS,
    NO_INTERPRETER_RC,
    TrialRequest,
    TrialUnavailable,
    build_command,
    helper_source,
    interpret,
)

FLOW, BRIDGE = 161_218_560, 20_185_088


def request(**overrides: Any) -> TrialRequest:
    fields: dict[str, Any] = {"sizes_kib": (2048,), "flow_bytes": FLOW, "bridge_bytes": BRIDGE, "marker": "vrpf-m"}
    fields.update(overrides)
    return TrialRequest(**fields)


def pools(free: int, nr: int = 100, resv: int = 0, node_free: int | None = None) -> dict[str, Any]:
    node = free if node_free is None else node_free
    return {
        "2048": {
            "global": {"nr": nr, "free": free, "resv": resv, "surplus": 0},
            "nodes": {"0": {"nr": nr, "free": node, "surplus": 0}},
        }
    }


def trial_doc(status: str = "ok", **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "size_kib": 2048,
        "need": {"flow": 77, "bridge": 10},
        "status": status,
        "reason": "",
        "supply": {"free": 100, "resv": 0, "available": 100},
        "before": pools(100),
        "during": pools(13) if status == "ok" else None,
        "after": pools(100),
        "settle_seconds": 0.0,
    }
    doc.update(overrides)
    return doc


def report_text(*trials: dict[str, Any], node: int | None = None, marker: str = "vrpf-m") -> str:
    doc = {"helper": 1, "python": "2.7.5", "machine": "x86_64", "node": node, "marker": marker, "error": None}
    return "some noise\n" + json.dumps({**doc, "trials": list(trials)}) + "\n"


# -- the command ------------------------------------------------------------------------------------


def test_command_is_quoted_and_small() -> None:
    command = build_command(request(marker="it's; $(rm -rf /)"))
    words = shlex.split(command)
    # for py in <interpreters>; do if command -v "$py" ...; then exec "$py" -c SOURCE ARGS; fi; done; echo ...; exit 96
    assert words[:3] == ["for", "py", "in"]
    assert tuple(words[3 : 3 + len(INTERPRETERS)]) == (*INTERPRETERS[:-1], INTERPRETERS[-1] + ";")
    source = words[words.index("-c") + 1]
    arguments = json.loads(words[words.index("-c") + 2].removesuffix(";"))
    assert source == helper_source()
    assert arguments["marker"] == "it's; $(rm -rf /)"
    assert arguments["sizes_kib"] == [2048] and arguments["flow_bytes"] == FLOW
    assert len(command) < 16 * 1024, len(command)
    assert command.endswith(f"exit {NO_INTERPRETER_RC}")


def test_the_source_sent_is_the_helper_without_comment_lines() -> None:
    source = helper_source()
    assert "def main(argv):" in source
    assert not any(line.lstrip().startswith("#") for line in source.splitlines())
    compile(source, "remote_trial", "exec")


def test_request_timeouts() -> None:
    r = request(deadline_s=48, hold_s=5)
    assert json.loads(r.arguments())["deadline"] == 48
    assert r.transport_timeout == 58


# -- reading the output -----------------------------------------------------------------------------


def test_interpret_reads_the_last_line() -> None:
    result = CommandResult("...", 0, report_text(trial_doc()), "", 0.1)
    report = interpret(result, request())
    assert report.python == "2.7.5"
    (trial,) = report.trials
    assert (trial.need_flow, trial.need_bridge, trial.need, trial.status) == (77, 10, 87, "ok")
    assert trial.during is not None and trial.during[2048].nodes[0].free == 13
    assert trial.before[2048].whole == PoolCounters(nr=100, free=100, resv=0, surplus=0)
    assert trial.before[2048].nodes[0].resv is None  # per-node pools have no resv_hugepages


def test_no_interpreter_names_what_was_tried() -> None:
    tried = " ".join(INTERPRETERS)
    result = CommandResult(
        "...", NO_INTERPRETER_RC, "", f"vrpf-trial: no Python interpreter found (tried: {tried})\n", 0
    )
    with pytest.raises(
        TrialUnavailable, match=r"no Python interpreter found on the host \(tried: python3 /usr/libexec"
    ):
        interpret(result, request())


def test_garbled_output_is_unavailable_with_the_cause() -> None:
    result = CommandResult("...", 1, "", "Traceback ...\nSyntaxError: invalid syntax\n", 0)
    with pytest.raises(TrialUnavailable, match=r"gave no report .*rc 1: SyntaxError: invalid syntax"):
        interpret(result, request())


def test_a_report_of_another_run_is_refused() -> None:
    result = CommandResult("...", 0, report_text(marker="other"), "", 0)
    with pytest.raises(TrialUnavailable, match="another run"):
        interpret(result, request())


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"status": "maybe"}, "trials[0].status: expected one of ok, short"),
        ({"need": {"flow": 77}}, "trials[0].need.bridge: missing"),
        ({"after": {"2048": {"global": {"free": 1.5}, "nodes": {}}}}, "trials[0].after.2048.global.free"),
        ({"before": {"2048": {"global": {"bogus": 1}, "nodes": {}}}}, "trials[0].before.2048.global: unknown counters"),
        ({"during": {"2M": {"global": {}, "nodes": {}}}}, "trials[0].during: expected a number as key"),
        ({"settle_seconds": "0"}, "trials[0].settle_seconds: expected a number"),
    ],
)
def test_parse_report_names_the_bad_field(change: dict[str, Any], where: str) -> None:
    with pytest.raises(TrialProtocolError, match=f"trial report: {where}".replace("[", r"\[").replace("]", r"\]")):
        parse_report(report_text(trial_doc(**change)))


# -- comparing pools --------------------------------------------------------------------------------


def state(free: int, node_free: int | None = None, nr: int = 100) -> dict[int, SizePools]:
    node = free if node_free is None else node_free
    return {2048: SizePools(2048, PoolCounters(nr, free, 0, 0), {0: PoolCounters(nr, node, None, 0)})}


def test_pool_changes_name_counter_and_node() -> None:
    changes = pool_changes(state(100), state(99, nr=99))
    assert [c.describe() for c in changes] == [
        "2M global nr_hugepages: 100 before, 99 after",
        "2M global free_hugepages: 100 before, 99 after",
        "2M node 0 nr_hugepages: 100 before, 99 after",
        "2M node 0 free_hugepages: 100 before, 99 after",
    ]
    vanished = pool_changes(state(100), {})
    assert vanished[0].describe() == "2M global nr_hugepages: 100 before, absent after"


# -- the verdict ------------------------------------------------------------------------------------


def size_trial(status: str = "ok", **overrides: Any) -> SizeTrial:
    fields: dict[str, Any] = {
        "size_kib": 2048,
        "need_flow": 77,
        "need_bridge": 10,
        "status": status,
        "reason": "",
        "supply": Supply(100, 0, 100),
        "before": state(100),
        "during": state(13) if status == "ok" else None,
        "after": state(100),
        "settle_seconds": 0.0,
    }
    fields.update(overrides)
    return SizeTrial(**fields)


def test_a_trial_that_fitted_passes_and_says_where_pages_came_from() -> None:
    judgement = judge_size(size_trial(), None)
    assert judgement.ok
    assert judgement.message == (
        "2M: 87 × 2M (flow 77 + bridge 10) mapped and touched, 87 from node 0; "
        "all given back, pools read back exactly as before"
    )


def test_short_gives_need_and_supply() -> None:
    trial = size_trial("short", reason="refused without allocating", supply=Supply(50, 0, 50))
    judgement = judge_size(trial, None)
    assert not judgement.ok
    assert "the tables need 87 × 2M (flow 77 + bridge 10), 50 available (free 50 − reserved 0)" in judgement.message
    assert "not tried, nothing allocated; reserve 37 more 2M pages" in judgement.message


def test_short_on_a_node_counts_that_node() -> None:
    trial = size_trial("short", reason="refused", supply=Supply(200, 0, 200, node_free=60))
    message = judge_size(trial, 1).message
    assert "200 available (free 200 − reserved 0), 60 free on node 1" in message
    assert "reserve 27 more 2M pages on node 1" in message


def test_reserved_pages_are_not_supply() -> None:
    trial = size_trial("short", reason="refused", supply=Supply(100, 20, 80))
    assert "80 available (free 100 − reserved 20)" in judge_size(trial, None).message


def test_changed_pools_fail_loudly_whatever_the_status() -> None:
    judgement = judge_size(size_trial(after=state(99)), None)
    assert not judgement.ok
    assert judgement.message.startswith("2M: POOLS CHANGED by the trial (ok) — 2M global free_hugepages: 100 before")
    assert "2M node 0 free_hugepages: 100 before, 99 after" in judgement.message


def test_a_kernel_refusal_fails_with_its_reason() -> None:
    trial = size_trial("failed", reason="mmap of the flow table: [Errno 12] Cannot allocate memory")
    judgement = judge_size(trial, None)
    assert not judgement.ok
    assert "did not get them: mmap of the flow table: [Errno 12] Cannot allocate memory" in judgement.message


def test_a_binding_that_did_not_hold_fails() -> None:
    moved = {2048: SizePools(2048, PoolCounters(100, 100, 0, 0), {0: PoolCounters(50, 50), 1: PoolCounters(50, 50)})}
    during = {2048: SizePools(2048, PoolCounters(100, 13, 0, 0), {0: PoolCounters(50, 13), 1: PoolCounters(50, 0)})}
    trial = size_trial(before=moved, during=during, after=moved)
    judgement = judge_size(trial, 1)
    assert not judgement.ok
    assert "bound to node 1 but only 50 of 87 pages came from it (37 from node 0, 50 from node 1)" in judgement.message


def test_judge_trial_joins_sizes_mounts_and_notes() -> None:
    report = parse_report(report_text(trial_doc(), node=0))
    bad = MountFinding(2048, "/srv/huge", "agent config", False, "is not on hugetlbfs (ext4 at /)")
    failed = judge_trial(report, [bad], [])
    assert not failed.ok
    assert failed.message.startswith("node 0: trial allocation FAILED: /srv/huge (agent config) is not on hugetlbfs")
    assert failed.message.endswith("[Python 2.7.5 on x86_64]")
    passed = judge_trial(report, [], ["no 2M hugetlbfs directory named ...: not checked"])
    assert passed.ok and "not checked" in passed.message


def test_pool_rows_before_during_after() -> None:
    rows = pool_rows(size_trial())
    assert ["global", "free", 100, 13, 100] in rows
    assert ["node 0", "free", 100, 13, 100] in rows
    assert not any(row[:2] == ["node 0", "resv"] for row in rows)


# -- the agent's hugetlbfs mount --------------------------------------------------------------------

MOUNTS = (
    "/dev/sda1 / ext4 rw 0 0\n"
    "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
    "none /dev/hugepages1G hugetlbfs rw,relatime,pagesize=1024M 0 0\n"
)


def mounts_check(conf_text: str, sizes: list[int], inventory_dir: str | None = None) -> tuple[list[str], list[str]]:
    conf = parse_agent_conf(conf_text)
    mounts = parse_mounts(MOUNTS)
    directories = agent_directories(conf, inventory_dir, conf.configured_hugepage_size_kib())
    findings, notes = check_mounts(directories, sizes, mounts, hugetlbfs_mounts(mounts, 2048))
    return [("ok: " if f.ok else "BAD: ") + f.describe() for f in findings], notes


def test_mount_of_the_matching_size_is_ok() -> None:
    found, notes = mounts_check("[RESTART]\nhuge_page_1G=/dev/hugepages1G/bridge /dev/hugepages1G/flow\n", [1048576])
    assert found == ["ok: /dev/hugepages1G (agent config [RESTART] huge_page_1G) is on hugetlbfs pagesize=1G"]
    assert notes == []


def test_mount_of_another_size_or_no_hugetlbfs_is_bad() -> None:
    found, _ = mounts_check("[RESTART]\nhuge_page_1G=/dev/hugepages/bridge /dev/hugepages/flow\n", [1048576])
    assert found == [
        "BAD: /dev/hugepages (agent config [RESTART] huge_page_1G) is hugetlbfs with pagesize=2M, not 1G: "
        "the agent cannot map its 1G files"
    ]
    found, _ = mounts_check("[RESTART]\nhuge_page_2M=/var/huge/bridge /var/huge/flow\n", [2048])
    assert found[0].startswith("BAD: /var/huge (agent config [RESTART] huge_page_2M) is not on hugetlbfs (ext4 at /)")


def test_inventory_dir_wins_for_the_configured_size_and_unnamed_sizes_are_noted() -> None:
    conf = "[RESTART]\nhuge_page_2M=/var/huge/bridge /var/huge/flow\n"
    found, notes = mounts_check(conf, [2048, 1048576], inventory_dir="/dev/hugepages/")
    assert found == ["ok: /dev/hugepages (inventory vrouter.hugepage_dir) is on hugetlbfs pagesize=2M"]
    assert notes == ["no 1G hugetlbfs directory named by the agent config or vrouter.hugepage_dir: not checked"]
