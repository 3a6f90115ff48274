"""How a host is reached over SSH: its address, its user and the bastion hops, each checked.

An address or a user reaches a local shell when an ssh_config ``ProxyCommand``
expands ``%h`` / ``%r``, so both refuse what OpenSSH 9.6+ refuses on its
command line: a leading ``-``, whitespace, control characters and the shell's
metacharacters (``misc.c`` ``valid_hostname`` / ``valid_ruser``).

>>> parse_jump("stack@undercloud:2222")
JumpHost(address='undercloud', user='stack', port=2222)
>>> host_address("$(touch${IFS}pwned)")
Traceback (most recent call last):
...
vrouter_preflight.keys.checks.Invalid: expected a host name or IP address, got '$(touch${IFS}pwned)': \
it contains a shell metacharacter ('$'), refused as OpenSSH does
"""

from __future__ import annotations

from dataclasses import dataclass

from vrouter_preflight.facts.lines import is_plain_number
from vrouter_preflight.keys.checks import Invalid, describe, list_of, shown

MAX_ADDRESS = 253
"""A DNS name's length limit; an IPv6 address is at most 45 characters."""
MAX_USER = 256
MAX_HOPS = 16
HOSTNAME_METACHARACTERS = "'`\"$\\;&<>|(){},"
"""What OpenSSH refuses in a host name given to it (``valid_hostname``)."""
USER_METACHARACTERS = "'`\";&<>|(){}"
"""What OpenSSH refuses in a user name given to it (``valid_ruser``)."""


@dataclass(frozen=True)
class JumpHost:
    """One bastion hop, parsed from ``[user@]host[:port]``.

    >>> JumpHost(address="undercloud", user="stack", port=22).display
    'stack@undercloud:22'
    """

    address: str
    user: str | None = None
    port: int | None = None

    @property
    def display(self) -> str:
        """How the hop is shown in messages (never holds a secret).

        >>> JumpHost("undercloud").display
        'undercloud'
        """
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.address}{port}"


def _safe_token(value: object, what: str, limit: int, metacharacters: str) -> str:
    """A string that cannot be read as a command-line option, split by a shell or expanded by one."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"expected {what} (a non-empty string), got {describe(value)}")
    if len(value) > limit:
        raise Invalid(f"expected {what} of at most {limit} characters, got {len(value):,} characters")
    if value.startswith("-"):
        raise Invalid(f"expected {what}, got {shown(value)}: a value starting with '-' could be read as an option")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise Invalid(f"expected {what}, got {shown(value)}: it contains whitespace or control characters")
    found = next((ch for ch in value if ch in metacharacters), None)
    if found is not None:
        raise Invalid(
            f"expected {what}, got {shown(value)}: it contains a shell metacharacter ({found!r}), "
            "refused as OpenSSH does"
        )
    return value


ADDRESS_EXPECTED = f"a host name or IP address (at most {MAX_ADDRESS} characters, no shell metacharacters)"
USER_EXPECTED = f"a user name (at most {MAX_USER} characters, no shell metacharacters)"
JUMP_EXPECTED = f"[user@]host[:port] ([v6addr]:port for IPv6), or a list of up to {MAX_HOPS}"


def host_address(value: object) -> str:
    """An address to connect to: a host name or an IP address, without user, port or brackets.

    >>> host_address("2001:db8::1")
    '2001:db8::1'
    """
    text = _safe_token(value, "a host name or IP address", MAX_ADDRESS, HOSTNAME_METACHARACTERS)
    if "@" in text:
        raise Invalid(f"expected a host name or IP address, got {shown(text)}: put the user in the 'user' key")
    if text.startswith("[") or text.endswith("]"):
        raise Invalid(
            f"expected a host name or IP address, got {shown(text)}: write IPv6 without brackets, port in 'port'"
        )
    if "/" in text:
        raise Invalid(f"expected a host name or IP address, got {shown(text)}")
    return text


def user_name(value: object) -> str:
    """A login user name.

    >>> user_name("heat-admin")
    'heat-admin'
    """
    text = _safe_token(value, "a user name", MAX_USER, USER_METACHARACTERS)
    if any(ch in text for ch in "@:/,") or text.endswith("\\"):
        raise Invalid(f"expected a user name, got {shown(text)}")
    return text


def parse_jump(text: str) -> JumpHost:
    """Parse one bastion hop written ``[user@]host[:port]`` (IPv6 as ``[addr]:port``).

    Raises ValueError with a reason when the text is not a hop.

    >>> parse_jump("[2001:db8::1]:22")
    JumpHost(address='2001:db8::1', user=None, port=22)
    >>> parse_jump("2001:db8::1").port is None
    True
    """
    user: str | None = None
    rest = text
    if "@" in rest:
        user_text, _, rest = rest.rpartition("@")
        try:
            user = user_name(user_text)
        except Invalid as exc:
            raise ValueError(f"bad user in {shown(text)}: {exc}") from None
    port: int | None = None
    if rest.startswith("["):
        address, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise ValueError(f"expected [IPv6]:port in {shown(text)}")
        port_text = tail[1:] if tail else None
    elif rest.count(":") == 1:
        address, _, port_text = rest.partition(":")
    else:
        address, port_text = rest, None  # a bare IPv6 address has no port
    if port_text is not None:
        if not is_plain_number(port_text, 5):
            raise ValueError(f"expected a port number after ':' in {shown(text)}, got {shown(port_text)}")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} in {shown(text)} is not from 1 to 65535")
    try:
        _safe_token(address, "a host name or IP address", MAX_ADDRESS, HOSTNAME_METACHARACTERS)
    except Invalid as exc:
        raise ValueError(f"bad host in {shown(text)}: {exc}") from None
    if "/" in address:
        raise ValueError(f"bad host in {shown(text)}: expected a host name or IP address")
    return JumpHost(address=address, user=user, port=port)


def jump_hops(value: object) -> tuple[JumpHost, ...]:
    """The ``jump`` key: one hop, hops separated by commas, or a list of hops; ``[]`` means none.

    >>> [hop.display for hop in jump_hops("a@bastion:22, stack@undercloud")]
    ['a@bastion:22', 'stack@undercloud']
    """
    if isinstance(value, str):
        items: list[object] = [part.strip() for part in value.split(",", MAX_HOPS)]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise Invalid(f"expected '[user@]host[:port]' or a list of them, got {describe(value)}")
    list_of(items, "hops", limit=MAX_HOPS)
    hops = []
    for item in items:
        if not isinstance(item, str):
            raise Invalid(f"expected '[user@]host[:port]' for each hop, got {describe(item)}")
        try:
            hops.append(parse_jump(item))
        except ValueError as exc:
            raise Invalid(f"{exc} (a hop is written [user@]host[:port])") from None
    return tuple(hops)
