"""The destructive stage's own files read back, and a sosreport's command outputs.

* A journal (``--rollback-journal``), real ones written by :class:`Journal` and then mutated, cut, or
  replaced by junk: a loaded journal, or JournalError naming the file.
* The host marker under /run and the claim's reply: parsed or ``None``/``failed``, never an exception.
* sosreport's ``sysctl -a``, ``uname -a`` and ``version.txt``: whatever the text, a value.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error, touch
from tests.property.strategies import DATA, mutated, random_text
from vrouter_preflight.remediation.host_marker import HostMarker, decide_claim, parse_marker, parse_marker_reply
from vrouter_preflight.remediation.journal import (
    POOL_READING_EVENTS,
    Journal,
    JournalError,
    replayable_journal,
)
from vrouter_preflight.transport.sosreport import parse_sysctl_all, plugins_in_version_txt, release_from_uname

_WORKDIR = Path(tempfile.mkdtemp(prefix="vrpf-property-journal-"))
_NUMBERS = itertools.count()
SOS = DATA / "sosreport" / "sosreport-vm-debian12"


def _real_journals() -> tuple[str, ...]:
    """Journals as the destructive stage writes them: one closed, one left open mid-way."""
    host = {"name": "c0", "transport": "ssh", "address": "127.0.0.1", "port": 2222, "user": "root"}
    restore = [{"node": 0, "size_kib": 1048576, "nr": 2}, {"node": 1, "size_kib": 2048, "nr": 512}]
    texts = []
    for closed in (True, False):
        journal = Journal.open(_WORKDIR / f"seed-{closed}", "c0", begin={"host": host, "restore": restore})
        journal.record("release", node=0, pages=1)
        journal.record("released", nr={"0": 1, "1": None})
        journal.record("reload")
        if closed:
            journal.record("restored", nr={"0": 2, "1": 512})
            journal.close("restored")
        texts.append(journal.path.read_text())
    return tuple(texts)


JOURNALS = _real_journals()


@given(text=mutated(JOURNALS) | random_text())
@example(text=JOURNALS[0][: len(JOURNALS[0]) // 2])
@example(text='{"seq": 1, "at": "t", "run": "r", "event": "begin", "host": {"name": ""}}\n')
@example(text="[" * 20000 + "]" * 20000 + "\n")
@example(text='{"seq": 1, "at": "t", "run": "r", "event": "begin", "host": {"name": "c0"}, "restore": {"a": 1}}\n')
def test_journals_load_or_raise_journal_error(text: str) -> None:
    """Replayable, or one JournalError naming the file (the ``--rollback-journal`` contract)."""
    path = _WORKDIR / f"journal-{next(_NUMBERS)}.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")

    def load() -> object:
        loaded = replayable_journal(path)
        return loaded, loaded.describe(), loaded.changed, loaded.is_open, loaded.last_nr(POOL_READING_EVENTS)

    result, error = result_or_own_error(load, JournalError)
    touch(result)
    assert error is None or str(path) in str(error), str(error)


MARKER = HostMarker("c0", "r1", "/j/c0.json", "ctl", "2026-11-26T10:00:00Z").text()


@given(text=mutated((MARKER, "vrpf-marker=held\n" + MARKER, "vrpf-marker=claimed\n")) | random_text(), run=st.text())
# The holder's fields were quoted whole (4 KiB, escape sequences included): now cleaned, 1,024 characters each.
@example(text="vrpf-marker=held\n" + "run=" + "x" * 100_000, run="r1")
@example(text="vrpf-marker=other\nrun=r0\x1b]0;owned\x07\n", run="r1")
def test_marker_replies_parse(text: str, run: str) -> None:
    """Whatever a host prints back, a marker (or None) and a decision with a bounded message."""
    touch(parse_marker(text))
    decision = decide_claim(parse_marker_reply(text), run, stderr=text)
    assert decision.claimed or (decision.refusal is not None and len(decision.refusal) < 6 * 1024)
    holder = parse_marker_reply(text).holder
    assert holder is None or not any(ch < " " for ch in holder.describe()), holder


@given(
    sysctl=mutated(((SOS / "sos_commands/kernel/sysctl_-a").read_text(),)) | random_text(),
    uname=mutated(((SOS / "sos_commands/kernel/uname_-a").read_text(),)) | random_text(),
    version=mutated(((SOS / "version.txt").read_text(),)) | random_text(),
)
def test_sosreport_command_outputs_parse(sysctl: str, uname: str, version: str) -> None:
    touch(parse_sysctl_all(sysctl))
    touch(release_from_uname(uname))
    touch(plugins_in_version_txt(version))
