"""Becoming root on a live host: the sudo password, and what sudo's complaints mean.

Shared by the local and SSH transports. The password only ever travels on
sudo's stdin; :func:`scrub` masks it should a command echo it back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.output_limits import excerpt

_NEEDS_PASSWORD = ("a password is required", "a terminal is required")
_BAD_PASSWORD = ("incorrect password attempt", "Sorry, try again", "no password was provided")
_NOT_ALLOWED = ("is not in the sudoers file", "is not allowed to run sudo", "may not run sudo")
#: Hosts named in the message about unset variables (the rest are counted).
MAX_HOSTS_NAMED = 5


def unset_variable_cause(key: str) -> str:
    """What is wrong when ``key`` (``sudo_password_env``, ``identity_passphrase_env``) names an unset variable.

    The variable's name is never part of it: a secret pasted into the key by
    mistake may look like a name (``Zq9Secret``).

    >>> unset_variable_cause("sudo_password_env")
    'sudo_password_env names an environment variable that is not set (its name is not shown: it may be a secret)'
    """
    return f"{key} names an environment variable that is not set (its name is not shown: it may be a secret)"


def sudo_password(host: str, address: str, env_name: str | None) -> str | None:
    """The sudo password from the environment variable the inventory names.

    Returns None when no variable is named. A named but unset variable is a
    host error that names the key, never the variable (the run refuses that
    before any connection, :func:`unset_secret_variables`; this is the backstop).

    >>> sudo_password("c0", "", None) is None
    True
    >>> sudo_password("c0", "", "VRPF_SURELY_UNSET")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.HostError: c0: sudo_password_env names an environment variable that is not set (...)
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise HostError(host, address, unset_variable_cause("sudo_password_env"))
    return value


def unset_secret_variables(hosts: Iterable[HostSpec], environ: Mapping[str, str]) -> dict[str, list[str]]:
    """Per key, the hosts whose named secret variable is not in ``environ``: only those a transport would read.

    ``sudo_password_env`` counts unless the inventory holds the become password
    itself (which wins); ``identity_passphrase_env`` for every SSH host.

    >>> hosts = [HostSpec(name="c0", sudo_password_env="PW"), HostSpec(name="c1", identity_passphrase_env="KEY"),
    ...          HostSpec(name="c2", sudo_password_env="SET")]
    >>> unset_secret_variables(hosts, {"SET": "x"})
    {'sudo_password_env': ['c0'], 'identity_passphrase_env': ['c1']}
    """
    unset: dict[str, list[str]] = {}
    for spec in hosts:
        named = {"identity_passphrase_env": spec.identity_passphrase_env}
        named["sudo_password_env"] = None if spec.sudo_password is not None else spec.sudo_password_env
        for key in ("sudo_password_env", "identity_passphrase_env"):
            variable = named[key]
            if variable is not None and variable not in environ:
                unset.setdefault(key, []).append(spec.name)
    return unset


def describe_unset_variables(unset: Mapping[str, list[str]]) -> str:
    """One line per key for :func:`unset_secret_variables`' result: which key of which hosts; never a variable.

    >>> print(describe_unset_variables({"sudo_password_env": [f"c{n}" for n in range(7)]}))
    hosts 'c0', 'c1', 'c2', 'c3', 'c4' and 2 more: sudo_password_env names an environment variable that is not \
set (its name is not shown: it may be a secret); export it before the run
    """
    lines = []
    for key, names in unset.items():
        shown = ", ".join(repr(name) for name in names[:MAX_HOSTS_NAMED])
        more = f" and {len(names) - MAX_HOSTS_NAMED} more" if len(names) > MAX_HOSTS_NAMED else ""
        which = f"host {shown}" if len(names) == 1 else f"hosts {shown}{more}"
        lines.append(f"{which}: {unset_variable_cause(key)}; export it before the run")
    return "\n".join(lines)


@dataclass(frozen=True)
class SudoPassword:
    """The sudo password of a host and where it came from (for messages: never the password itself).

    >>> SudoPassword("hunter2", "sudo_password_env")
    SudoPassword(source='sudo_password_env')
    """

    value: str = field(repr=False)
    source: str


def host_sudo_password(spec: HostSpec, address: str) -> SudoPassword | None:
    """The inventory's own sudo password (``ansible_become_password``), else the one ``sudo_password_env`` names.

    >>> host_sudo_password(HostSpec(name="c0"), "") is None
    True
    >>> os.environ["VRPF_DOCTEST_PW"] = "hunter2"
    >>> host_sudo_password(HostSpec(name="c0", sudo_password_env="VRPF_DOCTEST_PW"), "").source
    'the variable sudo_password_env names'
    """
    if spec.sudo_password is not None:
        return SudoPassword(spec.sudo_password.reveal(), "the inventory's become password")
    value = sudo_password(spec.name, address, spec.sudo_password_env)
    return None if value is None else SudoPassword(value, "the variable sudo_password_env names")


def sudo_failure(stderr: str, *, password: SudoPassword | None) -> str | None:
    """Why sudo itself refused to run the command, or None when it did not.

    >>> sudo_failure("sudo: a password is required", password=None)[:32]
    'sudo requires a password; set su'
    >>> sudo_failure("sudo: 1 incorrect password attempt", password=SudoPassword("x", "sudo_password_env"))
    'sudo password rejected (from sudo_password_env)'
    >>> sudo_failure("cat: x: No such file", password=None) is None
    True
    """
    had_password = password is not None
    if any(s in stderr for s in _NOT_ALLOWED):
        return f"sudo refused: {_sudo_line(stderr)}"
    if not had_password and any(s in stderr for s in _NEEDS_PASSWORD):
        return (
            "sudo requires a password; set sudo_password_env to the name of an environment variable "
            "holding it (or allow NOPASSWD for this user)"
        )
    if password is not None and any(s in stderr for s in _BAD_PASSWORD):
        return f"sudo password rejected (from {password.source})"
    return None


def scrub(text: str, secret: str | None) -> str:
    """Mask every occurrence of ``secret`` in ``text``.

    >>> scrub("pw is hunter2", "hunter2")
    'pw is ********'
    """
    return text.replace(secret, "********") if secret else text


def _sudo_line(stderr: str) -> str:
    for line in stderr.splitlines():
        if "sudo" in line:
            return excerpt(line.strip())
    return excerpt(stderr.strip())
