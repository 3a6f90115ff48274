"""Parsing an input of n units costs about n times one unit, for every parser: never O(n²).

Each parser reads a valid input grown from real data (n zones, n hosts, n records, n key lines …) at two
sizes, 1x and 8x (the host marker is left out: it reads 4 KiB at most); both must parse, so the property is
never met by failing early. Two measures, both with a generous bound against the 8 a linear parser gives (64
for a quadratic one):

* **Work, counted** (the assertion that decides): the Python line and call events of the parse under
  ``sys.settrace``, the same on every machine and every run; the ratio must stay at most
  :data:`EVENTS_RATIO`. It misses work done inside C (a regular expression, ``str.find``).
* **CPU time**: ``time.process_time`` of the same parses (the least of :data:`REPEATS` tries, the garbage
  collector off), at most :data:`CPU_RATIO`, to catch work done in C. CPU time, not the wall clock, so
  another process on this machine slows both sizes alike; a ratio within one test, not a figure, as bench/
  measures speed. The bound is half a quadratic's 64 because the allocator and the caches alone make a
  linear parse cost up to 17x at these sizes (one line of 160,000 cpuinfo flags: 34x, which is why
  cpuinfo grows by processors); the smaller input takes 1 to 6 ms, so the clock's grain does not count.
"""

from __future__ import annotations

import gc
import itertools
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.property.strategies import DATA, corpus_texts
from tests.property.test_capture_answer import BOUNDARY
from tests.property.test_ssh_files import ED25519
from vrouter_preflight.capture_answer import read_capture_answer
from vrouter_preflight.facts.agent_conf import parse_agent_conf
from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
from vrouter_preflight.facts.cmdline import parse_cmdline
from vrouter_preflight.facts.cpuinfo import parse_cpu_flags
from vrouter_preflight.facts.hugetlbfs_files import parse_hugetlbfs_files
from vrouter_preflight.facts.meminfo import parse_meminfo, parse_node_meminfo
from vrouter_preflight.facts.mounts import parse_mounts
from vrouter_preflight.facts.os_release import parse_os_release
from vrouter_preflight.facts.pagetypeinfo import parse_pagetypeinfo
from vrouter_preflight.facts.values import parse_id_list, parse_int_vector
from vrouter_preflight.facts.zoneinfo import parse_zoneinfo
from vrouter_preflight.inventory import load_inventory
from vrouter_preflight.inventory_sources import select_hosts, universe_from_labels
from vrouter_preflight.remediation.journal import replayable_journal
from vrouter_preflight.transport.known_hosts import KnownHostsIndex
from vrouter_preflight.transport.sosreport import parse_sysctl_all
from vrouter_preflight.transport.ssh_config_index import SshConfigIndex

SCALE = 8
EVENTS_RATIO = 12.0
CPU_RATIO = 32.0
REPEATS = 5
_WORKDIR = Path(tempfile.mkdtemp(prefix="vrpf-property-linear-"))
_NUMBERS = itertools.count()


def _file(text: str, name: str) -> Path:
    folder = _WORKDIR / str(next(_NUMBERS))
    folder.mkdir()
    (folder / name).write_text(text)
    return folder / name


def _node_copies(text: str, nodes: int) -> str:
    """A one-node capture as if the machine had ``nodes`` nodes: each run of ``Node 0,`` lines repeated."""
    out: list[str] = []
    group: list[str] = []
    for line in [*text.splitlines(), ""]:
        if re.match(r"Node\s+0,", line):
            group.append(line)
            continue
        for node in range(nodes):
            out.extend(re.sub(r"Node(\s+)0,", rf"Node\g<1>{node},", row, count=1) for row in group)
        group = []
        out.append(line)
    return "\n".join(out)


_CPUINFO = (DATA / "sosreport" / "sosreport-vm-debian12" / "proc" / "cpuinfo").read_text()  # two processors


def _zoneinfo(nodes: int) -> str:
    text = (DATA / "corpus" / "zoneinfo" / "el9-5.14-small-vm.txt").read_text()
    return "".join(text.replace("Node 0,", f"Node {node},") for node in range(nodes))


def _one_node(kind: str) -> str:
    return next(text for text in corpus_texts(kind) if "Node 1," not in text and "Node    1," not in text)


def _capture_answer(files: int) -> str:
    records = "".join(f"{BOUNDARY} F cmd:{i}\nline {i}\n\n{BOUNDARY} E 0 \n" for i in range(files))
    return f"{records}{BOUNDARY} Z\n"


def _known_hosts(hosts: int) -> Callable[[], object]:
    text = "".join(f"c{i},10.0.{i // 250}.{i % 250} ssh-ed25519 {ED25519}\n" for i in range(hosts))
    text += f"*.lab,!bad.lab ssh-ed25519 {ED25519}\n"

    def parse_and_look_up_every_host() -> object:
        index = KnownHostsIndex("kh")
        index.add_text(text)
        return [index.lookup(f"c{i}") for i in range(hosts)]

    return parse_and_look_up_every_host


def _ssh_config(hosts: int) -> Callable[[], object]:
    text = "User ops\n" + "".join(f"Host c{i}\n  HostName 10.0.0.{i % 250}\n  Port {2200 + i}\n" for i in range(hosts))

    def parse_and_look_up_every_host() -> object:
        index = SshConfigIndex.parse(text)
        return [index.text_for(f"c{i}") for i in range(hosts)]

    return parse_and_look_up_every_host


def _journal(records: int) -> Path:
    lines = [
        {
            "seq": 1,
            "at": "t",
            "run": "r1",
            "event": "begin",
            "host": {"name": "c0"},
            "restore": [{"node": 0, "size_kib": 1048576, "nr": 2}],
        },
        *({"seq": 2 + i, "at": "t", "run": "r1", "event": "released", "nr": {"0": 1}} for i in range(records)),
    ]
    return _file("".join(json.dumps(line) + "\n" for line in lines), "c0.json")


def _suite_inventory(hosts: int) -> Path:
    body = "".join(
        f"  c{i}: {{address: 192.0.2.{i % 250}, port: {2000 + i}, groups: [rack{i % 7}]}}\n" for i in range(hosts)
    )
    return _file(f"defaults: {{user: heat-admin}}\nhosts:\n{body}", "inventory.yaml")


def _ini_inventory(hosts: int) -> Path:
    body = "".join(f"compute{i} ansible_host=192.0.2.{i % 250} ansible_port={2000 + i}\n" for i in range(hosts))
    return _file(f"[compute]\n{body}\n[all:vars]\nansible_user=kolla\n", "hosts")


def _yaml_inventory(hosts: int) -> Path:
    body = "".join(f"        compute{i}: {{ansible_host: 192.0.2.{i % 250}}}\n" for i in range(hosts))
    return _file(f"all:\n  children:\n    compute:\n      hosts:\n{body}", "inventory.yml")


def _list_json(hosts: int) -> Path:
    names = [f"compute{i}" for i in range(hosts)]
    data = {
        "_meta": {"hostvars": {name: {"ansible_host": "192.0.2.1", "ansible_port": 22} for name in names}},
        "all": {"children": ["compute"]},
        "compute": {"hosts": names},
    }
    return _file(json.dumps(data), "inventory.json")


def _tf_instances(hosts: int) -> Path:
    body = "".join(
        f"  kvm{i}:\n    provider: bms\n    ip: 10.0.35.{i % 250}\n    roles:\n      vrouter:\n" for i in range(hosts)
    )
    return _file(f"provider_config:\n  bms:\n    ssh_user: root\ninstances:\n{body}", "instances.yaml")


def _limit(hosts: int) -> Callable[[], object]:
    universe = universe_from_labels((f"c{i}", [f"rack{i % 7}"]) for i in range(hosts))
    pattern = "rack1,rack2*,c1*,!rack3,&all"
    return lambda: select_hosts(pattern, universe)


def _text(parse: Callable[[str], object], grow: Callable[[int], str]) -> Callable[[int], Callable[[], object]]:
    return lambda n: (lambda text: lambda: parse(text))(grow(n))


def _path(load: Callable[[Path], object], grow: Callable[[int], Path]) -> Callable[[int], Callable[[], object]]:
    return lambda n: (lambda path: lambda: load(path))(grow(n))


@dataclass(frozen=True)
class Growth:
    """One parser and how its input grows: ``make(n)`` gives the parse of an input of n units, ready to run."""

    name: str
    make: Callable[[int], Callable[[], object]] = field(repr=False)
    base: int


SOURCE = "/proc/x"
GROWTHS = (
    Growth("buddyinfo", _text(parse_buddyinfo, lambda n: _node_copies(_one_node("buddyinfo"), n)), 200),
    Growth("zoneinfo", _text(parse_zoneinfo, _zoneinfo), 16),
    Growth("pagetypeinfo", _text(parse_pagetypeinfo, lambda n: _node_copies(_one_node("pagetypeinfo"), n)), 24),
    Growth("meminfo", _text(parse_meminfo, lambda n: "".join(f"Key{i}: {i} kB\n" for i in range(n))), 2000),
    Growth(
        "node-meminfo",
        _text(lambda t: parse_node_meminfo(t, SOURCE), lambda n: "".join(f"Node 3 Key{i}: {i} kB\n" for i in range(n))),
        1600,
    ),
    Growth(
        "cmdline", _text(parse_cmdline, lambda n: " ".join(f"p{i}=v{i}" for i in range(n)) + " hugepages=4\n"), 2000
    ),
    Growth(
        "agent-conf",
        _text(parse_agent_conf, lambda n: "".join(f"[S{i}]\nkey{i}=value # note\n" for i in range(n))),
        2000,
    ),
    Growth("cpuinfo", _text(parse_cpu_flags, lambda n: _CPUINFO * n), 300),
    Growth(
        "mounts",
        _text(parse_mounts, lambda n: "".join(f"hugetlbfs /mnt/h{i} hugetlbfs rw,pagesize=1G 0 0\n" for i in range(n))),
        1000,
    ),
    Growth("os-release", _text(parse_os_release, lambda n: "".join(f'KEY_{i}="value {i}"\n' for i in range(n))), 1000),
    Growth(
        "hugetlbfs-files",
        _text(parse_hugetlbfs_files, lambda n: "".join(f"1073741824 /dev/hugepages1G/t{i}\n" for i in range(n))),
        2000,
    ),
    Growth("int-vector", _text(lambda t: parse_int_vector(t, SOURCE), lambda n: " ".join(["256"] * n) + "\n"), 5000),
    Growth(
        "id-list",
        _text(lambda t: parse_id_list(t, SOURCE), lambda n: ",".join(str(2 * i) for i in range(n)) + "\n"),
        4000,
    ),
    Growth("capture-answer", _text(lambda t: read_capture_answer(t, BOUNDARY), _capture_answer), 1000),
    Growth("known-hosts", _known_hosts, 400),
    Growth("ssh-config", _ssh_config, 400),
    Growth("sysctl", _text(parse_sysctl_all, lambda n: "".join(f"vm.key_{i} = {i}\n" for i in range(n))), 3000),
    Growth("journal", _path(replayable_journal, _journal), 600),
    Growth("suite-inventory", _path(load_inventory, _suite_inventory), 50),
    Growth("ansible-ini", _path(load_inventory, _ini_inventory), 50),
    Growth("ansible-yaml", _path(load_inventory, _yaml_inventory), 50),
    Growth("ansible-list-json", _path(load_inventory, _list_json), 100),
    Growth("tf-instances", _path(load_inventory, _tf_instances), 50),
    Growth("limit", _limit, 2000),
)


def traced_events(call: Callable[[], object]) -> int:
    """Python call and line events while ``call`` runs: a count of work that is the same on every run.

    >>> traced_events(lambda: sum(range(10))) < traced_events(lambda: [i for i in range(10)])
    True
    """
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def cpu_seconds(call: Callable[[], object]) -> float:
    """The least CPU time of REPEATS runs of ``call``, the garbage collector off."""
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(REPEATS):
            start = time.process_time()
            call()
            best = min(best, time.process_time() - start)
    finally:
        if collecting:
            gc.enable()
    return best


@pytest.mark.parametrize("growth", GROWTHS, ids=lambda growth: growth.name)
def test_parsing_costs_linear_work(growth: Growth) -> None:
    counted = max(growth.base // 4, 1)  # a count is exact at any size: a quarter keeps tracing quick
    small, large = growth.make(counted), growth.make(counted * SCALE)
    small(), large()  # both sizes parse (an early error would make any ratio small); caches are warm
    events = traced_events(large) / traced_events(small)
    assert events <= EVENTS_RATIO, f"{growth.name}: {SCALE}x the input cost {events:.1f}x the work"
    small, large = growth.make(growth.base), growth.make(growth.base * SCALE)
    small(), large()
    seconds = cpu_seconds(large) / max(cpu_seconds(small), 1e-6)
    assert seconds <= CPU_RATIO, f"{growth.name}: {SCALE}x the input cost {seconds:.1f}x the CPU time"
