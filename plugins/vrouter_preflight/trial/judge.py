"""Turning a trial report (and the agent's hugetlbfs mounts) into one verdict message. Pure.

A size passes when its pages were mapped, touched and given back, and the
pools read back exactly as before. Anything else fails: pages short (need and
supply), the kernel refusing or killing the worker, a node binding that did
not hold, and — loudest — any counter that differs after the trial.

The agent's hugetlbfs directory is part of the verdict when one is named
(``[RESTART] huge_page_1G/2M`` in the agent config, or ``vrouter.hugepage_dir``
for the configured size): it must be on a hugetlbfs mount of the same page
size, else the agent's mmap of ``flow``/``bridge`` fails or takes the wrong
pages and the reload falls back to buddy allocation. When none is named, the
message says the mount was not checked.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vrouter_preflight.facts.agent_conf import AgentConf
from vrouter_preflight.facts.mounts import HugetlbfsMount, Mount
from vrouter_preflight.facts.sizes import format_kib
from vrouter_preflight.trial.report import PoolState, SizeTrial, TrialReport, pool_changes, taken_by_node


@dataclass(frozen=True)
class MountFinding:
    """Whether the directory the agent maps its table files from is a hugetlbfs mount of the right size.

    >>> MountFinding(2048, "/dev/hugepages2M", "agent config", True, "hugetlbfs pagesize=2M").describe()
    '/dev/hugepages2M (agent config) is on hugetlbfs pagesize=2M'
    """

    size_kib: int
    directory: str
    source: str
    ok: bool
    detail: str

    def describe(self) -> str:
        """One phrase for the message."""
        if self.ok:
            return f"{self.directory} ({self.source}) is on {self.detail}"
        size = format_kib(self.size_kib)
        return f"{self.directory} ({self.source}) {self.detail}: the agent cannot map its {size} files"


def agent_directories(
    conf: AgentConf | None, inventory_dir: str | None, configured_kib: int | None
) -> dict[int, dict[str, str]]:
    """Per page size, the directories the agent maps ``flow``/``bridge`` from, with where that was read.

    >>> from vrouter_preflight.facts.agent_conf import parse_agent_conf
    >>> conf = parse_agent_conf("[RESTART]\\nhuge_page_2M=/dev/hugepages/bridge /dev/hugepages/flow\\n")
    >>> agent_directories(conf, None, 2048)
    {2048: {'/dev/hugepages': 'agent config [RESTART] huge_page_2M'}}
    >>> agent_directories(conf, "/mnt/huge2M", 2048)
    {2048: {'/mnt/huge2M': 'inventory vrouter.hugepage_dir'}}
    """
    found: dict[int, dict[str, str]] = {}
    for entry in () if conf is None else conf.hugepage_files():
        if entry.table is not None:
            key = "huge_page_1G" if entry.size_kib == 1048576 else "huge_page_2M"
            source = f"agent config [RESTART] {key}"
            found.setdefault(entry.size_kib, {})[posixpath.dirname(entry.path) or "/"] = source
    if inventory_dir is not None and configured_kib is not None:
        found[configured_kib] = {posixpath.normpath(inventory_dir): "inventory vrouter.hugepage_dir"}
    return found


def _containing_mount(directory: str, mounts: Sequence[Mount]) -> Mount | None:
    best: Mount | None = None
    for mount in mounts:
        point = mount.mountpoint.rstrip("/") or "/"
        inside = directory == point or directory.startswith(point + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best.mountpoint.rstrip("/") or "/")):
            best = mount
    return best


def check_mounts(
    directories: Mapping[int, Mapping[str, str]],
    sizes_kib: Sequence[int],
    mounts: Sequence[Mount] | None,
    hugetlbfs: Sequence[HugetlbfsMount] | None,
) -> tuple[list[MountFinding], list[str]]:
    """Findings for the tried sizes that have a directory, and notes for those without one.

    >>> from vrouter_preflight.facts.mounts import parse_mounts, hugetlbfs_mounts
    >>> mounts = parse_mounts("hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=1024M 0 0\\n")
    >>> found, notes = check_mounts({2048: {"/dev/hugepages": "agent config"}}, [2048], mounts,
    ...                             hugetlbfs_mounts(mounts, 2048))
    >>> found[0].describe()
    '/dev/hugepages (agent config) is hugetlbfs with pagesize=1G, not 2M: the agent cannot map its 2M files'
    """
    findings: list[MountFinding] = []
    notes: list[str] = []
    for size in sizes_kib:
        name = format_kib(size)
        named = directories.get(size, {})
        if not named:
            notes.append(
                f"no {name} hugetlbfs directory named by the agent config or vrouter.hugepage_dir: not checked"
            )
            continue
        for directory, source in sorted(named.items()):
            if mounts is None:
                notes.append(f"{directory} ({source}): /proc/mounts absent, mount not checked")
                continue
            mount = _containing_mount(directory, mounts)
            sizes = {m.mountpoint: m.pagesize_kib for m in hugetlbfs or ()}
            if mount is None or mount.fstype != "hugetlbfs":
                where = "no mount" if mount is None else f"{mount.fstype} at {mount.mountpoint}"
                findings.append(MountFinding(size, directory, source, False, f"is not on hugetlbfs ({where})"))
            elif sizes.get(mount.mountpoint) != size:
                has = sizes.get(mount.mountpoint)
                shown = "unknown" if has is None else format_kib(has)
                findings.append(
                    MountFinding(size, directory, source, False, f"is hugetlbfs with pagesize={shown}, not {name}")
                )
            else:
                findings.append(MountFinding(size, directory, source, True, f"hugetlbfs pagesize={name}"))
    return findings, notes


@dataclass(frozen=True)
class Judgement:
    """The check's result: pass or fail, and the one message."""

    ok: bool
    message: str


def _pages(trial: SizeTrial) -> str:
    return f"{trial.need} × {trial.size_name} (flow {trial.need_flow} + bridge {trial.need_bridge})"


def _supply(trial: SizeTrial, node: int | None) -> str:
    s = trial.supply
    text = f"{s.available} available (free {s.free} − reserved {s.resv})"
    if node is not None and s.node_free is not None:
        text += f", {s.node_free} free on node {node}"
    return text


def _taken(trial: SizeTrial) -> str:
    taken = {n: k for n, k in taken_by_node(trial).items() if k}
    return ", ".join(f"{k} from node {n}" for n, k in taken.items()) or "no node's free count moved"


def judge_size(trial: SizeTrial, node: int | None) -> Judgement:
    """The verdict for one page size.

    >>> from vrouter_preflight.trial.report import Supply
    >>> t = SizeTrial(2048, 77, 10, "short", "refused without allocating", Supply(50, 0, 50), {}, None, {}, 0.0)
    >>> for part in judge_size(t, None).message.split(": "): print(part)
    2M
    the tables need 87 × 2M (flow 77 + bridge 10), 50 available (free 50 − reserved 0)
    not tried, nothing allocated; reserve 37 more 2M pages
    """
    changes = pool_changes(trial.before, trial.after)
    if changes:
        listed = "; ".join(c.describe() for c in changes)
        return Judgement(
            False,
            f"{trial.size_name}: POOLS CHANGED by the trial ({trial.status}) — {listed}; "
            f"a page may still be held: look for a leftover helper process and compare /proc/meminfo HugePages_*",
        )
    name = trial.size_name
    if trial.status == "short":
        if trial.supply.free == 0 and trial.reason.startswith("the kernel has no"):
            return Judgement(False, f"{name}: {trial.reason}; the tables need {_pages(trial)}")
        supply = trial.supply.available
        if node is not None and trial.supply.node_free is not None:
            supply = min(supply, trial.supply.node_free)
        missing = trial.need - supply
        more = f"reserve {missing} more {name} pages" + ("" if node is None else f" on node {node}")
        return Judgement(
            False,
            f"{name}: the tables need {_pages(trial)}, {_supply(trial, node)}: not tried, nothing allocated; {more}",
        )
    if trial.status != "ok":
        return Judgement(
            False,
            f"{name}: asked for {_pages(trial)} with {_supply(trial, node)} and did not get them: "
            f"{trial.reason or trial.status}; pools read back as before",
        )
    taken = taken_by_node(trial)
    if node is not None and taken.get(node, 0) < trial.need:
        return Judgement(
            False,
            f"{name}: bound to node {node} but only {taken.get(node, 0)} of {trial.need} pages came from it "
            f"({_taken(trial)}); pools read back as before",
        )
    settled = f" (after {trial.settle_seconds:g} s)" if trial.settle_seconds else ""
    return Judgement(
        True,
        f"{name}: {_pages(trial)} mapped and touched, {_taken(trial)}; all given back, pools read back exactly "
        f"as before{settled}",
    )


def judge_trial(report: TrialReport, mounts: Sequence[MountFinding], notes: Sequence[str]) -> Judgement:
    """One verdict for every size tried, the mount findings and notes; fails when any part fails.

    >>> report = TrialReport("3.11.7", "x86_64", 0, "m", None, (_example_trial(),))
    >>> for part in judge_trial(report, [], []).message.split("; "): print(part)
    node 0: trial allocation passed: 2M: 87 × 2M (flow 77 + bridge 10) mapped and touched, 87 from node 0
    all given back, pools read back exactly as before [Python 3.11.7 on x86_64]
    >>> bad = MountFinding(2048, "/srv/huge", "agent config", False, "is not on hugetlbfs (ext4 at /)")
    >>> judge_trial(report, [bad], []).message.split(": the agent")[0]
    'node 0: trial allocation FAILED: /srv/huge (agent config) is not on hugetlbfs (ext4 at /)'
    """
    parts = [judge_size(trial, report.node) for trial in report.trials]
    bad_mounts = [m for m in mounts if not m.ok]
    ok = bool(parts) and all(p.ok for p in parts) and not bad_mounts
    failed = [p.message for p in parts if not p.ok] + [m.describe() for m in bad_mounts]
    passed = [p.message for p in parts if p.ok] + [m.describe() for m in mounts if m.ok]
    where = "" if report.node is None else f"node {report.node}: "
    head = "trial allocation " + ("passed" if ok else "FAILED")
    body = "; ".join(failed + passed + list(notes))
    return Judgement(ok, f"{where}{head}: {body} [Python {report.python} on {report.machine}]")


def pool_rows(trial: SizeTrial) -> list[list[object]]:
    """Rows of the before/during/after table of the trial's size: pool, counter, three readings.

    Per-node pools have no ``resv`` (nor, here, ``surplus``) counter: no row for them.
    (:func:`_example_trial`: 87 × 2M of node 0's 100 taken and given back.)

    >>> for row in pool_rows(_example_trial()): print(row)
    ['global', 'nr', 100, 100, 100]
    ['global', 'free', 100, 13, 100]
    ['global', 'resv', 0, 0, 0]
    ['global', 'surplus', 0, 0, 0]
    ['node 0', 'nr', 100, 100, 100]
    ['node 0', 'free', 100, 13, 100]
    """
    rows: list[list[object]] = []
    readings: list[PoolState | None] = [trial.before, trial.during, trial.after]
    first = trial.before.get(trial.size_kib)
    pools: list[int | None] = [None, *sorted(first.nodes)] if first is not None else [None]
    for node in pools:
        for counter in ("nr", "free", "resv", "surplus"):
            values: list[object] = []
            for state in readings:
                size = None if state is None else state.get(trial.size_kib)
                pool = None if size is None else (size.whole if node is None else size.nodes.get(node))
                values.append("" if pool is None else getattr(pool, counter))
            if any(v not in ("", None) for v in values):
                rows.append(["global" if node is None else f"node {node}", counter, *values])
    return rows


def _example_trial() -> SizeTrial:
    """A 2M trial for the examples: 87 pages (flow 77 + bridge 10) of node 0's 100 taken, all given back."""
    from vrouter_preflight.trial.report import PoolCounters, SizePools, Supply

    before = {2048: SizePools(2048, PoolCounters(100, 100, 0, 0), {0: PoolCounters(100, 100)})}
    during = {2048: SizePools(2048, PoolCounters(100, 13, 0, 0), {0: PoolCounters(100, 13)})}
    return SizeTrial(2048, 77, 10, "ok", "", Supply(100, 0, 100, 100), before, during, before, 0.0)
