"""Phrases for quantities in operator messages, so every check words them alike."""

from __future__ import annotations

from collections.abc import Mapping

from vrouter_preflight.facts.sizes import format_kib


def format_blocks(blocks: Mapping[int, int]) -> str:
    """Buddy blocks per order, largest order first.

    >>> format_blocks({8: 1, 10: 44, 9: 2})
    '44 × order-10, 2 × order-9, 1 × order-8'
    >>> format_blocks({})
    'nothing'
    """
    parts = [f"{count} × order-{order}" for order, count in sorted(blocks.items(), reverse=True) if count]
    return ", ".join(parts) if parts else "nothing"


def format_pages(pages: Mapping[int, int]) -> str:
    """Hugepages per size (kiB), largest size first.

    >>> format_pages({2048: 87, 1048576: 2})
    '2 × 1G, 87 × 2M'
    """
    parts = [f"{count} × {format_kib(size)}" for size, count in sorted(pages.items(), reverse=True)]
    return ", ".join(parts) if parts else "nothing"


def plural(count: int, word: str) -> str:
    """``count`` and ``word``, with an s unless the count is one.

    >>> plural(1, "page"), plural(14, "page")
    ('1 page', '14 pages')
    """
    return f"{count} {word}" + ("" if count == 1 else "s")
