"""The table sizes and memory mode a vRouter reload will use, and where each came from.

Precedence, per field: the inventory's ``vrouter:`` block > the loaded
module's parameters (``/sys/module/vrouter/parameters/<name>``) > vRouter's
default for the release. The hugepage size: inventory > agent config
(``[RESTART] huge_page_1G/2M``) > buddy mode. Figures are from domain notes §1.1, §1.2, §3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from vrouter_preflight.demand.limits import CONTIGUITY_MARGIN, OVERFLOW_ENTRIES, SPARE_BLOCKS, TABLE_ENTRIES
from vrouter_preflight.demand.overrides import VrouterOverrides
from vrouter_preflight.demand.release import ReleaseInfo, parse_release
from vrouter_preflight.keys.checks import Check, IntRange, Invalid, describe

DEFAULT_FLOW_ENTRIES = 512 * 1024  # VR_DEF_FLOW_ENTRIES, include/vr_flow.h
DEFAULT_BRIDGE_ENTRIES = 256 * 1024  # VR_DEF_BRIDGE_ENTRIES, include/vr_bridge.h
NEXTHOPS_NEW = 524_288  # vr_nexthops default from R1911 (ada37edd)
NEXTHOPS_OLD = 65_536  # vr_nexthops default up to R1910
FLOW_ENTRY_BYTES_NEW = 256  # struct vr_flow_entry from R1911
FLOW_ENTRY_BYTES_OLD = 128  # struct vr_flow_entry up to R1910
BRIDGE_ENTRY_BYTES = 64  # struct vr_bridge_entry, every release
HUGEPAGE_SIZES_KIB = {"1G": 1_048_576, "2M": 2048}
DEFAULT_SPARE_BLOCKS = 2
"""Free 4 MiB blocks the gate wants beyond the demand (``contiguity_spare_blocks``).

A fixed count, not a ratio (domain notes §9: the kernel keeps back a fixed
number of pages per zone). Two drifts of one block each were measured in the
lab (84 scenarios, README "Gate accuracy on the lab"): a free 4 MiB block went
between the gate's read and the load in 7 scenarios, and in 6 of 30 failed
loads the kernel granted one block fewer than the model counted usable on
facts read right before the load (unmovable allocations that find no
unmovable free page steal the largest free block there is; per-CPU lists are
not visible). Two spare blocks cover both at once. Re-judged on the stored
facts: with 0 spare blocks one reload the gate passed had failed; with 2, no
false pass and 4 false fails of 84.
"""
T = TypeVar("T")
_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 20  # a 64-bit unsigned value; longer is read as "too many digits", never converted

MODULE_PARAMETERS = {
    "flow_entries": "vr_flow_entries",
    "oflow_entries": "vr_oflow_entries",
    "bridge_entries": "vr_bridge_entries",
    "bridge_oentries": "vr_bridge_oentries",
    "nexthops": "vr_nexthops",
}
"""Settings field -> module parameter name under ``/sys/module/vrouter/parameters``."""


def auto_overflow(entries: int) -> int:
    """The overflow size vRouter picks when the parameter is 0: 20% of ``entries`` rounded up to 1K.

    ``((entries / 5) + 1023) & ~1023`` with C integer division (``dp-core/vr_flow.c``, ``vr_bridge.c``).

    >>> auto_overflow(524_288), auto_overflow(262_144), auto_overflow(4_194_304)
    (105472, 53248, 839680)
    """
    return ((entries // 5) + 1023) & ~1023


@dataclass(frozen=True)
class VrouterSettings:
    """The effective table sizes and memory mode of the next vRouter load.

    ``hugepage_size_kib`` is the configured hugepage size (``None``: buddy
    mode configured or nothing known). ``hugepage_mode`` says whether the
    reload will really put the flow and bridge tables in hugepages: only
    with a configured size *and* a release of R2005 or later (or unknown).
    Before R2005 the kernel does not use the hugepage files and silently
    allocates the tables from the buddy allocator, so the demand is that of
    buddy mode and ``warnings`` says so. ``sources`` names, per field, where
    the value came from: ``inventory``, ``module parameter``, ``agent
    config``, ``default`` or ``derived`` (computed from other fields).

    >>> from vrouter_preflight.demand import VrouterOverrides
    >>> s = vrouter_settings(VrouterOverrides(), {})
    >>> s.flow_entries, s.oflow_entries, s.flow_entry_bytes, s.nexthops, s.hugepage_size_kib
    (524288, 105472, 256, 524288, None)
    >>> s.sources["oflow_entries"], s.flow_table_entries
    ('derived', 629760)
    """

    release: str | None
    new_table_layout: bool
    flow_entry_bytes: int
    flow_entries: int
    oflow_entries: int
    bridge_entries: int
    bridge_oentries: int
    nexthops: int
    hugepage_size_kib: int | None
    contiguity_margin: float
    sources: Mapping[str, str]
    contiguity_spare_blocks: int = DEFAULT_SPARE_BLOCKS
    hugepage_mode: bool = False
    warnings: tuple[str, ...] = ()
    release_info: ReleaseInfo | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Refuse figures out of their plausible ranges, whoever built the settings: the demand stays bounded.

        >>> from dataclasses import replace
        >>> replace(vrouter_settings(VrouterOverrides(), {}), nexthops=99_999_999_999_999)
        Traceback (most recent call last):
        ...
        ValueError: nexthops: expected an integer from 1 to 67,108,864, got 99999999999999
        """
        for name, value in (
            ("flow_entries", self.flow_entries),
            ("oflow_entries", self.oflow_entries),
            ("bridge_entries", self.bridge_entries),
            ("bridge_oentries", self.bridge_oentries),
            ("nexthops", self.nexthops),
        ):
            _check_count(name, value, _RANGES[name])
        _check_count("contiguity_margin", self.contiguity_margin, CONTIGUITY_MARGIN)
        _check_count("contiguity_spare_blocks", self.contiguity_spare_blocks, SPARE_BLOCKS)

    @property
    def flow_table_entries(self) -> int:
        """Main plus overflow flow entries: what ``flow -l`` prints as ``entries``.

        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_settings(VrouterOverrides(flow_entries=4_194_304), {}).flow_table_entries
        5033984
        """
        return self.flow_entries + self.oflow_entries

    @property
    def bridge_entry_bytes(self) -> int:
        """Size of one bridge entry: 64 bytes in every release.

        >>> from vrouter_preflight.demand import VrouterOverrides
        >>> vrouter_settings(VrouterOverrides(release="R3.2"), {}).bridge_entry_bytes
        64
        """
        return BRIDGE_ENTRY_BYTES


def _module_values(module_parameters: Mapping[str, str]) -> dict[str, int]:
    """The table-size parameters found in ``module_parameters``, as integers in their plausible range.

    Other names are ignored; a value that is not an integer, or one no vRouter
    could have loaded, is a ``ValueError`` naming the parameter and the range.
    """
    values: dict[str, int] = {}
    for field_name, name in MODULE_PARAMETERS.items():
        raw = module_parameters.get(name)
        if raw is None:
            continue
        text = raw.strip()
        where = f"(from /sys/module/vrouter/parameters/{name})"
        if not _DIGITS.fullmatch(text):
            raise ValueError(f"module parameter {name}: expected a non-negative integer, got {describe(raw)} {where}")
        if len(text) > _MAX_DIGITS:
            found = f"an integer of {len(text):,} digits"
            raise ValueError(f"module parameter {name}: expected {_RANGES[field_name].expected}, got {found} {where}")
        value = int(text)
        if value or field_name not in _OVERFLOW_FIELDS:  # 0 is auto for an overflow table
            _check_count(f"module parameter {name}", value, _RANGES[field_name], where)
        values[name] = value
    return values


_OVERFLOW_FIELDS = ("oflow_entries", "bridge_oentries")
_RANGES: dict[str, IntRange] = {
    "flow_entries": TABLE_ENTRIES,
    "oflow_entries": OVERFLOW_ENTRIES,
    "bridge_entries": TABLE_ENTRIES,
    "bridge_oentries": OVERFLOW_ENTRIES,
    "nexthops": TABLE_ENTRIES,
}


def _check_count(name: str, value: object, plausible: Check[T], where: str = "") -> T:
    """``value`` if ``plausible`` accepts it, else a ``ValueError`` naming ``name``, the value and the range."""
    try:
        return plausible(value)
    except Invalid as exc:
        raise ValueError(f"{name}: {exc}{' ' + where if where else ''}") from None


def _main_count(field_name: str, override: int | None, params: Mapping[str, int], default: int) -> tuple[int, str]:
    if override is not None:
        return _check_count(f"{field_name} from inventory", override, _RANGES[field_name]), "inventory"
    param = MODULE_PARAMETERS[field_name]
    if param in params:
        return params[param], "module parameter"
    return default, "default"


def _overflow_count(
    field_name: str, override: int | None, params: Mapping[str, int], main: int, module_main: int
) -> tuple[int, str]:
    if override is not None:
        _check_count(f"{field_name} from inventory", override, _RANGES[field_name])
        return (override, "inventory") if override else (auto_overflow(main), "derived")
    raw = params.get(MODULE_PARAMETERS[field_name], 0)
    if raw == 0:
        return auto_overflow(main), "derived"
    if raw == auto_overflow(module_main) and main != module_main:
        # The kernel writes the auto value back into the parameter, so a loaded module shows
        # 105472, not 0; with a new main size from the inventory, auto means 20% of the new size.
        return auto_overflow(main), "derived"
    return raw, "module parameter"


def _hugepage_size(overrides: VrouterOverrides, agent_kib: int | None) -> tuple[int | None, str]:
    if overrides.hugepage_size is not None:
        if overrides.hugepage_size == "none":
            return None, "inventory"
        if overrides.hugepage_size not in HUGEPAGE_SIZES_KIB:
            raise ValueError(f"hugepage_size: expected 1G, 2M or none, got {overrides.hugepage_size!r}")
        return HUGEPAGE_SIZES_KIB[overrides.hugepage_size], "inventory"
    if agent_kib is not None:
        if agent_kib not in HUGEPAGE_SIZES_KIB.values():
            raise ValueError(f"agent hugepage size: expected 1048576 or 2048 KiB, got {agent_kib!r}")
        return agent_kib, "agent config"
    return None, "default"


def _margin(value: float | None) -> tuple[float, str]:
    if value is None:
        return 1.0, "default"
    return _check_count("contiguity_margin", value, CONTIGUITY_MARGIN), "inventory"


def _spare_blocks(value: int | None) -> tuple[int, str]:
    if value is None:
        return DEFAULT_SPARE_BLOCKS, "default"
    return _check_count("contiguity_spare_blocks", value, SPARE_BLOCKS), "inventory"


def vrouter_settings(
    overrides: VrouterOverrides,
    module_parameters: Mapping[str, str],
    *,
    agent_hugepage_size_kib: int | None = None,
) -> VrouterSettings:
    """Resolve the settings of the next vRouter load.

    ``module_parameters`` maps parameter names (``vr_flow_entries`` …) to the
    text of ``/sys/module/vrouter/parameters/<name>``; other names are
    ignored, a value that is not an integer is a ``ValueError`` naming the
    parameter. An overflow size of 0 (parameter or inventory) means auto:
    20% of the main size rounded up to 1K. A loaded module shows the
    resolved auto value instead of 0; when the inventory changes the main
    size, a parameter equal to the auto value of the module's own main
    size is read as auto too. ``agent_hugepage_size_kib`` is the size from
    the agent's ``[RESTART] huge_page_1G/2M`` (``None``: not configured or
    not known). With no release known, the newest table layout is assumed.

    Decision: a hugepage size with a release before R2005 is kept in
    ``hugepage_size_kib`` but ``hugepage_mode`` is False and a warning is
    recorded, because that kernel allocates the tables from the buddy
    allocator anyway; the demand is then buddy mode (the safe reading).

    >>> params = {"vr_flow_entries": "4194304\\n", "vr_oflow_entries": "0\\n"}
    >>> from vrouter_preflight.demand import VrouterOverrides
    >>> s = vrouter_settings(VrouterOverrides(release="R2011", hugepage_size="1G"), params)
    >>> s.flow_entries, s.oflow_entries, s.hugepage_size_kib, s.hugepage_mode, dict(s.sources)["flow_entries"]
    (4194304, 839680, 1048576, True, 'module parameter')
    >>> old = vrouter_settings(VrouterOverrides(release="R1911"), {}, agent_hugepage_size_kib=2048)
    >>> old.hugepage_size_kib, old.hugepage_mode, old.warnings
    (2048, False, ('hugepage mode needs R2005 or later; R1911 falls back to buddy allocation',))
    >>> vrouter_settings(VrouterOverrides(), {"vr_nexthops": "lots"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: module parameter vr_nexthops: expected a non-negative integer, got 'lots' ...
    """
    sources: dict[str, str] = {}
    info = parse_release(overrides.release) if overrides.release is not None else None
    sources["release"] = "inventory" if info else "default"
    new_layout = info.new_table_layout if info else True
    sources["new_table_layout"] = sources["flow_entry_bytes"] = "derived" if info else "default"
    params = _module_values(module_parameters)

    flow, sources["flow_entries"] = _main_count("flow_entries", overrides.flow_entries, params, DEFAULT_FLOW_ENTRIES)
    bridge, sources["bridge_entries"] = _main_count(
        "bridge_entries", overrides.bridge_entries, params, DEFAULT_BRIDGE_ENTRIES
    )
    oflow, sources["oflow_entries"] = _overflow_count(
        "oflow_entries", overrides.oflow_entries, params, flow, params.get("vr_flow_entries", DEFAULT_FLOW_ENTRIES)
    )
    bridge_o, sources["bridge_oentries"] = _overflow_count(
        "bridge_oentries",
        overrides.bridge_oentries,
        params,
        bridge,
        params.get("vr_bridge_entries", DEFAULT_BRIDGE_ENTRIES),
    )
    nexthops, sources["nexthops"] = _main_count(
        "nexthops", overrides.nexthops, params, NEXTHOPS_NEW if new_layout else NEXTHOPS_OLD
    )
    hugepage_kib, sources["hugepage_size_kib"] = _hugepage_size(overrides, agent_hugepage_size_kib)
    margin, sources["contiguity_margin"] = _margin(overrides.contiguity_margin)
    spare, sources["contiguity_spare_blocks"] = _spare_blocks(overrides.contiguity_spare_blocks)

    warnings: list[str] = []
    hugepage_mode = hugepage_kib is not None and (info is None or info.hugepage_mode_supported)
    if hugepage_kib is not None and not hugepage_mode and info is not None:
        warnings.append(f"hugepage mode needs R2005 or later; {info.name} falls back to buddy allocation")
    sources["hugepage_mode"] = "derived"

    return VrouterSettings(
        release=overrides.release,
        new_table_layout=new_layout,
        flow_entry_bytes=FLOW_ENTRY_BYTES_NEW if new_layout else FLOW_ENTRY_BYTES_OLD,
        flow_entries=flow,
        oflow_entries=oflow,
        bridge_entries=bridge,
        bridge_oentries=bridge_o,
        nexthops=nexthops,
        hugepage_size_kib=hugepage_kib,
        contiguity_margin=margin,
        contiguity_spare_blocks=spare,
        sources=sources,
        hugepage_mode=hugepage_mode,
        warnings=tuple(warnings),
        release_info=info,
    )
