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
