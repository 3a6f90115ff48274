"""Building shell command lines safely: one quoting function for every value.

Every value that enters a remote command goes through :func:`quote` (or
:func:`command_line`); nothing else builds command strings by hand.
"""

from __future__ import annotations

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
