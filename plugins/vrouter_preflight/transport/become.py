"""Becoming root on a live host: the sudo password, and what sudo's complaints mean.

Shared by the local and SSH transports. The password only ever travels on
sudo's stdin; :func:`scrub` masks it should a command echo it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.output_limits import excerpt

_NEEDS_PASSWORD = ("a password is required", "a terminal is required")
_BAD_PASSWORD = ("incorrect password attempt", "Sorry, try again", "no password was provided")
_NOT_ALLOWED = ("is not in the sudoers file", "is not allowed to run sudo", "may not run sudo")


def sudo_password(host: str, address: str, env_name: str | None) -> str | None:
    """The sudo password from the environment variable the inventory names.

    Returns None when no variable is named. A named but unset variable is a
    host error that names the variable, never a value.

    >>> sudo_password("c0", "", None) is None
    True
    >>> sudo_password("c0", "", "VRPF_SURELY_UNSET")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vrouter_preflight.errors.HostError: c0: sudo_password_env names VRPF_SURELY_UNSET, which is not set in the e...
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise HostError(host, address, f"sudo_password_env names {env_name}, which is not set in the environment")
    return value


@dataclass(frozen=True)
class SudoPassword:
    """The sudo password of a host and where it came from (for messages: never the password itself).

    >>> SudoPassword("hunter2", "$PW")
    SudoPassword(source='$PW')
    """

    value: str = field(repr=False)
    source: str


def host_sudo_password(spec: HostSpec, address: str) -> SudoPassword | None:
    """The inventory's own sudo password (``ansible_become_password``), else the one ``sudo_password_env`` names.

    >>> host_sudo_password(HostSpec(name="c0"), "") is None
    True
    >>> os.environ["VRPF_DOCTEST_PW"] = "hunter2"
    >>> host_sudo_password(HostSpec(name="c0", sudo_password_env="VRPF_DOCTEST_PW"), "").source
    '$VRPF_DOCTEST_PW'
    """
    if spec.sudo_password is not None:
        return SudoPassword(spec.sudo_password.reveal(), "the inventory's become password")
    value = sudo_password(spec.name, address, spec.sudo_password_env)
    return None if value is None else SudoPassword(value, f"${spec.sudo_password_env}")


def sudo_failure(stderr: str, *, password: SudoPassword | None) -> str | None:
    """Why sudo itself refused to run the command, or None when it did not.

    >>> sudo_failure("sudo: a password is required", password=None)[:32]
    'sudo requires a password; set su'
    >>> sudo_failure("sudo: 1 incorrect password attempt", password=SudoPassword("x", "$PW"))
    'sudo password rejected (from $PW)'
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
