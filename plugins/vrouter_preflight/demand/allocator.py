"""How vRouter turns a table into buddy-allocator requests (domain notes §2.1).

* ``vr_btable_alloc(n, esz)`` (``dp-core/vr_btable.c``) splits ``n * esz`` bytes
  into full 4 MiB parts (``VR_SINGLE_ALLOC_LIMIT``) plus one remainder part
  when the size is not a multiple of 4 MiB.
* Each part is ``lh_page_alloc(size)`` → ``__get_free_pages(GFP_ATOMIC | …,
  get_order(size))`` (``linux/vrouter_mod.c``): one block of ``2**order`` base
  pages, found free at that instant or the reload fails.

Everything here is generic in the base page size: a 4 MiB part is order 10
with 4 KiB pages and order 6 with 64 KiB pages.
"""

from __future__ import annotations

from dataclasses import dataclass

CHUNK_BYTES = 4 * 1024 * 1024
"""``VR_SINGLE_ALLOC_LIMIT``: the largest single part of a btable."""


def check_page_size(page_size: int) -> int:
    """Return ``page_size`` if it is a base page size (a power of two, at least 4096), else ``ValueError``.

    >>> check_page_size(65536)
    65536
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 4096:
        raise ValueError(f"page size must be a power of two of at least 4096 bytes, got {page_size!r}")
    if page_size & (page_size - 1):
        raise ValueError(f"page size must be a power of two of at least 4096 bytes, got {page_size!r}")
    return page_size


def get_order(size_bytes: int, page_size: int) -> int:
    """The kernel's ``get_order()``: the smallest order with ``page_size << order >= size_bytes``.

    The kernel leaves ``get_order(0)`` undefined; here a size below 1 is a ``ValueError``.

    >>> get_order(4 * 1024 * 1024, 4096), get_order(4 * 1024 * 1024, 65536)
    (10, 6)
    >>> get_order(1, 4096), get_order(4097, 4096), get_order(1_835_008, 4096)
    (0, 1, 9)
    """
    check_page_size(page_size)
    if size_bytes < 1:
        raise ValueError(f"get_order needs a size of at least 1 byte, got {size_bytes}")
    pages = -(-size_bytes // page_size)
    return (pages - 1).bit_length()


def btable_orders(entries: int, entry_bytes: int, page_size: int) -> list[int]:
    """The order of every part ``vr_btable_alloc(entries, entry_bytes)`` allocates, in allocation order.

    Full 4 MiB parts first, then the remainder part (if any) rounded up by
    ``get_order``. An empty table allocates nothing.

    >>> btable_orders(105_472, 256, 4096)  # 25.75 MiB: 6 full parts + 1.75 MiB
    [10, 10, 10, 10, 10, 10, 9]
    >>> btable_orders(53_248, 64, 4096), btable_orders(53_248, 64, 65536)  # 3.25 MiB: remainder only
    ([10], [6])
    >>> btable_orders(0, 256, 4096)
    []
    """
    if entries < 0 or entry_bytes < 1:
        raise ValueError(f"a btable needs entries >= 0 and an entry size >= 1, got {entries} x {entry_bytes}")
    total = entries * entry_bytes
    full, remainder = divmod(total, CHUNK_BYTES)
    orders = [get_order(CHUNK_BYTES, page_size)] * full
    if remainder:
        orders.append(get_order(remainder, page_size))
    return orders


@dataclass(frozen=True)
class BuddyRequest:
    """``count`` buddy allocations of one ``order`` (in base pages of the node), and why.

    >>> r = BuddyRequest(10, 32, "flow table: main entries, 4 MiB chunks")
    >>> r.block_bytes(4096), r.total_bytes(4096)
    (4194304, 134217728)
    """

    order: int
    count: int
    purpose: str

    def block_bytes(self, page_size: int) -> int:
        """Size of one block of this order with ``page_size`` base pages.

        >>> BuddyRequest(6, 1, "nexthop table").block_bytes(65536)
        4194304
        """
        return check_page_size(page_size) << self.order

    def total_bytes(self, page_size: int) -> int:
        """Bytes of all ``count`` blocks.

        >>> BuddyRequest(9, 2, "x").total_bytes(4096)
        4194304
        """
        return self.count * self.block_bytes(page_size)


def btable_requests(what: str, entries: int, entry_bytes: int, page_size: int) -> list[BuddyRequest]:
    """The buddy requests of one btable, grouped: the 4 MiB parts, then the remainder part.

    >>> for r in btable_requests("flow table: overflow entries", 105_472, 256, 4096):
    ...     print(r.order, r.count, r.purpose)
    10 6 flow table: overflow entries, 4 MiB chunks
    9 1 flow table: overflow entries, last part of 1,835,008 B
    """
    if entries < 0 or entry_bytes < 1:
        raise ValueError(f"a btable needs entries >= 0 and an entry size >= 1, got {entries} x {entry_bytes}")
    full, remainder = divmod(entries * entry_bytes, CHUNK_BYTES)
    requests = []
    if full:  # counted, never listed one by one: the cost does not grow with the table
        requests.append(BuddyRequest(get_order(CHUNK_BYTES, page_size), full, f"{what}, 4 MiB chunks"))
    if remainder:
        requests.append(BuddyRequest(get_order(remainder, page_size), 1, f"{what}, last part of {remainder:,} B"))
    return requests
