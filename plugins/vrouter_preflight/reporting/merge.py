"""One summary from the summaries of a sharded run (``vrouter-preflight merge``).

CI runners that split a region with ``--shard I/N`` each write a JSON summary of
their slice; merged, they give the summary, the verdict and the exit status one
unsharded run would have given. Every input must be a summary of the same
suite and schema; a host may appear in one input only (overlapping slices, or
the same file twice, are refused).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vrouter_preflight.records import overall_verdict, utc_timestamp

#: A summary larger than this is not a summary (a 1000-host summary is a few MB).
MAX_SUMMARY_BYTES = 256 * 1024 * 1024


#: What every shard of one run has the same (a summary without a change ticket has none).
SHARDS_AGREE_ON = ("schema_version", "suite_version", "change_ticket")


class MergeError(Exception):
    """The summaries cannot be merged; the message names the file and why."""


def merge_summaries(
    summaries: Sequence[tuple[str, Mapping[str, Any]]], *, generated_at: str | None = None
) -> dict[str, Any]:
    """Merge ``(source name, summary)`` pairs into one summary.

    Hosts keep the order of the inputs; the run's verdict is recomputed from the
    hosts and the exit status is the worst of the inputs'. Shards of one run agree on
    the schema, the suite's version and the change ticket; a summary that differs is refused.

    >>> a = {"schema_version": 1, "suite_version": "0.1.0", "inventory": "fleet.yaml", "exit_status": 0,
    ...      "verdict": "pass", "hosts": {"c0": {"verdict": "pass"}}}
    >>> b = dict(a, exit_status=1, verdict="fail", hosts={"c1": {"verdict": "fail"}})
    >>> merged = merge_summaries([("s1.json", a), ("s2.json", b)], generated_at="2026-12-03T09:00:00Z")
    >>> merged["verdict"], merged["exit_status"], list(merged["hosts"])
    ('fail', 1, ['c0', 'c1'])
    >>> merge_summaries([("s1.json", a), ("again.json", a)])
    Traceback (most recent call last):
    ...
    vrouter_preflight.reporting.merge.MergeError: again.json: host 'c0' is also in s1.json (overlapping shards?)
    >>> merge_summaries([("s1.json", a), ("s2.json", dict(b, change_ticket={"id": "CHG-2"}))])
    Traceback (most recent call last):
    ...
    vrouter_preflight.reporting.merge.MergeError: s2.json: change_ticket {'id': 'CHG-2'} differs from s1.json's None
    """
    if not summaries:
        raise MergeError("no summary to merge")
    first_name, first = summaries[0]
    hosts: dict[str, Any] = {}
    source_of: dict[str, str] = {}
    exit_status = 0
    for name, summary in summaries:
        for key in SHARDS_AGREE_ON:
            if summary.get(key) != first.get(key):
                raise MergeError(f"{name}: {key} {summary.get(key)!r} differs from {first_name}'s {first.get(key)!r}")
        if not isinstance(summary.get("hosts"), Mapping):
            raise MergeError(f"{name}: not a vrouter-preflight summary (no hosts)")
        for host, entry in summary["hosts"].items():
            if host in hosts:
                raise MergeError(f"{name}: host {host!r} is also in {source_of[host]} (overlapping shards?)")
            hosts[host] = entry
            source_of[host] = name
        exit_status = max(exit_status, int(summary.get("exit_status", 0)))
    inventories = sorted({str(summary.get("inventory")) for _, summary in summaries})
    merged: dict[str, Any] = {key: value for key, value in first.items() if key not in ("hosts", "verdict")}
    merged.update(
        inventory=inventories[0] if len(inventories) == 1 else ", ".join(inventories),
        generated_at=generated_at or utc_timestamp(),
        exit_status=exit_status,
        verdict=overall_verdict([str(entry.get("verdict")) for entry in hosts.values()]),
        hosts=hosts,
    )
    merged.pop("rollout", None)
    return merged


def read_summary(path: Path) -> dict[str, Any]:
    """One summary file, size-capped; unreadable or not JSON is a MergeError naming the file.

    >>> read_summary(Path("/nonexistent/summary.json"))
    Traceback (most recent call last):
    ...
    vrouter_preflight.reporting.merge.MergeError: /nonexistent/summary.json: cannot read it: No such file or directory
    """
    try:
        if path.stat().st_size > MAX_SUMMARY_BYTES:
            raise MergeError(f"{path}: larger than {MAX_SUMMARY_BYTES} bytes: not a summary")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it: {exc.strerror}") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MergeError(f"{path}: not a vrouter-preflight summary (a JSON object is expected)")
    return data
