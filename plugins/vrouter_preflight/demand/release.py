"""vRouter release names, as operators and deployers spell them, in release order.

Three naming eras, oldest first (domain notes §0, §1, §3.1):

* ``R3.2``, ``4.1``, ``R5.0.2``: the major.minor releases R3.x to R5.x;
* ``R1907`` … ``R2011`` (``YYMM``, optionally ``.L1`` maintenance suffix);
* ``21.3``, ``R21.4``, ``21.4.L2``, ``22.1`` (``YY.N``, optionally ``.Ln``);

plus ``master`` / ``latest``, which mean the newest code. Two release
boundaries matter to the demand model: R1911 (commit ``ada37edd``: 256-byte
flow entries, 512K nexthops) and R2005 (hugepage mode for the kernel vRouter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ACCEPTED_FORMS = (
    "R3.2 / 4.1 / R5.0.2 (R3.x to R5.x), "
    "R1907 / 1912 / R2011 / 2011.L3 (YYMM, 19xx or 20xx), "
    "21.3 / R21.4 / 21.4.L2 / 22.1 (YY.N[.Ln], 21 and later), "
    "master / latest (the newest)"
)

_CLASSIC = re.compile(r"[Rr]?(?P<major>[345])\.(?P<rest>\d+(?:\.\d+)*)")
_YYMM = re.compile(r"[Rr]?(?P<yy>19|20)(?P<mm>\d\d)(?:\.[Ll](?P<maint>\d+))?")
_YYN = re.compile(r"[Rr]?(?P<yy>[2-9]\d)\.(?P<n>\d{1,2})(?:\.[Ll](?P<maint>\d+))?")
_NEWEST = ("master", "latest")

# Era numbers make the sort key: every R3-R5 release < every YYMM release < every YY.N release < master.
_ERA_CLASSIC, _ERA_YYMM, _ERA_YYN, _ERA_NEWEST = range(4)


@dataclass(frozen=True, order=True)
class ReleaseInfo:
    """One parsed vRouter release; releases compare in release order.

    ``name`` is the canonical spelling (``R1911``, ``R21.4.L2``, ``master``);
    ``text`` is what was given.

    >>> r = parse_release("1911")
    >>> r.name, r.new_table_layout, r.hugepage_mode_supported
    ('R1911', True, False)
    >>> parse_release("R5.0") < parse_release("R1907") < parse_release("21.3") < parse_release("master")
    True
    """

    key: tuple[int, ...]
    name: str = field(compare=False)
    text: str = field(compare=False)

    @property
    def new_table_layout(self) -> bool:
        """True from R1911 on: 256-byte flow entries and 524,288 nexthops by default.

        >>> parse_release("R1910").new_table_layout, parse_release("R1911").new_table_layout
        (False, True)
        """
        return self >= R1911

    @property
    def hugepage_mode_supported(self) -> bool:
        """True from R2005 on, when the kernel vRouter can place its tables in hugepages.

        >>> parse_release("R2003").hugepage_mode_supported, parse_release("R2005").hugepage_mode_supported
        (False, True)
        """
        return self >= R2005


def parse_release(text: str) -> ReleaseInfo:
    """Parse a release name; ``ValueError`` listing the accepted forms when it is not one.

    >>> [parse_release(t).name for t in ("3.2", "R4.1", "R1907", "2011", "21.4.L2", "latest")]
    ['R3.2', 'R4.1', 'R1907', 'R2011', 'R21.4.L2', 'master']
    >>> parse_release("R1913")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown vRouter release 'R1913': expected R3.2 / 4.1 / ...
    """
    stripped = text.strip() if isinstance(text, str) else ""
    if stripped.lower() in _NEWEST:
        return ReleaseInfo(key=(_ERA_NEWEST,), name="master", text=text)
    match = _CLASSIC.fullmatch(stripped)
    if match:
        parts = (int(match["major"]), *(int(part) for part in match["rest"].split(".")))
        return ReleaseInfo(key=(_ERA_CLASSIC, *parts), name="R" + ".".join(map(str, parts)), text=text)
    match = _YYMM.fullmatch(stripped)
    if match and 1 <= int(match["mm"]) <= 12:
        yymm = int(match["yy"] + match["mm"])
        maint = int(match["maint"]) if match["maint"] else 0
        suffix = f".L{maint}" if match["maint"] else ""
        return ReleaseInfo(key=(_ERA_YYMM, yymm, maint), name=f"R{yymm}{suffix}", text=text)
    match = _YYN.fullmatch(stripped)
    if match and int(match["yy"]) >= 21 and 1 <= int(match["n"]) <= 12:
        yy, n = int(match["yy"]), int(match["n"])
        maint = int(match["maint"]) if match["maint"] else 0
        suffix = f".L{maint}" if match["maint"] else ""
        return ReleaseInfo(key=(_ERA_YYN, yy, n, maint), name=f"R{yy}.{n}{suffix}", text=text)
    raise ValueError(f"unknown vRouter release {text!r}: expected {ACCEPTED_FORMS}")


R1911 = ReleaseInfo(key=(_ERA_YYMM, 1911, 0), name="R1911", text="R1911")
R2005 = ReleaseInfo(key=(_ERA_YYMM, 2005, 0), name="R2005", text="R2005")
