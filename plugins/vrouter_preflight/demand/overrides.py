"""The inventory's ``vrouter:`` block: what to assume about vRouter instead of the node's own facts.

Each field is the declaration of its key (check, range, doc line: see
:mod:`vrouter_preflight.keys.spec`); the table-size ranges are the demand
model's own (:mod:`vrouter_preflight.demand.limits`). The inventory loader
builds a :class:`VrouterOverrides` from the YAML mapping; the demand model and
the destructive stage read it.

>>> from vrouter_preflight.keys.spec import Section
>>> Section(VrouterOverrides, "vRouter settings")({"release": "R2011", "flow_entries": 4194304})
... # doctest: +ELLIPSIS
VrouterOverrides(release='R2011', flow_entries=4194304, oflow_entries=None, ...)
"""

# key() returns dataclasses.field() carrying the key's declaration, and every default it sets is immutable
# (strings, numbers, frozen dataclasses); ruff cannot see that through a type alias.
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from vrouter_preflight.demand.limits import CONTIGUITY_MARGIN, OVERFLOW_ENTRIES, SPARE_BLOCKS, TABLE_ENTRIES
from vrouter_preflight.demand.release import parse_release
from vrouter_preflight.facts.sizes import parse_size_kib
from vrouter_preflight.keys.checks import Choice, Invalid, Rule, Text, describe, seconds
from vrouter_preflight.keys.spec import key

HugepageMode = Literal["1G", "2M", "none"]
Deployment = Literal["supervisor", "compose", "rhosp"]

MAX_RELEASE = 32
_HUGEPAGE_MODES: dict[int, HugepageMode] = {1048576: "1G", 2048: "2M"}
_HUGEPAGE_EXPECTED = "1G, 2M or none (the page size the agent maps its tables on)"


def _release(value: object) -> str:
    if not isinstance(value, str):
        # YAML reads 4.1 as a number (and 4.10 as 4.1): ask for quotes.
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        hint = f"; quote it: release: '{value}'" if number and len(str(value)) <= MAX_RELEASE else ""
        raise Invalid(f"expected a release name as a string (e.g. 'R2011', '4.1'), got {describe(value)}{hint}")
    if len(value) > MAX_RELEASE:
        raise Invalid(f"expected a release name of at most {MAX_RELEASE} characters, got {describe(value)}")
    try:
        parse_release(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return value


def hugepage_mode(value: object) -> HugepageMode:
    """``1G`` / ``2M`` (also written ``1GB``, ``2048K``, ``1g``) or ``none``.

    >>> hugepage_mode("1GB"), hugepage_mode("2048kB"), hugepage_mode("None")
    ('1G', '2M', 'none')
    """
    if not isinstance(value, str):
        raise Invalid(f"expected {_HUGEPAGE_EXPECTED}, got {describe(value)}")
    if value.strip().lower() == "none":
        return "none"
    try:
        mode = _HUGEPAGE_MODES.get(parse_size_kib(value)) if len(value) <= MAX_RELEASE else None
    except ValueError:
        mode = None
    if mode is None:
        raise Invalid(f"expected {_HUGEPAGE_EXPECTED}, got {describe(value)}")
    return mode


_TABLE = "vRouter's module parameter"
_STAGE = "destructive stage:"


@dataclass(frozen=True)
class VrouterOverrides:
    """The inventory's ``vrouter:`` block: what to assume instead of the node's own facts.

    ``None`` means "not set": the demand model then reads the module's
    parameters, or uses vRouter's defaults.

    >>> VrouterOverrides(release="R2011", hugepage_size="1G").flow_entries is None
    True
    """

    release: str | None = key(
        None,
        Rule("a release name as a string: R3.2, '4.1', R1911, '2011', 21.4.L2, master", _release),
        "the vRouter release (quote it: YAML reads 4.1 as a number); unset: the newest table layout (R1911+)",
    )
    flow_entries: int | None = key(None, TABLE_ENTRIES, f"{_TABLE} `vr_flow_entries`: main flow table entries")
    oflow_entries: int | None = key(None, OVERFLOW_ENTRIES, f"{_TABLE} `vr_oflow_entries`: overflow flow entries")
    bridge_entries: int | None = key(None, TABLE_ENTRIES, f"{_TABLE} `vr_bridge_entries`: main bridge table entries")
    bridge_oentries: int | None = key(None, OVERFLOW_ENTRIES, f"{_TABLE} `vr_bridge_oentries`: overflow bridge entries")
    nexthops: int | None = key(None, TABLE_ENTRIES, f"{_TABLE} `vr_nexthops` (524288 from R1911, 65536 before)")
    hugepage_size: HugepageMode | None = key(
        None,
        Rule(_HUGEPAGE_EXPECTED + "; also written 1GB, 2048K", hugepage_mode),
        "hugepage mode (R2005+); unset: `[RESTART] huge_page_1G/2M` in the agent's config, else buddy mode",
    )
    contiguity_margin: float | None = key(
        None, CONTIGUITY_MARGIN, "multiplies every buddy request before the replay (unset: 1.0)"
    )
    contiguity_spare_blocks: int | None = key(
        None,
        SPARE_BLOCKS,
        "free 4 MiB blocks the gate wants beyond the demand (unset: 2; see "
        "[Gate accuracy on the lab](#gate-accuracy-on-the-lab))",
    )
    hugepage_dir: str | None = key(
        None, Text("a file path"), "trial allocation: the agent's hugetlbfs mount to check (on the target)"
    )
    deployment: Deployment | None = key(
        None,
        Choice(get_args(Deployment)),
        f"{_STAGE} how vRouter is run, which gives the reload and health commands and the agent log",
    )
    reload_command: str | None = key(
        None, Text("a shell command", newline_allowed=True), f"{_STAGE} the reload, instead of the deployment's"
    )
    health_command: str | None = key(
        None,
        Text("a shell command", newline_allowed=True),
        f"{_STAGE} succeeds once the agent is healthy, instead of the deployment's",
    )
    health_timeout: float | None = key(
        None, seconds(3600), f"{_STAGE} how long to wait for health (unset: the deployment's, else 300)"
    )
    agent_log: str | None = key(
        None, Text("a file path"), f"{_STAGE} the agent log scanned after the reload (on the target)"
    )
    reload_timeout: float | None = key(None, seconds(3600), f"{_STAGE} how long the reload may run (unset: 600)")
    health_interval: float | None = key(None, seconds(600), f"{_STAGE} seconds between health polls (unset: 5)")
