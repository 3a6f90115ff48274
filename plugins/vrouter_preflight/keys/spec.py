"""Inventory keys declared once, on the model's own dataclass fields.

A model field written ``port: int | None = key(None, IntRange(1, 65535), "…", applies=SSH)``
is the whole declaration of the key ``port``: its name (the field's, or
``name=``), its check and range, the transports it applies to, where it may be
written, its default and its doc line. :func:`key_specs` reads them back for
the loader, the "did you mean" suggestions and the README's key table; mypy
checks that the check's result fits the field's type.

>>> from dataclasses import dataclass
>>> from vrouter_preflight.keys.checks import Flag
>>> @dataclass(frozen=True)
... class Steps:
...     sync: bool = key(True, Flag(), "run sync first")
>>> [(spec.name, spec.default, spec.doc) for spec in key_specs(Steps)]
[('sync', True, 'run sync first')]
>>> Section(Steps, "steps")({"sync": False})
Steps(sync=False)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any, Literal, TypeVar, get_args

from vrouter_preflight.keys.checks import MAX_SHOWN, Check, Invalid, describe, within

T = TypeVar("T")

TransportName = Literal["ssh", "local", "snapshot"]
TRANSPORTS: tuple[TransportName, ...] = get_args(TransportName)


@dataclass(frozen=True)
class Applies:
    """The transports a key applies to, and how the README names them.

    >>> LIVE.refusal("snapshot"), SSH.refusal("local"), ANY.refusal("snapshot")
    ('needs a live host; a snapshot runs no commands', 'applies only to transport ssh, not local', None)
    """

    transports: frozenset[str]
    label: str

    def refusal(self, transport: str) -> str | None:
        """Why a key written in a host entry of ``transport`` does not apply there; None when it does."""
        if transport in self.transports:
            return None
        if self.transports == LIVE_TRANSPORTS:
            return "needs a live host; a snapshot runs no commands"
        return f"applies only to transport {self.label}, not {transport}"


LIVE_TRANSPORTS = frozenset({"ssh", "local"})
SSH = Applies(frozenset({"ssh"}), "ssh")
LIVE = Applies(LIVE_TRANSPORTS, "all live")
SNAPSHOT = Applies(frozenset({"snapshot"}), "snapshot")
ANY = Applies(frozenset(TRANSPORTS), "any")

# Where a key may be written: a host entry, the top-level ``groups:`` of a suite inventory that names
# Ansible sources (settings for an Ansible group's hosts), ``defaults``; or the file's top level.
ANY_SECTION = ("host", "groups", "defaults")
HOST_ONLY = ("host",)
TOP_LEVEL = ("top level",)

_METADATA = "vrouter_preflight.key"


@dataclass(frozen=True)
class _Declared:
    check: Check[Any]
    doc: str
    applies: Applies
    where: tuple[str, ...]
    name: str | None


@dataclass(frozen=True)
class KeySpec:
    """One inventory key: how it is written, checked, where it applies, its default and its doc line.

    ``attribute`` is the model field that holds the value (``default_hugepagesz_kib``
    for the key ``default_hugepagesz``); ``sub_keys`` are the keys of a
    mapping-valued key (``vrouter.flow_entries`` …).

    >>> from vrouter_preflight.keys.checks import Flag
    >>> KeySpec("destructive", "destructive", Flag(), "allow the destructive stage", LIVE).where
    ('host', 'groups', 'defaults')
    """

    name: str
    attribute: str
    check: Check[Any]
    doc: str
    applies: Applies = ANY
    where: tuple[str, ...] = ANY_SECTION
    default: object = None
    sub_keys: tuple[KeySpec, ...] = ()


def key(
    default: T,
    check: Check[T],
    doc: str,
    *,
    applies: Applies = ANY,
    where: tuple[str, ...] = ANY_SECTION,
    name: str | None = None,
) -> T:
    """Declare a model field as an inventory key (the field's default is ``default``).

    ``name`` is the key as written in YAML when it differs from the field's name.

    >>> from vrouter_preflight.keys.checks import IntRange
    >>> type(key(None, IntRange(1, 65535), "SSH port", applies=SSH)).__name__   # what the dataclass sees
    'Field'
    """
    declared = _Declared(check, doc, applies, where, name)
    return field(default=default, metadata={_METADATA: declared})


_SPECS: dict[type, tuple[KeySpec, ...]] = {}


def key_specs(model: type) -> tuple[KeySpec, ...]:
    """The keys declared on the dataclass ``model``, in field order (fields without :func:`key` are not keys).

    >>> from vrouter_preflight.keys.checks import Flag
    >>> @dataclass(frozen=True)
    ... class Plan:
    ...     name: str = "x"
    ...     go: bool = key(False, Flag(), "go ahead")
    >>> [spec.name for spec in key_specs(Plan)]
    ['go']
    """
    cached = _SPECS.get(model)
    if cached is not None:
        return cached
    specs = []
    for item in fields(model):
        declared = item.metadata.get(_METADATA)
        if not isinstance(declared, _Declared):
            continue
        default = item.default if item.default is not MISSING else None
        sub_model = declared.check.model if isinstance(declared.check, Section) else None
        specs.append(
            KeySpec(
                name=declared.name or item.name,
                attribute=item.name,
                check=declared.check,
                doc=declared.doc,
                applies=declared.applies,
                where=declared.where,
                default=default,
                sub_keys=key_specs(sub_model) if sub_model is not None else (),
            )
        )
    _SPECS[model] = result = tuple(specs)
    return result


def unknown_key(key_name: object, known: Sequence[str], what: str = "key") -> str:
    """The message for a key that is not declared: the closest known key, or all of them.

    >>> unknown_key("prot", ("port", "user"))
    "unknown key; did you mean 'port'?"
    >>> unknown_key(1, ("port", "user"), "top-level key")
    'unknown top-level key; known keys: port, user'
    """
    close = (
        difflib.get_close_matches(key_name, known, n=1)
        if isinstance(key_name, str) and len(key_name) <= MAX_SHOWN
        else []
    )
    if close:
        return f"unknown {what}; did you mean {close[0]!r}?"
    return f"unknown {what}; known keys: {', '.join(known)}"


def key_path(key_name: object, path: Sequence[str] = ()) -> str:
    """A key and the sub-keys below it as named in messages, each cut to a readable length.

    >>> key_path("vrouter", ("flow_entries",)), key_path("x" * 100)[-12:]
    ('vrouter.flow_entries', 'xxxxxxxxxxx…')
    """
    parts = [str(key_name), *path]
    return ".".join(part if len(part) <= MAX_SHOWN else part[:MAX_SHOWN] + "…" for part in parts)


class Section(Check[T]):
    """A mapping-valued key whose sub-keys are the keys declared on ``model`` (``vrouter:``, ``trial:``).

    ``what`` names the mapping in messages: ``expected a mapping of <what> (<its keys>)``.

    >>> from vrouter_preflight.keys.checks import Flag
    >>> @dataclass(frozen=True)
    ... class Steps:
    ...     sync: bool = key(True, Flag(), "run sync first")
    >>> Section(Steps, "remediation steps")({"snyc": True})
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: unknown key; did you mean 'sync'?
    """

    def __init__(self, model: type[T], what: str) -> None:
        if not is_dataclass(model):
            raise TypeError(f"{model!r} is not a dataclass")
        self.model = model
        self.what = what
        self.expected = f"a mapping of {what}"

    def __call__(self, value: object) -> T:
        specs = key_specs(self.model)
        names = tuple(spec.name for spec in specs)
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping of {self.what} ({', '.join(names)}), got {describe(value)}")
        by_name = {spec.name: spec for spec in specs}
        values: dict[str, Any] = {}
        for sub_key, raw in value.items():
            spec = by_name.get(sub_key) if isinstance(sub_key, str) else None
            if spec is None:
                raise Invalid(unknown_key(sub_key, names), (key_path(sub_key),))
            values[spec.attribute] = within(sub_key, spec.check, raw)
        return build(self.model, values)


def build(model: Callable[..., T], values: Mapping[str, Any]) -> T:
    """``model(**values)``: values checked by the keys' checks, whose types mypy matched to the fields.

    >>> from vrouter_preflight.keys.checks import Flag
    >>> @dataclass(frozen=True)
    ... class Steps:
    ...     sync: bool = key(True, Flag(), "run sync first")
    >>> build(Steps, {"sync": False})
    Steps(sync=False)
    """
    return model(**values)
