"""How accurate the gate is on a real kernel: N randomised scenarios in the compute lab (lab/).

    python -m bench.lab_accuracy [--n 40] [--near 20] [--seed 6] [--out reports/lab-accuracy] [--resume]

Each scenario is a FRESH boot of one lab guest (QEMU/TCG, Debian 6.1, 2 NUMA nodes; about
10 s, so reusing a guest would save little and would carry state between scenarios) with
randomised, seeded settings:

- boot-time hugepages: 0 or 1 × 1G per node, 0/64/256 × 2M;
- fragmentation per node: none, partial (``mb`` 100–2000 MiB grabbed) or full (``mb=0``), in
  all zones or only the Normal zones (DMA32 left whole), every 4 MiB group or every 2nd;
- ``vm.lowmem_reserve_ratio``: the kernel default or raised DMA32 protection (``256 1 32 0``);
- table sizes: ``vr_flow_entries`` 256K/512K/1M/2M (overflow auto), written both to the stand-in's
  options and to the inventory's ``vrouter.flow_entries``, so prediction and truth use the same settings.

The prediction is the suite's own verdict: ``pytest checks`` (read-only) through the guest's sshd,
``contiguous_blocks`` in the JSON summary (passed = "a reload fits now"). The module is NOT loaded
while the suite reads the facts. The ground truth is then ``modprobe vrouter`` with the same
options, with nothing run in between: loaded yes/no (the failed chunk when not).

Right before the load (one read, nothing else in between) the bench keeps the facts the gate
works from: ``/proc/buddyinfo``, ``/proc/pagetypeinfo`` and the zone lines of ``/proc/zoneinfo``.
``--rejudge`` replays the CURRENT model on those stored facts, without booting anything: what a
change of the model would have predicted for every scenario already run, the same matrix for
0-3 spare order-10 blocks (``by_spare_blocks``), and for each load that failed on a 4 MiB part
the blocks the model counted usable against those the kernel granted (``rejudged.json``).

``--near K`` adds K scenarios placed at the threshold (indices from 1000, ``"kind": "near"``):
node 0 fully fragmented, and on node 1 the fragmenter grabs just enough that the free order-10
blocks left in all zones are the demand's order-10 count (the suite's own demand model) plus a
random offset of -8..+8 blocks -- where the floor and per-CPU lists decide.

One JSON line per scenario goes to ``<out>/results.jsonl`` (as it completes); the confusion
matrix to ``<out>/matrix.json`` and stdout. Goal: no false pass, false fails under 5 %.
Alongside, each line records what a naive count (free order-10 blocks of every zone, no floor,
no protection) would have said.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lab.lab import Guest, GuestSpec, Lab, LabError
from tests.suite_runs import ROOT, run_suite
from vrouter_preflight.contiguity import simulate_reload, zone_supplies
from vrouter_preflight.demand import vrouter_demand, vrouter_settings
from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
from vrouter_preflight.facts.pagetypeinfo import parse_pagetypeinfo
from vrouter_preflight.facts.zoneinfo import parse_zoneinfo
from vrouter_preflight.inventory import VrouterOverrides

FLOW_ENTRIES = (262144, 524288, 1048576, 2097152)
RAISED_LOWMEM = "256 1 32 0"
NEAR_START = 1000
LAB_RELEASE = "R1911"  # what lab.write_inventory declares


def demand_o10(flow_entries: int) -> int:
    """Order-10 blocks a reload with ``flow_entries`` needs, from the suite's demand model (R1911)."""
    settings = vrouter_settings(VrouterOverrides(release=LAB_RELEASE, flow_entries=flow_entries), {})
    return int(vrouter_demand(settings, 4096).blocks_by_order().get(10, 0))


ZONE_LINES = r"^Node|^ +(pages free|min|low|high|spanned|present|managed|protection:) "
"""The /proc/zoneinfo lines the gate reads (headers, watermarks, protection), not the counters."""


def facts_before_load(guest: Guest) -> dict[str, str]:
    """buddyinfo, pagetypeinfo and zoneinfo's zone lines, read in one command."""
    out = guest.check(
        f"cat /proc/buddyinfo; echo '%%'; cat /proc/pagetypeinfo; echo '%%'; grep -E '{ZONE_LINES}' /proc/zoneinfo"
    )
    buddyinfo, pagetypeinfo, zoneinfo = out.split("%%\n")
    return {"buddyinfo": buddyinfo, "pagetypeinfo": pagetypeinfo, "zoneinfo": zoneinfo}


def predicted_fit(facts: dict[str, str], flow_entries: int, spare_blocks: int | None = None) -> bool:
    """The current model's verdict on stored facts: what ``contiguous_blocks`` would say now.

    ``spare_blocks`` overrides ``vrouter.contiguity_spare_blocks`` (``None``: the default).
    """
    supplies = zone_supplies(
        parse_buddyinfo(facts["buddyinfo"]),
        parse_zoneinfo(facts["zoneinfo"]),
        parse_pagetypeinfo(facts["pagetypeinfo"]),
    )
    overrides = VrouterOverrides(release=LAB_RELEASE, flow_entries=flow_entries, contiguity_spare_blocks=spare_blocks)
    settings = vrouter_settings(overrides, {})
    return simulate_reload(vrouter_demand(settings, 4096).blocks_with_margin(), supplies).fits


def unmovable_free(pagetypeinfo: str, min_order: int = 7) -> dict[str, dict[str, int]]:
    """Free blocks of order >= ``min_order`` on the Unmovable and HighAtomic lists, per zone.

    What an unmovable request of a small order takes before it falls back to stealing the largest
    free block of another type (``/proc/pagetypeinfo``; buddyinfo cannot tell them apart).
    """
    info = parse_pagetypeinfo(pagetypeinfo)
    table: dict[str, dict[str, int]] = {}
    for row in info.free:
        if row.migrate_type not in ("Unmovable", "HighAtomic"):
            continue
        place = table.setdefault(f"{row.node}/{row.zone}", {})
        for order, count in enumerate(row.free_blocks):
            if order >= min_order and count:
                place[str(order)] = place.get(str(order), 0) + count
    return table


def scenario(index: int, seed: int) -> dict[str, Any]:
    """The randomised settings of scenario ``index`` (deterministic in ``seed``)."""
    rng = random.Random(f"{seed}-{index}")
    levels = {node: rng.choices(["none", "partial", "full"], weights=[1, 5, 4])[0] for node in (0, 1)}
    mb = {node: {"none": None, "full": 0}.get(levels[node], rng.randrange(100, 2001, 50)) for node in (0, 1)}
    return {
        "index": index,
        "seed": seed,
        "hp1g": {0: rng.choice([0, 1]), 1: rng.choice([0, 1])},
        "hp2m": rng.choice([0, 64, 256]),
        "fragment": {str(n): {"level": levels[n], "mb": mb[n]} for n in (0, 1)},
        "zones": rng.choices(["all", "Normal"], weights=[3, 1])[0],
        "every": rng.choices([1, 2], weights=[4, 1])[0],
        "lowmem_reserve_ratio": rng.choices([None, RAISED_LOWMEM], weights=[3, 1])[0],
        "vr_flow_entries": rng.choice(FLOW_ENTRIES),
        "kind": "random",
    }


def near_scenario(index: int, seed: int) -> dict[str, Any]:
    """A scenario at the threshold: node 1's grab is sized after boot (see :func:`aim_at_threshold`)."""
    rng = random.Random(f"{seed}-near-{index}")
    return {
        "index": index,
        "seed": seed,
        "hp1g": {0: rng.choice([0, 1]), 1: rng.choice([0, 1])},
        "hp2m": rng.choice([0, 64]),
        "fragment": {"0": {"level": "full", "mb": 0}, "1": {"level": "partial", "mb": None}},
        "zones": "all",
        "every": 1,
        "lowmem_reserve_ratio": None,
        "vr_flow_entries": rng.choice(FLOW_ENTRIES),
        "kind": "near",
        "offset_blocks": rng.randint(-8, 8),
    }


def aim_at_threshold(guest: Guest, settings: dict[str, Any]) -> None:
    """Size node 1's grab so that about demand + offset order-10 blocks stay free in all zones.

    After a full fragmentation node 0 keeps about 10 (DMA, DMA32, Normal); grabbing ``mb`` MiB
    of 4 KiB pages on node 1 breaks about ``mb / 4`` of its order-10 blocks.
    """
    free = guest.buddyinfo()
    node1 = sum(blocks[10] for (node, _), blocks in free.items() if node == 1)
    keep = max(0, demand_o10(settings["vr_flow_entries"]) + settings["offset_blocks"] - 10)
    settings["fragment"]["1"]["mb"] = max(4, 4 * (node1 - keep))


def write_inventory(lab: Lab, path: Path, guest: Guest, flow_entries: int) -> Path:
    """lab.write_inventory, plus ``vrouter.flow_entries`` (the same value the stand-in loads with)."""
    lab.write_inventory(path, [guest])
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("      release:"))
    lines.insert(at + 1, f"      flow_entries: {flow_entries}")
    path.write_text("\n".join(lines) + "\n")
    return path


def gate(lab: Lab, guest: Guest, work: Path, flow_entries: int) -> dict[str, Any]:
    """Run the suite read-only against ``guest``; the contiguous_blocks check and what it saw."""
    inventory = write_inventory(lab, work / "inventory.yaml", guest, flow_entries)
    summary_path = work / "summary.json"
    summary_path.unlink(missing_ok=True)
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary_path}")
    if not summary_path.exists():
        raise LabError(f"the suite wrote no summary (exit {result.returncode}):\n{result.stdout[-3000:]}")
    host = json.loads(summary_path.read_text())["hosts"][guest.name]
    check = next(c for c in host["checks"] if c["id"] == "contiguous_blocks")
    return {
        "outcome": check["outcome"],
        "message": check["message"],
        "exit_status": result.returncode,
        "demand": host.get("demand"),
        "free_o10": {
            f"{node}/{zone}": blocks[10]
            for node, zones in host["supply"]["free_blocks"].items()
            for zone, blocks in zones.items()
        },
    }


def run_scenario(lab: Lab, settings: dict[str, Any], work: Path) -> dict[str, Any]:
    """Boot, shape, predict, load; always stop the guest."""
    started = time.monotonic()
    spec = GuestSpec(f"bench-{settings['index']}", hp1g=dict(settings["hp1g"]), hp2m=settings["hp2m"])
    [guest] = lab.boot(spec)
    try:
        if settings["kind"] == "near":
            aim_at_threshold(guest, settings)
        if settings["lowmem_reserve_ratio"]:
            guest.sysctl("vm.lowmem_reserve_ratio", settings["lowmem_reserve_ratio"])
        nodes = [n for n in (0, 1) if settings["fragment"][str(n)]["level"] != "none"]
        if nodes:
            guest.fragment(
                nodes=nodes,
                mb=[settings["fragment"][str(n)]["mb"] for n in nodes],
                zones=settings["zones"],
                every=settings["every"],
            )
        guest.configure_standin(vr_flow_entries=settings["vr_flow_entries"])
        if guest.run("test -d /sys/module/vrouter").ok:
            raise LabError("the stand-in is loaded before the gate read the facts")
        prediction = gate(lab, guest, work, settings["vr_flow_entries"])
        # Only a read in between (no rmmod, no other change): where the blocks stood right before the load.
        facts = facts_before_load(guest)
        before_load = {f"{z.node}/{z.zone}": z.free_blocks[10] for z in parse_buddyinfo(facts["buddyinfo"]).zones}
        truth = guest.load_standin()
        return {
            **settings,
            "gate": prediction["outcome"],
            "predicted_fit": {"passed": True, "failed": False}.get(prediction["outcome"]),
            "gate_message": prediction["message"],
            "suite_exit_status": prediction["exit_status"],
            "demand": prediction["demand"],
            "free_o10_at_gate": prediction["free_o10"],
            "free_o10_before_load": before_load,
            "unmovable_free_before_load": unmovable_free(facts["pagetypeinfo"]),
            "facts_before_load": facts,
            # the tables' own order-10 parts, without the suite's margin or spare blocks
            "naive_o10_count_fits": sum(prediction["free_o10"].values()) >= demand_o10(settings["vr_flow_entries"]),
            "loaded": truth.loaded,
            "load_rc": truth.rc,
            "failed_chunk": None if truth.failed is None else vars(truth.failed),
            "taken": {place: {str(o): n for o, n in orders.items()} for place, orders in truth.taken.items()},
            # allocation order: "<order>@<node>/<zone>" per part (empty when the load failed)
            "chunks": [f"{c.order}@{c.node}/{c.zone}" for c in truth.chunks],
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        lab.down([spec.name])


def matrix_cells(judged: list[dict[str, Any]]) -> dict[str, int]:
    """true/false pass/fail counts of judged rows."""
    cells = {"n": len(judged), "true_pass": 0, "false_pass": 0, "true_fail": 0, "false_fail": 0}
    for row in judged:
        truth = "true_" if row["predicted_fit"] == row["loaded"] else "false_"
        cells[truth + ("pass" if row["predicted_fit"] else "fail")] += 1
    return cells


def matrix(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The confusion matrix of the gate's prediction against the stand-in's load."""
    judged = [r for r in rows if r.get("predicted_fit") is not None]
    cells = matrix_cells(judged)
    loaded = cells["true_pass"] + cells["false_fail"]
    naive_false_pass = sum(1 for r in judged if r["naive_o10_count_fits"] and not r["loaded"])
    return {
        "not_judged": [
            {"index": r["index"], "gate": r.get("gate"), "error": r.get("error")} for r in rows if r not in judged
        ],
        **cells,
        "false_fail_share_of_all": round(cells["false_fail"] / len(judged), 4) if judged else None,
        "false_fail_share_of_loads": round(cells["false_fail"] / loaded, 4) if loaded else None,
        "goal_met": cells["false_pass"] == 0 and bool(judged) and cells["false_fail"] / len(judged) < 0.05,
        "naive_o10_count_false_passes": naive_false_pass,
        "by_kind": {
            kind: matrix_cells([r for r in judged if r.get("kind", "random") == kind])
            for kind in sorted({r.get("kind", "random") for r in judged})
        },
        "false_fails": [r["index"] for r in judged if not r["predicted_fit"] and r["loaded"]],
        "false_passes": [r["index"] for r in judged if r["predicted_fit"] and not r["loaded"]],
    }


def print_matrix(m: dict[str, Any]) -> None:
    print(f"N = {m['n']} scenarios ({len(m['not_judged'])} not judged)")
    print(f"{'':14}{'loaded':>10}{'ENOMEM':>10}")
    print(f"{'gate pass':14}{m['true_pass']:>10}{m['false_pass']:>10}")
    print(f"{'gate fail':14}{m['false_fail']:>10}{m['true_fail']:>10}")
    print(
        f"false passes {m['false_pass']}, false fails {m['false_fail']} "
        f"({m['false_fail_share_of_all']} of all, {m['false_fail_share_of_loads']} of loads); "
        f"goal met: {m['goal_met']}; "
        f"a naive order-10 count would have passed {m['naive_o10_count_false_passes']} that failed"
    )


STANDIN_TABLES = {  # the stand-in's table names, in allocation order, and the demand model's purposes
    "nexthop": "nexthop table",
    "bridge": "bridge table: main entries",
    "bridge-overflow": "bridge table: overflow entries",
    "bridge-delete": "bridge table: delete data",
    "flow": "flow table: main entries",
    "flow-overflow": "flow table: overflow entries",
    "flow-delete": "flow table: delete data",
}


def blocks_unaccounted(row: dict[str, Any]) -> dict[str, int] | None:
    """For a load that failed on a 4 MiB part: the 4 MiB blocks the model counted usable (no spare,
    small parts not charged) against those the kernel granted before the failure.

    ``None`` when the row has no stored facts or failed on a smaller part.
    """
    failed, facts = row.get("failed_chunk"), row.get("facts_before_load")
    if not failed or not facts or failed["order"] != 10:
        return None
    settings = vrouter_settings(
        VrouterOverrides(release=LAB_RELEASE, flow_entries=row["vr_flow_entries"], contiguity_spare_blocks=0), {}
    )
    earlier = list(STANDIN_TABLES.values())[: list(STANDIN_TABLES).index(failed["table"])]
    small_before = sum(
        r.count
        for r in vrouter_demand(settings, 4096).buddy_requests
        if r.order < 10 and any(r.purpose.startswith(purpose) for purpose in earlier)
    )
    supplies = zone_supplies(
        parse_buddyinfo(facts["buddyinfo"]),
        parse_zoneinfo(facts["zoneinfo"]),
        parse_pagetypeinfo(facts["pagetypeinfo"]),
    )
    usable = simulate_reload({10: 1_000_000}, supplies).granted[10]
    granted = failed["freed"] - small_before
    return {"usable": usable, "granted": granted, "unaccounted": usable - granted}


SPARE_SWEEP = range(4)
"""``contiguity_spare_blocks`` values ``--rejudge`` also tries, to show what the default buys."""


def by_spare_blocks(judged: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """False passes and false fails of the current model on stored facts, per spare-block count."""
    sweep = {}
    for spare in SPARE_SWEEP:
        replayed = [
            {**r, "predicted_fit": predicted_fit(r["facts_before_load"], r["vr_flow_entries"], spare)} for r in judged
        ]
        m = matrix(replayed)
        sweep[spare] = {key: m[key] for key in ("false_pass", "false_fail", "false_passes", "false_fails")}
    return sweep


def rejudge(results: Path, out: Path) -> int:
    """The matrix of the current model on every stored scenario that kept its facts."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    judged = [r for r in rows if r.get("facts_before_load") and r.get("loaded") is not None]
    replayed = [{**r, "predicted_fit": predicted_fit(r["facts_before_load"], r["vr_flow_entries"])} for r in judged]
    changed = [
        r["index"] for r, new in zip(judged, replayed, strict=True) if r["predicted_fit"] != new["predicted_fit"]
    ]
    unaccounted = {r["index"]: gap for r in judged if (gap := blocks_unaccounted(r)) is not None}
    sweep = by_spare_blocks(judged)
    m = {
        **matrix(replayed),
        "verdicts_changed_from_the_run": changed,
        "failed_loads_4mib_blocks": unaccounted,
        "by_spare_blocks": sweep,
    }
    out.write_text(json.dumps(m, indent=1) + "\n")
    print(f"rejudged {len(replayed)} of {len(rows)} scenarios with the current model ({len(changed)} verdicts changed)")
    print_matrix(m)
    for spare, cells in sweep.items():
        print(f"  {spare} spare order-10 blocks: {cells['false_pass']} false passes, {cells['false_fail']} false fails")
    return 0 if m["goal_met"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--near", type=int, default=0, help="scenarios placed at the threshold (indices from 1000)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "lab-accuracy")
    parser.add_argument("--resume", action="store_true", help="keep results.jsonl and run only the missing scenarios")
    parser.add_argument(
        "--rejudge", action="store_true", help="replay the current model on the stored facts; boot nothing"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    if args.rejudge:
        return rejudge(results, args.out / "rejudged.json")
    rows: list[dict[str, Any]] = []
    if args.resume and results.exists():
        rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r["seed"] == args.seed]
    else:
        results.write_text("")
    done = {r["index"] for r in rows}
    with tempfile.TemporaryDirectory(prefix="lab-accuracy-") as tmp:
        lab = Lab(run_dir=Path(tmp) / "run")
        lab.build()
        plan = [(i, scenario) for i in range(args.n)] + [(NEAR_START + i, near_scenario) for i in range(args.near)]
        for position, (index, make) in enumerate(plan):
            if index in done:
                continue
            settings = make(index, args.seed)
            try:
                row = run_scenario(lab, settings, Path(tmp))
            except LabError as exc:  # recorded, never counted as a prediction
                row = {**settings, "gate": None, "predicted_fit": None, "loaded": None, "error": str(exc)[-2000:]}
            rows.append(row)
            with results.open("a") as out:
                out.write(json.dumps(row, sort_keys=True) + "\n")
            m = matrix(rows)
            (args.out / "matrix.json").write_text(json.dumps(m, indent=1) + "\n")
            print(
                f"[{position + 1}/{len(plan)}] #{index} gate={row['gate']} loaded={row['loaded']} "
                f"flow={settings['vr_flow_entries']} frag={settings['fragment']} zones={settings['zones']} "
                f"lowmem={settings['lowmem_reserve_ratio']} ({row.get('seconds', '-')} s)",
                flush=True,
            )
        lab.down()
    m = matrix(rows)
    (args.out / "matrix.json").write_text(json.dumps(m, indent=1) + "\n")
    print_matrix(m)
    return 0 if m["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
