"""What a collected check item says about itself: the host and NUMA node it judges, its check id.

A check function names its id with :func:`check`; :func:`check_id_of` reads it back from the item.
A check that may not apply to a host names, with the same decorator, the function that says why
(:func:`not_applicable_of`): the wiring asks it before the check's inputs are set up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pytest

from vrouter_preflight.check_ids import CheckId
from vrouter_preflight.fleet import HostUnderTest

Function = TypeVar("Function", bound=Callable[..., Any])
#: Why a check does not apply to a host (the SKIPPED reason), or None when it does.
WhyNotApplicable = Callable[[HostUnderTest], "str | None"]

#: The attribute :func:`check` sets on a check function.
BOUND_ID = "vrouter_preflight_check_id"
#: The attribute :func:`check` sets on a check function that names its ``not_applicable``.
NOT_APPLICABLE = "vrouter_preflight_not_applicable"


def _params(item: Any) -> Mapping[str, Any]:
    callspec = getattr(item, "callspec", None)
    return callspec.params if callspec is not None else {}


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


def check(check_id: CheckId, *, not_applicable: WhyNotApplicable | None = None) -> Callable[[Function], Function]:
    """Bind a check function to its id in the registry: every report names the check so, whatever the function's name.

    ``not_applicable(host)`` says why the check does not apply to a host (or None): the check is then
    SKIPPED with that reason before its inputs are set up (:mod:`~vrouter_preflight.wiring.applicability`).

    >>> @check(CheckId.REACHABLE)
    ... def test_host_answers() -> None: ...
    >>> bound_id(test_host_answers)
    <CheckId.REACHABLE: 'reachable'>
    >>> check(CheckId.FACTS_PARSE)(test_host_answers)
    Traceback (most recent call last):
    ...
    ValueError: test_host_answers is bound to reachable already, not facts_parse
    """

    def bind(function: Function) -> Function:
        bound = bound_id(function)
        if bound is not None and bound is not check_id:
            raise ValueError(f"{function.__name__} is bound to {bound.id} already, not {check_id.id}")
        setattr(function, BOUND_ID, check_id)
        if not_applicable is not None:
            setattr(function, NOT_APPLICABLE, not_applicable)
        return function

    return bind


def not_applicable_of(item: Any) -> WhyNotApplicable | None:
    """The ``not_applicable`` a check item's function names with :func:`check`, or None.

    >>> from types import SimpleNamespace
    >>> def why(host): return "no hugepages here"
    >>> @check(CheckId.HUGEPAGE_BACKING, not_applicable=why)
    ... def test_backing() -> None: ...
    >>> not_applicable_of(SimpleNamespace(function=test_backing)) is why, not_applicable_of(SimpleNamespace())
    (True, None)
    """
    found = getattr(getattr(item, "function", None), NOT_APPLICABLE, None)
    return found if callable(found) else None


def bound_id(function: object) -> CheckId | None:
    """The id :func:`check` bound ``function`` to, or None.

    >>> bound_id(len) is None
    True
    """
    found = getattr(function, BOUND_ID, None)
    return found if isinstance(found, CheckId) else None


def check_of(item: Any) -> CheckId:
    """The registry member of a check item, from its function's :func:`check` (a usage error when it has none).

    >>> from types import SimpleNamespace
    >>> @check(CheckId.CONTIGUOUS_BLOCKS)
    ... def test_blocks() -> None: ...
    >>> check_of(SimpleNamespace(function=test_blocks, name="test_blocks[c0]"))
    <CheckId.CONTIGUOUS_BLOCKS: 'contiguous_blocks'>
    >>> check_of(SimpleNamespace(function=len, path="/srv/checks/test_x.py", name="test_x[c0]"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pytest.UsageError: /srv/checks/test_x.py::test_x[c0]: a check names its id with @check(CheckId.…) ...
    """
    found = bound_id(getattr(item, "function", None))
    if found is None:
        raise pytest.UsageError(
            f"{getattr(item, 'path', '?')}::{getattr(item, 'name', '?')}: a check names its id with "
            "@check(CheckId.…) (vrouter_preflight.wiring.items); this one names none"
        )
    return found


def check_id_of(item: Any) -> str:
    """The check id of a check item, as every report writes it (see :func:`check_of`).

    >>> from types import SimpleNamespace
    >>> check_id_of(SimpleNamespace(function=check(CheckId.REMEDIATION)(lambda: None)))
    'remediation'
    """
    return check_of(item).id
