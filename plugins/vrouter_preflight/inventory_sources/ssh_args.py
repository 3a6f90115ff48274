"""OpenSSH command-line options as Ansible passes them (``ansible_ssh_common_args`` / ``_extra_args``).

The words are split like a shell line, then read like ``ssh`` reads its
options: ``-o Key=Value`` (also ``-oKey=Value`` and ``-o "Key Value"``, the key
in any case), ``-J``, ``-i``, ``-p``, ``-l``, ``-F``, flags grouped
(``-qC``). For a single-valued option the first value given wins, as in
``ssh``; identity files add up. Options the suite has no use for are listed
by name in :attr:`SshOptions.ignored`.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

# ssh(1): letters that take an argument; every other letter is a flag.
_WITH_ARGUMENT = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_LETTER_OPTIONS = {"J": "proxyjump", "i": "identityfile", "p": "port", "l": "user", "F": "configfile"}
_KNOWN = frozenset(
    {
        "port",
        "user",
        "identityfile",
        "proxyjump",
        "proxycommand",
        "userknownhostsfile",
        "stricthostkeychecking",
        "connecttimeout",
        "configfile",
    }
)


@dataclass(frozen=True)
class SshOptions:
    """The options the suite maps, each the first value given (``None`` when absent).

    ``proxy`` is whichever of ProxyJump / ProxyCommand came first (ssh uses
    only that one): ``("jump", value)`` or ``("command", value)``.

    >>> SshOptions().identity_files
    ()
    """

    port: str | None = None
    user: str | None = None
    identity_files: tuple[str, ...] = ()
    proxy: tuple[str, str] | None = None
    known_hosts_file: str | None = None
    strict_host_key_checking: str | None = None
    connect_timeout: str | None = None
    config_file: str | None = None
    ignored: tuple[str, ...] = ()


def _option_pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, value)`` for each option word: ``-o`` options by key, letters by :data:`_LETTER_OPTIONS`."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-") or word == "-":
            pairs.append(("(argument)", word))
            continue
        position = 1
        while position < len(word):
            letter = word[position]
            position += 1
            if letter not in _WITH_ARGUMENT:
                continue
            value = word[position:]
            if not value:
                if index >= len(words):
                    raise ValueError(f"option -{letter} needs a value")
                value = words[index]
                index += 1
            if letter == "o":
                key, _, rest = value.replace("=", " ", 1).partition(" ")
                pairs.append((key.strip().lower(), rest.strip()))
            else:
                pairs.append((_LETTER_OPTIONS.get(letter, f"-{letter}"), value))
            break
    return pairs


@functools.lru_cache(maxsize=1024)
def _words(text: str) -> tuple[str, ...]:
    """``text`` split like a shell line; cached, as every host of a group shares the same arguments."""
    return tuple(shlex.split(text))


def parse_ssh_args(*texts: str) -> SshOptions:
    """The options in one or more argument strings, read in order (first value wins).

    >>> o = parse_ssh_args("-o ProxyCommand='ssh -W %h:%p -q stack@undercloud' -o UserKnownHostsFile=/dev/null",
    ...                    "-o StrictHostKeyChecking=no -p 2222 -i ~/.ssh/a -i ~/.ssh/b -o ControlMaster=auto -qC")
    >>> o.proxy, o.known_hosts_file, o.strict_host_key_checking, o.port, o.identity_files, o.ignored
    (('command', 'ssh -W %h:%p -q stack@undercloud'), '/dev/null', 'no', '2222', ('~/.ssh/a', '~/.ssh/b'), \
('controlmaster',))
    >>> parse_ssh_args("-J stack@bastion:2222 -o ProxyCommand=none").proxy
    ('jump', 'stack@bastion:2222')
    >>> parse_ssh_args("-o 'ProxyJump")
    Traceback (most recent call last):
    ...
    ValueError: No closing quotation
    """
    found: dict[str, str] = {}
    identities: list[str] = []
    proxy: tuple[str, str] | None = None
    ignored: dict[str, None] = {}
    for text in texts:
        for name, value in _option_pairs(_words(text)):
            if name == "identityfile":
                identities.append(value)
            elif name in ("proxyjump", "proxycommand"):
                if proxy is None:
                    proxy = ("jump" if name == "proxyjump" else "command", value)
            elif name in _KNOWN:
                found.setdefault(name, value)
            else:
                ignored[name] = None
    return SshOptions(
        port=found.get("port"),
        user=found.get("user"),
        identity_files=tuple(identities),
        proxy=proxy,
        known_hosts_file=found.get("userknownhostsfile"),
        strict_host_key_checking=found.get("stricthostkeychecking"),
        connect_timeout=found.get("connecttimeout"),
        config_file=found.get("configfile"),
        ignored=tuple(ignored),
    )
