"""Value checks of the inventory's keys: each says what it accepts, with its range, once.

A check turns a YAML value into the typed value a model field holds, or
raises :class:`Invalid` with ``expected …, got …``. Its :attr:`Check.expected`
is that "expected" text, so the error message and the README's key table say
the same thing. Pure: no I/O (local paths are looked at by the loader).

>>> IntRange(1, 65535)(22)
22
>>> IntRange(1, 65535)("twenty-two")
Traceback (most recent call last):
...
vrouter_preflight.keys.checks.Invalid: expected an integer from 1 to 65535, got 'twenty-two'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
S = TypeVar("S", bound=str)

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SHOWN = 60
"""Characters of a found string shown in a message; the rest is counted, not echoed."""
MAX_TEXT = 4096
"""Characters of any free text the inventory may hold (a path, a command): PATH_MAX."""
MAX_LIST = 1024
"""Items of any list the inventory may hold (NUMA nodes: the kernel's MAX_NUMNODES)."""


class Invalid(ValueError):
    """A value is wrong; the message says what was expected and what was found.

    ``path`` holds the sub-keys below the key where the mistake is
    (``("flow_entries",)`` under ``vrouter``), for ``key 'vrouter.flow_entries'``.

    >>> Invalid("expected true or false, got 'yes please'", ("destructive",)).path
    ('destructive',)
    """

    def __init__(self, message: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


def number_text(number: float) -> str:
    """A bound as written in messages and the README: thousands separated from a million up.

    >>> number_text(65535), number_text(67108864), number_text(1.0), number_text(0.5)
    ('65535', '67,108,864', '1.0', '0.5')
    """
    if isinstance(number, int) and number >= 1_000_000:
        return f"{number:,}"
    return str(number)


def shown(text: str) -> str:
    """``text`` quoted for a message, cut to :data:`MAX_SHOWN` characters with its length said.

    >>> shown("compute-0"), shown("x" * 200_000)[-30:]
    ("'compute-0'", "xxxxxxx'… (200,000 characters)")
    """
    if len(text) <= MAX_SHOWN:
        return repr(text)
    return f"{text[:MAX_SHOWN]!r}… ({len(text):,} characters)"


def describe(value: object) -> str:
    """How a found value is shown in messages (never more than a short line).

    >>> describe("twenty-two"), describe(True), describe(None), describe([1]), describe(1e300)
    ("'twenty-two'", 'true (a boolean)', 'nothing (null)', 'a list', '1e+300')
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {len(str(abs(value))):,} digits" if value.bit_length() < 10_000 else "a huge integer"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def within(sub_key: object, check: Callable[[object], T], value: object) -> T:
    """``check(value)``, with ``sub_key`` put in front of the path of any mistake.

    >>> within("nodes", IntRange(0, 1023), -1)
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected an integer from 0 to 1023, got -1
    """
    try:
        return check(value)
    except Invalid as exc:
        name = sub_key if isinstance(sub_key, str) else str(sub_key)
        raise Invalid(str(exc), (name[:MAX_SHOWN], *exc.path)) from None


class Check(Generic[T_co]):
    """One key's check: call it on a YAML value; :attr:`expected` says what it accepts.

    >>> Flag().expected
    'true or false'
    """

    expected: str = "a value"

    def __call__(self, value: object) -> T_co:
        raise NotImplementedError

    def refuse(self, value: object, hint: str = "") -> Invalid:
        """The error for ``value``: ``expected <what this accepts>, got <value><hint>``.

        >>> str(Flag().refuse("yes please"))
        "expected true or false, got 'yes please'"
        """
        return Invalid(f"expected {self.expected}, got {describe(value)}{hint}")


class Rule(Check[T]):
    """A check written as a function that raises :class:`Invalid` with its own words.

    >>> def even(value: object) -> int:
    ...     if isinstance(value, int) and value % 2 == 0:
    ...         return value
    ...     raise Invalid(f"expected an even integer, got {describe(value)}")
    >>> Rule("an even integer", even)(3)
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected an even integer, got 3
    """

    def __init__(self, expected: str, check: Callable[[object], T]) -> None:
        self.expected = expected
        self._check = check

    def __call__(self, value: object) -> T:
        return self._check(value)


class IntRange(Check[int]):
    """An integer (never a boolean or a float) from ``low`` to ``high``.

    ``what`` names the quantity (``a number of free 1G pages``); ``zero``
    says what 0 means when it is allowed with a special meaning.

    >>> IntRange(0, 1024, "a number of 4 MiB blocks").expected
    'a number of 4 MiB blocks, an integer from 0 to 1024'
    >>> IntRange(0, 67_108_864, zero="auto").expected
    'an integer from 0 (auto) to 67,108,864'
    >>> IntRange(1, 100)(101)
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected an integer from 1 to 100, got 101
    """

    def __init__(self, low: int, high: int, what: str = "", *, zero: str = "") -> None:
        self.low = low
        self.high = high
        low_text = f"{low} ({zero})" if zero else number_text(low)
        span = f"an integer from {low_text} to {number_text(high)}"
        self.expected = f"{what}, {span}" if what else span

    def __call__(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise self.refuse(value)
        return value

    def contains(self, value: int) -> bool:
        """Whether ``value`` is in the range.

        >>> IntRange(1, 100).contains(100), IntRange(1, 100).contains(0)
        (True, False)
        """
        return self.low <= value <= self.high


class NumberRange(Check[float]):
    """A finite number (integer or float, never a boolean) in a range; returned as a float.

    ``above_low``: the low bound itself is refused (``positive``).

    >>> seconds(3600).expected
    'a positive number of seconds, at most 3600'
    >>> NumberRange(1.0, 10.0, "a number", hint=" (1.5 asks for 50% more)")(2)
    2.0
    >>> seconds(600)(1.0e308)
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected a positive number of seconds, at most 600, got 1e+308
    """

    def __init__(self, low: float, high: float, what: str, *, above_low: bool = False, hint: str = "") -> None:
        self.low = low
        self.high = high
        self.above_low = above_low
        if above_low:
            self.expected = f"{what}, at most {number_text(high)}{hint}"
        else:
            self.expected = f"{what} from {number_text(low)} to {number_text(high)}{hint}"

    def __call__(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(value)
        if isinstance(value, int) and value.bit_length() > 64:
            raise self.refuse(value)
        number = float(value)
        too_low = number <= self.low if self.above_low else number < self.low
        if not math.isfinite(number) or too_low or number > self.high:
            raise self.refuse(value)
        return number

    def contains(self, value: float) -> bool:
        """Whether ``value`` is in the range.

        >>> seconds(60).contains(60), seconds(60).contains(0)
        (True, False)
        """
        try:
            self(value)
        except Invalid:
            return False
        return True


def seconds(high: float) -> NumberRange:
    """A positive duration in seconds, at most ``high``.

    >>> seconds(10)(0.5)
    0.5
    """
    return NumberRange(0, high, "a positive number of seconds", above_low=True)


class Choice(Check[S]):
    """One of a few words.

    >>> Choice(("strict", "accept-new"))("accept")
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected one of strict, accept-new, got 'accept'
    """

    def __init__(self, allowed: Sequence[S]) -> None:
        self.allowed = tuple(allowed)
        self.expected = f"one of {', '.join(self.allowed)}"

    def __call__(self, value: object) -> S:
        for word in self.allowed:
            if value == word and isinstance(value, str):
                return word
        raise self.refuse(value)


class Flag(Check[bool]):
    """``true`` or ``false`` (YAML booleans only: ``yes`` is a string here).

    >>> Flag()(False)
    False
    """

    expected = "true or false"

    def __call__(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(value)
        return value


class EnvName(Check[str]):
    """The NAME of an environment variable holding a secret; a string that is not a name is never echoed.

    >>> EnvName("the sudo password")("PREFLIGHT_SUDO_PASSWORD")
    'PREFLIGHT_SUDO_PASSWORD'
    >>> EnvName("the sudo password")("hunter2!")
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected the NAME of an environment variable holding the sudo password \
(letters, digits and '_', not starting with a digit, at most 255 characters), got a string that is not a variable \
name (not shown)
    """

    def __init__(self, secret: str) -> None:
        self.expected = (
            f"the NAME of an environment variable holding {secret} "
            "(letters, digits and '_', not starting with a digit, at most 255 characters)"
        )

    def __call__(self, value: object) -> str:
        if not isinstance(value, str) or len(value) > 255 or not ENV_NAME_RE.fullmatch(value):
            # A string is not echoed: it may be the secret itself, put here by mistake.
            found = "a string that is not a variable name (not shown)" if isinstance(value, str) else describe(value)
            raise Invalid(f"expected {self.expected}, got {found}")
        return value


class Text(Check[str]):
    """Free text of at most :data:`MAX_TEXT` characters: a file path or a shell command.

    ``what`` is ``a file path`` or ``a shell command``; a path may not hold a
    newline, neither may hold a NUL character.

    >>> Text("a file path")("/var/log/agent.log")
    '/var/log/agent.log'
    >>> Text("a shell command")("")
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected a shell command, got ''
    """

    def __init__(self, what: str, *, newline_allowed: bool = False) -> None:
        self.what = what
        self.newline_allowed = newline_allowed
        self.expected = what

    def __call__(self, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Invalid(f"expected {self.what}, got {describe(value)}")
        if len(value) > MAX_TEXT:
            raise Invalid(f"expected {self.what} of at most {MAX_TEXT} characters, got {len(value):,}")
        if "\0" in value or ("\n" in value and not self.newline_allowed):
            raise Invalid(f"expected {self.what}, got {shown(value)}: it contains a control character")
        return value


def list_of(
    value: object, what: str, example: str = "", *, empty_allowed: bool = True, limit: int = MAX_LIST
) -> list[object]:
    """``value`` as a list of at most ``limit`` items, else :class:`Invalid` naming ``what``.

    >>> list_of([0, 1], "NUMA node numbers", "[0, 1]")
    [0, 1]
    >>> list_of([], "NUMA node numbers", "[0, 1]", empty_allowed=False)
    Traceback (most recent call last):
    ...
    vrouter_preflight.keys.checks.Invalid: expected a list of NUMA node numbers, e.g. [0, 1], got a list
    """
    if not isinstance(value, list) or (not value and not empty_allowed):
        for_example = f", e.g. {example}" if example else ""
        raise Invalid(f"expected a list of {what}{for_example}, got {describe(value)}")
    if len(value) > limit:
        raise Invalid(f"expected a list of at most {limit} {what}, got {len(value):,} items")
    return value
