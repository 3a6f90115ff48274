"""Host entries as Ansible writes them: ``compute[01:20]``, ``node-[a:c]``, ``host:2222``.

A range is ``[begin:end]`` or ``[begin:end:step]``, inclusive; numbers keep
the zero padding of ``begin`` (``[01:20]`` gives ``01`` ... ``20``, begin and end
then need the same width); single letters give ``[a:c]`` (in the order
``a``-``z`` then ``A``-``Z``, as Ansible); an empty begin is 0. Several ranges in
one entry multiply. A range with begin after end is an error (Ansible silently
makes no host of it). A port after the last ``:`` of a name or IPv4 address (or
after ``[v6]:``) is split off.
"""

from __future__ import annotations

import ipaddress
import re
import string

from vrouter_preflight.facts.lines import is_plain_number

MAX_EXPANSION = 100_000

_BRACKETED_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_RANGE = r"\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_LABEL = rf"(?:\w|{_RANGE})(?:[\w-]|{_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.UNICODE)
_IPV4_PART = r"(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|\[[0-9]+:[0-9]+(?::[0-9]+)?\])"
_IPV4 = re.compile(rf"^(?:{_IPV4_PART}\.){{3}}{_IPV4_PART}$")


def _is_address(text: str) -> bool:
    """A host name, IPv4 or IPv6 address, possibly holding ranges."""
    if _HOSTNAME.match(text) or _IPV4.match(text):
        return True
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def split_port(entry: str) -> tuple[str, int | None]:
    """``(host part, port)`` of an inventory host entry; the port is ``None`` when not given.

    >>> split_port("compute02:2222"), split_port("[fe80::1]:22"), split_port("fe80::1")
    (('compute02', 2222), ('fe80::1', 22), ('fe80::1', None))
    >>> split_port("compute[01:03]:2222")
    ('compute[01:03]', 2222)
    """
    for pattern in (_BRACKETED_PORT, _HOST_PORT):
        match = pattern.match(entry)
        if match and _is_address(match.group(1)):
            return match.group(1), int(match.group(2))
    return entry, None


def _is_number(text: str) -> bool:
    """ASCII digits, at most 18 of them (``str.isdigit`` also takes '²', which ``int`` refuses).

    >>> _is_number("07"), _is_number("²"), _is_number("9" * 19)
    (True, False, False)
    """
    return is_plain_number(text, 18)


def _one_range(body: str, entry: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r} must be [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r} has no end")
    if not _is_number(step_text) or int(step_text) == 0:
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r}: the step must be a positive integer")
    step = int(step_text)
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise ValueError(f"range [{body[:60]}] in {entry[:100]!r} must have begin <= end")
        return list(letters[first : last + 1 : step])
    if not (_is_number(begin) and _is_number(end)):
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r}: expected numbers or single letters")
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r}: a zero-padded begin needs an end of the same width")
    count = (int(end) - int(begin)) // step + 1
    if count <= 0:
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r} makes no host (begin > end)")
    if count > MAX_EXPANSION:
        raise ValueError(f"range [{body[:60]}] in {entry[:100]!r} makes {count} hosts, more than {MAX_EXPANSION}")
    return [str(number).zfill(width) for number in range(int(begin), int(end) + 1, step)]


def expand_ranges(entry: str, limit: int = MAX_EXPANSION) -> list[str]:
    """Every host name an entry with ``[x:y]`` ranges stands for, in order.

    >>> expand_ranges("compute[01:03]")
    ['compute01', 'compute02', 'compute03']
    >>> expand_ranges("c[01:07:3]-[a:b]")
    ['c01-a', 'c01-b', 'c04-a', 'c04-b', 'c07-a', 'c07-b']
    >>> expand_ranges("compute[1:2000000]")
    Traceback (most recent call last):
    ...
    ValueError: range [1:2000000] in 'compute[1:2000000]' makes 2000000 hosts, more than 100000
    """
    open_at = entry.find("[")
    if open_at < 0:
        return [entry]
    close_at = entry.find("]", open_at)
    if close_at < 0:
        raise ValueError(f"unclosed '[' in {entry[:100]!r}")
    head, body, tail = entry[:open_at], entry[open_at + 1 : close_at], entry[close_at + 1 :]
    names: list[str] = []
    for middle in _one_range(body, entry):
        for name in expand_ranges(head + middle + tail, limit):
            names.append(name)
            if len(names) > limit:
                raise ValueError(f"{entry[:100]!r} makes more than {limit} hosts")
    return names


def expand_host_entry(entry: str) -> tuple[list[str], int | None]:
    """The host names and the port an inventory host entry stands for.

    >>> expand_host_entry("compute[01:02]:2222")
    (['compute01', 'compute02'], 2222)
    >>> expand_host_entry("localhost")
    (['localhost'], None)
    """
    host, port = split_port(entry)
    return expand_ranges(host), port
