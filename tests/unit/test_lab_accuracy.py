"""The accuracy bench's judging on two real lab scenarios at the threshold (facts read by a 6.1 kernel).

Scenarios 1019 and 1020 of the seed-6 run: the same model verdicts at every spare-block count, opposite
truths (1019 loaded, 1020 failed on its 44th 4 MiB part). They are why the gate keeps spare blocks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.lab_accuracy import blocks_unaccounted, by_spare_blocks, matrix, predicted_fit

PAIR = Path(__file__).parent.parent / "data" / "lab-accuracy" / "threshold-pair.jsonl"


@pytest.fixture(scope="module")
def rows() -> dict[int, dict[str, Any]]:
    return {row["index"]: row for row in map(json.loads, PAIR.read_text().splitlines())}


def test_without_spare_blocks_the_model_passes_a_load_that_failed(rows: dict[int, dict[str, Any]]) -> None:
    failed = rows[1020]
    assert failed["loaded"] is False and failed["failed_chunk"]["order"] == 10
    assert predicted_fit(failed["facts_before_load"], failed["vr_flow_entries"], spare_blocks=0)
    assert not predicted_fit(failed["facts_before_load"], failed["vr_flow_entries"])


def test_the_kernel_granted_one_block_fewer_than_the_model_counted(rows: dict[int, dict[str, Any]]) -> None:
    assert blocks_unaccounted(rows[1020]) == {"usable": 44, "granted": 43, "unaccounted": 1}
    assert blocks_unaccounted(rows[1019]) is None  # loaded: nothing failed


def test_spare_sweep_counts_false_verdicts_per_spare(rows: dict[int, dict[str, Any]]) -> None:
    sweep = by_spare_blocks(list(rows.values()))
    assert (sweep[0]["false_passes"], sweep[0]["false_fails"]) == ([1020], [])
    assert (sweep[1]["false_passes"], sweep[1]["false_fails"]) == ([], [1019])


def test_matrix_cells_and_goal(rows: dict[int, dict[str, Any]]) -> None:
    judged = [{**row, "predicted_fit": False} for row in rows.values()]
    m = matrix(judged)
    assert (m["true_fail"], m["false_fail"], m["false_pass"]) == (1, 1, 0)
    assert m["false_fail_share_of_all"] == 0.5 and m["goal_met"] is False
    assert m["by_kind"] == {"near": {"n": 2, "true_pass": 0, "false_pass": 0, "true_fail": 1, "false_fail": 1}}
