"""What the property tests do with a parse result: evaluate everything a caller may read from it.

Some records compute on access (a command line's hugepage requests, an agent configuration's hugepage
files): a bad value must raise the parser's own error there too, never another exception.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

_SCALARS = (str, bytes, int, float, bool, type(None))


def touch(value: object, depth: int = 0) -> None:
    """Read every field and property of ``value``, its items and theirs (to a depth of 6)."""
    if depth > 6 or isinstance(value, _SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            touch(key, depth + 1)
            touch(item, depth + 1)
        return
    if isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            touch(item, depth + 1)
        return
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            touch(getattr(value, field.name), depth + 1)
        for name in dir(type(value)):
            if isinstance(getattr(type(value), name, None), property):
                touch(getattr(value, name), depth + 1)


def result_or_own_error(
    call: Callable[[], object], own: type[BaseException] | tuple[type[BaseException], ...]
) -> tuple[object, BaseException | None]:
    """``(result, None)``, or ``(None, error)`` when ``call`` raised ``own``; any other exception propagates.

    >>> result_or_own_error(lambda: int("x"), ValueError)[1].__class__.__name__
    'ValueError'
    """
    try:
        return call(), None
    except own as error:
        return None, error
