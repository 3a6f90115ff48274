"""Whether a ``/proc/buddyinfo`` is one the host's kernel could have printed.

**Order columns.** ``frag_show_print`` prints one count per order from 0 to
the largest: ``MAX_ORDER`` columns before 6.4 (``MAX_ORDER`` was then the
exclusive bound, 11 by default), ``MAX_ORDER + 1`` after "mm, treewide:
redefine MAX_ORDER sanely" (23baf831a32c, 6.4: default 10) and
``NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1`` after the 6.8 rename: 11 columns by
default throughout. An architecture changes it with ``ARCH_FORCE_MAX_ORDER``
(``FORCE_MAX_ZONEORDER`` before 6.1). In columns, as mainline sets it:

- x86 (32 and 64 bit) never had the option: every x86 kernel prints **11**,
  with its only base page size, 4 KiB. The corpus has 2.6 to 6.18 alike.
- arm64: 11 with 4 KiB pages; 12 with 16 KiB (11 before 5.12 without THP);
  14 with 64 KiB (11 before 5.12 without THP). Only 6.3 let a build choose
  (4 KiB 11 to 16, 16 KiB 12 to 14): "arm64: make ARCH_FORCE_MAX_ORDER
  selectable", taken out again in 6.4 (f3c3762178fa).
- POWER: 9 with 64 KiB pages (8 allowed), 13 with 4 KiB on 64 bit; 32 bit
  11 / 9 / 7 / 5 with 4 / 16 / 64 / 256 KiB pages.
- s390, RISC-V: 11. 32-bit ARM: 11 (12 on AM33xx, 9 on SA1111; i.MX's
  defconfig sets 14). MIPS with huge TLB: 12 / 13 / 14 with 16 / 32 / 64 KiB.
- ia64 (removed in 6.7) with hugetlb: **17**, whatever its page size.

So a page size alone bounds the count only loosely (:data:`ORDER_COLUMNS_BY_PAGE_SIZE`,
the fewest and most of the list above); an x86 host is held to exactly 11.
Refused as well, knowingly: kernels built by hand with an order outside
that (MIPS, 32-bit ARM, SH or nios2 accept any up to 64, arm64 6.3 up to 16
columns on an arm64 host). 16 columns with 4 KiB pages are therefore refused
on x86 and accepted from a host whose architecture is not known to be x86.

**Free pages.** A zone's free blocks lie within its page frames, and the
zones' managed pages add up to ``MemTotal``: buddyinfo's free pages may not
exceed a zone's ``spanned`` pages (``/proc/zoneinfo``) nor, over every zone,
``MemTotal`` (``/proc/meminfo``), each with 1/:data:`BETWEEN_READS_SHARE` of
slack for memory added or removed between the reads. Not ``present``: before
3.8 it was the zone's size less an estimate of its ``struct page`` array,
which may live in another zone (ubuntu1204-3.2 in the corpus: DMA has 3,960
free pages and 3,900 present).
"""

from __future__ import annotations

from collections.abc import Mapping

from vrouter_preflight.contiguity.supply import BETWEEN_READS_SHARE
from vrouter_preflight.facts.buddyinfo import BuddyInfo
from vrouter_preflight.facts.zoneinfo import ZoneInfo

#: Columns every x86 kernel prints: orders 0 to 10.
X86_ORDER_COLUMNS = 11

#: Base page size in bytes -> (fewest, most) order columns a mainline kernel prints with it (module docstring).
#: A page size not listed is not checked.
ORDER_COLUMNS_BY_PAGE_SIZE: Mapping[int, tuple[int, int]] = {
    4096: (9, 17),
    8192: (11, 17),
    16384: (9, 17),
    32768: (11, 13),
    65536: (7, 17),
    262144: (5, 11),
}


class ImplausibleBuddyInfo(ValueError):
    """A ``/proc/buddyinfo`` that the host's kernel cannot have printed; the message says why."""


def printable_order_columns(page_size: int | None, x86: bool) -> tuple[int, int] | None:
    """The (fewest, most) order columns a kernel prints, or ``None`` when nothing is known.

    >>> printable_order_columns(4096, x86=True), printable_order_columns(65536, x86=False)
    ((11, 11), (7, 17))
    >>> printable_order_columns(None, x86=False) is None, printable_order_columns(1 << 20, x86=False) is None
    (True, True)
    """
    if x86:
        return (X86_ORDER_COLUMNS, X86_ORDER_COLUMNS)
    if page_size is None:
        return None
    return ORDER_COLUMNS_BY_PAGE_SIZE.get(page_size)


def check_order_columns(buddyinfo: BuddyInfo, page_size: int | None, *, x86: bool) -> None:
    """Raise :class:`ImplausibleBuddyInfo` when the kernel cannot print that many order columns.

    >>> from vrouter_preflight.facts.buddyinfo import BuddyZone
    >>> check_order_columns(BuddyInfo((BuddyZone(0, "Normal", (1,) * 14),)), 65536, x86=False)
    >>> try:
    ...     check_order_columns(BuddyInfo((BuddyZone(0, "Normal", (1,) * 16),)), 4096, x86=True)
    ... except ImplausibleBuddyInfo as error:
    ...     print(error)
    /proc/buddyinfo has 16 order columns (0-15), an x86 kernel prints 11 (0-10)
    """
    bounds = printable_order_columns(page_size, x86)
    if bounds is None:
        return
    fewest, most = bounds
    columns = buddyinfo.orders
    if fewest <= columns <= most:
        return
    if x86:
        kernel = f"an x86 kernel prints {most} (0-{most - 1})"
    else:
        kernel = f"a kernel with {(page_size or 0) // 1024} KiB pages prints {fewest} to {most}"
    raise ImplausibleBuddyInfo(f"/proc/buddyinfo has {columns} order columns (0-{columns - 1}), {kernel}")


def _with_slack(amount: int) -> int:
    return amount + amount // BETWEEN_READS_SHARE


def _gib(amount: int) -> str:
    return f"{amount / (1 << 30):,.1f} GiB"


def check_free_pages_fit(
    buddyinfo: BuddyInfo, zoneinfo: ZoneInfo | None, *, page_size: int | None, mem_total_kib: int | None
) -> None:
    """Raise :class:`ImplausibleBuddyInfo` when the free blocks hold more pages than the memory they are in.

    Each zone against its ``spanned`` pages from zoneinfo; every zone
    together against ``MemTotal`` when the page size is known.

    >>> from vrouter_preflight.facts.buddyinfo import BuddyZone
    >>> huge = BuddyInfo((BuddyZone(0, "Normal", (0,) * 10 + (10**6,)),))
    >>> check_free_pages_fit(huge, None, page_size=4096, mem_total_kib=None)   # nothing to compare with
    >>> try:
    ...     check_free_pages_fit(huge, None, page_size=4096, mem_total_kib=8_164_548)
    ... except ImplausibleBuddyInfo as error:
    ...     print(error)
    /proc/buddyinfo lists 1,024,000,000 free pages (3,906.2 GiB), more than MemTotal (7.8 GiB)
    """
    if zoneinfo is not None:
        for zone in buddyinfo.zones:
            marks = zoneinfo.zone(zone.node, zone.zone)
            spanned = None if marks is None else marks.spanned
            if spanned is not None and zone.free_pages > _with_slack(spanned):
                raise ImplausibleBuddyInfo(
                    f"/proc/buddyinfo lists {zone.free_pages:,} free pages in node {zone.node} {zone.zone}, "
                    f"more than the {spanned:,} pages the zone spans in /proc/zoneinfo"
                )
    if page_size is None or mem_total_kib is None:
        return
    free_bytes = sum(zone.free_pages for zone in buddyinfo.zones) * page_size
    if free_bytes > _with_slack(mem_total_kib * 1024):
        free_pages = free_bytes // page_size
        raise ImplausibleBuddyInfo(
            f"/proc/buddyinfo lists {free_pages:,} free pages ({_gib(free_bytes)}), "
            f"more than MemTotal ({_gib(mem_total_kib * 1024)})"
        )


def check_buddyinfo_plausible(
    buddyinfo: BuddyInfo,
    zoneinfo: ZoneInfo | None,
    *,
    page_size: int | None,
    x86: bool,
    mem_total_kib: int | None,
) -> None:
    """:func:`check_order_columns`, then :func:`check_free_pages_fit`.

    >>> from vrouter_preflight.facts.buddyinfo import parse_buddyinfo
    >>> buddy = parse_buddyinfo("Node 0, zone Normal" + " 1" * 16)
    >>> check_buddyinfo_plausible(buddy, None, page_size=4096, x86=False, mem_total_kib=None)
    >>> check_buddyinfo_plausible(buddy, None, page_size=4096, x86=True, mem_total_kib=None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.contiguity.plausibility.ImplausibleBuddyInfo: /proc/buddyinfo has 16 order columns...
    """
    check_order_columns(buddyinfo, page_size, x86=x86)
    check_free_pages_fit(buddyinfo, zoneinfo, page_size=page_size, mem_total_kib=mem_total_kib)
