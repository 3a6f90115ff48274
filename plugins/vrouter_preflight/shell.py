"""Building shell command lines safely: one quoting function for every value.

Every value that enters a remote command goes through :func:`quote` (or
:func:`command_line`); nothing else builds command strings by hand.
"""

from __future__ import annotations

import math
import shlex


def quote(value: str | int) -> str:
    """Quote one value for a POSIX shell.

    >>> quote("/sys/devices/system/node/node0/hugepages")
    '/sys/devices/system/node/node0/hugepages'
    >>> quote("a b; rm -rf /")
    "'a b; rm -rf /'"
    >>> quote(3)
    '3'
    """
    return shlex.quote(str(value))


def command_line(*argv: str | int) -> str:
    """Join an argument vector into one shell-safe command line.

    >>> command_line("sh", "-c", "echo $HOME")
    "sh -c 'echo $HOME'"
    """
    return " ".join(quote(arg) for arg in argv)


def become_command(command: str, *, become: str, with_password: bool) -> str:
    """Wrap ``command`` (a shell script) so it runs as root when asked.

    ``become`` is ``"none"`` or ``"sudo"``. Without a password, ``sudo -n``
    fails at once instead of prompting. With one, ``sudo -S -k -p ''`` reads it
    from the first line of stdin (``-k`` makes sudo always consume that line).
    The inner script never reads stdin.

    >>> become_command("cat /proc/pagetypeinfo", become="none", with_password=False)
    "sh -c 'cat /proc/pagetypeinfo'"
    >>> become_command("id -u", become="sudo", with_password=False)
    "sudo -n -- sh -c 'id -u'"
    >>> become_command("id -u", become="sudo", with_password=True)
    "sudo -S -k -p '' -- sh -c 'exec </dev/null; id -u'"
    """
    if become == "none":
        return command_line("sh", "-c", command)
    if become != "sudo":
        raise ValueError(f"unknown become method {become!r}")
    if with_password:
        return "sudo -S -k -p '' -- " + command_line("sh", "-c", "exec </dev/null; " + command)
    return "sudo -n -- " + command_line("sh", "-c", command)


def with_host_deadline(command: str, seconds: float, *, grace: int = 2) -> str:
    """Make the host itself end ``command`` a little after the client gives up.

    The client enforces ``seconds`` and reports a timeout; closing an SSH
    channel does not stop a command without a terminal, so the host's own
    ``timeout`` (coreutils or busybox, where present) sends TERM ``grace``
    seconds later and KILL 5 seconds after that. Without ``timeout`` the
    command runs as it is.

    >>> print(with_host_deadline("sleep 9", 3))
    if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 5 sleep 9; else exec sleep 9; fi
    """
    limit = math.ceil(seconds) + grace
    return f"if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 {limit} {command}; else exec {command}; fi"


#: Characters OpenSSH (9.6+, ``misc.c``) refuses in a host name given on the command line.
_HOST_METACHARACTERS = frozenset("'`\"$\\;&<>|(){},")
#: Characters OpenSSH refuses in a user name given on the command line.
_USER_METACHARACTERS = frozenset("'`\";&<>|(){}")
#: The longest host name a resolver accepts (NI_MAXHOST is 1025; DNS names stop at 253).
MAX_HOST_NAME = 255


def unsafe_host_name(value: str) -> str | None:
    """Why ``value`` may not stand for ``%h`` in a local shell command, or None when it may.

    The rule is OpenSSH's (``valid_hostname``, 9.6 and later): no leading
    ``-``, no whitespace or control characters, none of ``'`"$\\;&<>|(){},``;
    and at most :data:`MAX_HOST_NAME` characters.

    >>> unsafe_host_name("compute-0.lab") is None, unsafe_host_name("fd00::1") is None
    (True, True)
    >>> unsafe_host_name("$(touch${IFS}pwned)")
    "it contains the shell metacharacter '$'"
    >>> unsafe_host_name("-oProxyCommand=x")
    "it starts with '-'"
    """
    if len(value) > MAX_HOST_NAME:
        return f"it is {len(value)} characters long (at most {MAX_HOST_NAME})"
    if value.startswith("-"):
        return "it starts with '-'"
    for ch in value:
        if ch in _HOST_METACHARACTERS:
            return f"it contains the shell metacharacter {ch!r}"
        if ch.isspace() or not ch.isprintable():
            return "it contains whitespace or control characters"
    return None


def unsafe_user_name(value: str) -> str | None:
    """Why ``value`` may not stand for ``%r`` in a local shell command, or None when it may.

    OpenSSH's rule (``valid_ruser``): no leading ``-``, no control
    characters, none of ``'`";&<>|(){}``, no ``-`` after whitespace and no
    trailing backslash.

    >>> unsafe_user_name("heat-admin") is None
    True
    >>> unsafe_user_name("root;id")
    "it contains the shell metacharacter ';'"
    """
    if value.startswith("-"):
        return "it starts with '-'"
    for index, ch in enumerate(value):
        if ch in _USER_METACHARACTERS:
            return f"it contains the shell metacharacter {ch!r}"
        if not ch.isprintable():
            return "it contains control characters"
        if ch.isspace() and value[index + 1 : index + 2] == "-":
            return "it has '-' after whitespace"
    if value.endswith("\\"):
        return "it ends with a backslash"
    return None
