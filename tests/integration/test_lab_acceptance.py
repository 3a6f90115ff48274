"""Acceptance against the compute lab (lab/): the gate's verdict versus what the kernel really does.

Opt-in: ``VRPF_LAB_TESTS=1``. Each scenario is a FRESH boot of one lab guest (QEMU/TCG,
Debian 6.1, two NUMA nodes), shaped with the fragmenter and sysctls. Then:

1. the suite runs read-only against the guest through sshd, as an operator runs it
   (``pytest checks --inventory <lab inventory>``), with the stand-in NOT loaded; the
   ``contiguous_blocks`` outcome in ``summary.json`` is the gate's verdict;
2. with nothing in between, the stand-in vRouter module is loaded (``modprobe vrouter``):
   the ground truth. The verdict must match it: a false pass fails the test, and so does a
   false fail (it fails with both sides' evidence, to be explained by a human).

The "fragmented with free 1G pages" guest also runs ``--destructive`` (supervisor stand-ins):
the planned page is released, the stand-in reloads healthy, and the rollback is reported as
the pools read back afterwards show it — "restored" or "shortfall" (re-reserving a boot-time
1G page fails about half the time on this kernel, ``../shared/notes/lab.md`` step 4).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.lab import Guest, GuestSpec, Lab, LoadResult
from tests.suite_runs import run_suite

pytestmark = [
    pytest.mark.skipif(os.environ.get("VRPF_LAB_TESTS") != "1", reason="lab tests are opt-in: VRPF_LAB_TESTS=1"),
    pytest.mark.xdist_group("lab-acceptance"),
    pytest.mark.timeout(600),
]

GIB_KIB = 1_048_576
RAISED_DMA32_PROTECTION = "256 1 32 0"  # DMA32 keeps all of node 0's Normal size from Normal-capable requests


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with its own run dir (so `make lab-down` elsewhere cannot touch it); built if needed."""
    lab = Lab(run_dir=tmp_path_factory.mktemp("lab-run"))
    lab.build()
    yield lab
    lab.down()


@pytest.fixture
def boot(lab: Lab) -> Iterator[Callable[..., Guest]]:
    """Boot a fresh guest for this test; it is stopped when the test ends, whatever happens."""
    names: list[str] = []

    def _boot(tag: str, **spec: Any) -> Guest:
        [guest] = lab.boot(GuestSpec(f"acc-{tag}-{os.getpid()}", **spec))
        names.append(guest.name)
        return guest

    try:
        yield _boot
    finally:
        lab.down(names)


@dataclass
class Judged:
    """One read-only run of the suite and the stand-in's load right after it."""

    rc: int
    summary: dict[str, Any]
    stdout: str
    truth: LoadResult

    @property
    def host(self) -> dict[str, Any]:
        hosts: dict[str, dict[str, Any]] = self.summary["hosts"]
        [host] = hosts.values()
        return host

    def check(self, check_id: str) -> dict[str, Any]:
        return next(c for c in self.host["checks"] if c["id"] == check_id)

    @property
    def gate_passed(self) -> bool:
        outcome = self.check("contiguous_blocks")["outcome"]
        assert outcome in {"passed", "failed"}, f"the gate could not judge: {self.check('contiguous_blocks')}"
        return bool(outcome == "passed")

    def free_o10(self) -> int:
        """Free order-10 blocks of every zone, as a naive buddyinfo count sees them."""
        return sum(blocks[10] for zones in self.host["supply"]["free_blocks"].values() for blocks in zones.values())


def judge(lab: Lab, guest: Guest, tmp_path: Path) -> Judged:
    """The suite read-only through sshd (stand-in not loaded), then the ground truth with nothing in between."""
    assert not guest.run("test -d /sys/module/vrouter").ok, "the stand-in must not be loaded while the gate reads"
    inventory = lab.write_inventory(tmp_path / "inventory.yaml", [guest])
    summary_path = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary_path}")
    assert "Traceback" not in result.stdout + result.stderr, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(summary_path.read_text())
    truth = guest.load_standin()
    judged = Judged(result.returncode, summary, result.stdout, truth)
    # The whole read-only run is sound: every check judged, exit status as the outcomes say.
    outcomes = Counter(c["outcome"] for c in judged.host["checks"])
    assert outcomes["error"] == 0, result.stdout[-3000:]
    assert judged.check("reachable")["outcome"] == "passed"
    assert summary["exit_status"] == result.returncode == (1 if outcomes["failed"] else 0), result.stdout[-3000:]
    assert [c["id"] for c in judged.host["checks"] if c["outcome"] == "failed"] in ([], ["contiguous_blocks"])
    # The verdict against the ground truth. A false fail is not waved through either.
    gate = judged.check("contiguous_blocks")
    evidence = (
        f"gate: {gate['outcome']}: {gate['message']}\n"
        f"stand-in: loaded={truth.loaded} rc={truth.rc} failed={truth.failed} taken={dict(truth.taken)}\n"
        f"kernel log:\n{truth.kernel_log[-2000:]}"
    )
    if judged.gate_passed and not truth.loaded:
        pytest.fail(f"FALSE PASS: the gate said a reload fits, the stand-in failed to load\n{evidence}")
    if not judged.gate_passed and truth.loaded:
        pytest.fail(f"FALSE FAIL (unexplained): the gate said no, the stand-in loaded\n{evidence}")
    if not truth.loaded:
        assert truth.failed is not None and truth.rc != 0, evidence
    return judged


def test_healthy_node_passes_and_loads_exactly_the_modelled_blocks(
    lab: Lab, boot: Callable[..., Guest], tmp_path: Path
) -> None:
    guest = boot("healthy", hp1g={0: 1, 1: 1}, hp2m=64)
    judged = judge(lab, guest, tmp_path)
    assert judged.gate_passed and judged.truth.loaded
    assert judged.rc == 0
    asked = {int(order): n for order, n in judged.host["demand"]["buddy_blocks"].items()}
    assert dict(Counter(judged.truth.orders())) == {10: 44, 9: 2, 8: 1}
    assert asked == {10: 44 + 2, 9: 2, 8: 1}  # the gate's ask: the tables plus contiguity_spare_blocks


def test_fragmented_on_one_node_still_fits_on_the_other(lab: Lab, boot: Callable[..., Guest], tmp_path: Path) -> None:
    guest = boot("one-node", hp1g={0: 1, 1: 1})
    guest.fragment(nodes=(1,))
    judged = judge(lab, guest, tmp_path)
    assert judged.host["supply"]["free_blocks"]["1"]["Normal"][10] < 44, "node 1 was meant to be fragmented"
    assert judged.gate_passed and judged.truth.loaded
    assert any(place.startswith("node0/") for place in judged.truth.taken), judged.truth.taken


def test_fragmented_on_both_nodes_fails_and_the_reload_fails(
    lab: Lab, boot: Callable[..., Guest], tmp_path: Path
) -> None:
    guest = boot("both", hp1g={0: 0, 1: 0})
    guest.fragment(nodes=(0, 1))
    judged = judge(lab, guest, tmp_path)
    assert not judged.gate_passed and not judged.truth.loaded
    assert judged.rc == 1
    assert judged.truth.failed is not None and judged.truth.failed.order == 10
    assert "not enough contiguous memory" in judged.check("contiguous_blocks")["message"]


@pytest.mark.parametrize(
    ("protection", "fits"),
    [pytest.param(None, True, id="default-protection"), pytest.param(RAISED_DMA32_PROTECTION, False, id="raised")],
)
def test_order10_left_only_in_dma32(
    lab: Lab, boot: Callable[..., Guest], tmp_path: Path, protection: str | None, fits: bool
) -> None:
    """Only DMA32 keeps order-10 blocks: usable with the default protection, not with a raised one
    (there a naive buddyinfo count passes and the reload fails)."""
    guest = boot("dma32" if protection is None else "dma32-raised", hp1g={0: 0, 1: 0})
    if protection is not None:
        assert guest.sysctl("vm.lowmem_reserve_ratio", protection).split()[:2] == protection.split()[:2]
    guest.fragment(nodes=(0, 1), zones="Normal")
    judged = judge(lab, guest, tmp_path)
    free = judged.host["supply"]["free_blocks"]
    assert free["0"]["Normal"][10] + free["1"]["Normal"][10] < 44, "the Normal zones were meant to be fragmented"
    assert free["0"]["DMA32"][10] >= 44 and judged.free_o10() >= 44, "a naive count must see enough order-10 blocks"
    assert judged.gate_passed is fits and judged.truth.loaded is fits
    if fits:
        assert "node0/DMA32" in judged.truth.taken, judged.truth.taken
    else:
        assert "DMA32" in judged.check("contiguous_blocks")["message"]


def test_fragmented_with_free_1g_pages_gate_then_destructive_remediation(
    lab: Lab, boot: Callable[..., Guest], tmp_path: Path
) -> None:
    guest = boot("free-1g", hp1g={0: 1, 1: 1})
    guest.fragment(nodes=(0, 1))
    judged = judge(lab, guest, tmp_path)
    assert not judged.gate_passed and not judged.truth.loaded
    assert "free 1 × 1G page on node 0 or on node 1" in judged.check("contiguous_blocks")["message"]

    # The failed load freed what it took; now the destructive stage, as an operator runs it.
    before = {node: sizes[GIB_KIB][0] for node, sizes in guest.hugepages().items()}
    assert before == {0: 1, 1: 1}
    inventory = lab.write_inventory(tmp_path / "destructive.yaml", [guest], destructive=True)
    summary_path = tmp_path / "destructive.json"
    result = run_suite(
        "--inventory",
        str(inventory),
        "--destructive",
        f"--journal-dir={tmp_path / 'journal'}",
        f"--summary-json={summary_path}",
    )
    output = result.stdout[-4000:] + result.stderr[-2000:]
    summary = json.loads(summary_path.read_text())
    [host] = summary["hosts"].values()
    remediation = next(c for c in host["checks"] if c["id"] == "remediation")
    released = {int(n): p for n, p in remediation["released"].items() if p}
    restored = {int(n): p for n, p in remediation["restored"].items()}
    shortfall = {int(n): p for n, p in remediation["shortfall"].items() if p}

    # The planned page was released and the stand-in reloaded healthy.
    assert sum(released.values()) == 1 and set(released) <= {0, 1}, remediation
    for problem in ("not healthy", "reload command failed", "failure signature", "NOT restored"):
        assert problem not in remediation["message"], remediation["message"]
    assert guest.run("test -d /sys/module/vrouter").ok, "the stand-in is not loaded after the destructive run"
    assert "contrail-vrouter-agent        active" in guest.contrail_status()

    # The rollback is reported as the pools read back: restored, or the exact shortfall.
    after = {node: sizes[GIB_KIB][0] for node, sizes in guest.hugepages().items()}
    for node in (0, 1):
        assert after[node] == before[node] - shortfall.get(node, 0), (after, remediation)
        assert restored.get(node, 0) + shortfall.get(node, 0) == released.get(node, 0), remediation
    assert summary["exit_status"] == result.returncode == 1, output  # the gate itself failed in this run
    if shortfall:
        assert remediation["outcome"] == "failed", remediation
        assert remediation["journal_closed"] is False and remediation["back"] is False
        short = ", ".join(f"{p} × 1G on node {n}" for n, p in shortfall.items())
        assert f"could not restore {short}" in remediation["message"]
    else:
        assert remediation["outcome"] == "passed", remediation
        assert remediation["journal_closed"] is True and remediation["back"] is True
        assert "vRouter healthy, pools restored" in remediation["message"]
