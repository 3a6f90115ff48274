"""What a collected check item says about itself: the host and NUMA node it judges, its check id."""

from __future__ import annotations

from typing import Any


def _params(item: Any) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec is not None else {}


def host_of(item: Any) -> str | None:
    """The inventory host a check item is parametrised with, or None for an item that is not a check.

    >>> from types import SimpleNamespace
    >>> host_of(SimpleNamespace(callspec=SimpleNamespace(params={"host": "c0", "node": 1})))
    'c0'
    >>> host_of(SimpleNamespace()) is None
    True
    """
    host = _params(item).get("host")
    return host if isinstance(host, str) else None


def node_of(item: Any) -> int | None:
    """The NUMA node a per-node check (``node``) or a per-node trial (``trial_node``) judges.

    >>> from types import SimpleNamespace
    >>> node_of(SimpleNamespace(callspec=SimpleNamespace(params={"host": "c0", "trial_node": 1})))
    1
    >>> node_of(SimpleNamespace(callspec=SimpleNamespace(params={"host": "c0", "node": None})))
    """
    params = _params(item)
    node = params.get("node", params.get("trial_node"))
    return node if isinstance(node, int) else None


def check_id_of(item: Any) -> str:
    """The check id of a test item: its function name without ``test_``.

    >>> from types import SimpleNamespace
    >>> check_id_of(SimpleNamespace(originalname="test_contiguous_blocks", name="test_contiguous_blocks[c0]"))
    'contiguous_blocks'
    """
    name = str(getattr(item, "originalname", None) or item.name)
    return name.removeprefix("test_")
