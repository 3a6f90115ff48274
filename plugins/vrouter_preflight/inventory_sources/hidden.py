"""Values read from an operator's inventory that must never be shown.

A password (``ansible_password``, ``ssh_pwd``), a vault-encrypted value and the
variables of a host as a whole travel through the suite in these wrappers, so a
``repr``, an f-string, a log line or ``json.dumps`` shows ``<hidden>`` (or only
variable names), never the value itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from typing import Any

HIDDEN = "<hidden>"


class Secret(str):
    """A password: behaves as the string ``'<hidden>'`` everywhere except :meth:`reveal`.

    Being a ``str`` whose text is ``<hidden>``, it stays hidden in ``repr``,
    ``str``, ``format``, ``%`` formatting, ``logging`` and ``json.dumps``.

    >>> s = Secret("hunter2")
    >>> s, str(s), f"{s}", len(s.reveal())
    ('<hidden>', '<hidden>', '<hidden>', 7)
    >>> import json; json.dumps({"password": s})
    '{"password": "<hidden>"}'
    >>> s == Secret("hunter2"), s == Secret("other"), s == "<hidden>"
    (True, False, False)
    """

    _value: str

    def __new__(cls, value: str) -> Secret:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a string")
        self = super().__new__(cls, HIDDEN)
        object.__setattr__(self, "_value", value)
        return self

    def reveal(self) -> str:
        """The secret itself: call it only where it is handed to the login, never to print."""
        return self._value

    def __repr__(self) -> str:
        return repr(HIDDEN)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return False
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(HIDDEN)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


class VaultedValue(str):
    """A value encrypted with ``ansible-vault`` that the suite cannot decrypt.

    Shown as ``<vaulted>``; the ciphertext is kept only to compare two values.

    >>> v = VaultedValue("$ANSIBLE_VAULT;1.1;AES256\\n3861...")
    >>> v, f"{v}"
    ('<vaulted>', '<vaulted>')
    """

    _ciphertext: str

    def __new__(cls, ciphertext: str) -> VaultedValue:
        self = super().__new__(cls, "<vaulted>")
        object.__setattr__(self, "_ciphertext", ciphertext)
        return self

    def __repr__(self) -> str:
        return repr("<vaulted>")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VaultedValue) and other._ciphertext == self._ciphertext

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash("<vaulted>")

    def __reduce__(self) -> tuple[Any, ...]:
        return (VaultedValue, (self._ciphertext,))


class HostVars(Mapping[str, object]):
    """A read-only mapping of variables whose ``repr`` names the keys, never the values.

    Inventories hold passwords in ordinary variables (TripleO's
    ``overcloud_admin_password``), so no value is shown by ``repr``.

    >>> v = HostVars({"ansible_host": "192.0.2.10", "overcloud_admin_password": "x"})
    >>> v
    HostVars(ansible_host, overcloud_admin_password)
    >>> v["ansible_host"], len(v)
    ('192.0.2.10', 2)
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        self._data: dict[str, object] = dict(data or {})

    def __getitem__(self, key: str) -> object:
        return self._data[key]

    def get(self, key: str, default: object = None) -> object:  # faster than Mapping's
        """The value of ``key``, or ``default``."""
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"HostVars({', '.join(self._data)})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._data))
