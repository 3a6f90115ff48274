"""The local transport: the suite checks the machine it runs on."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from plugins.errors import CommandTimeout, HostError
from plugins.shell import become_command
from plugins.transport.base import CommandResult, Transport, running_as_root


class LocalTransport(Transport):
    """Runs commands with ``sh`` on this machine.

    ``become: sudo`` is honoured only when the suite does not already run as
    root.

    >>> from plugins.inventory import HostSpec
    >>> LocalTransport(HostSpec(name="me", transport="local")).run("echo ok").stdout
    'ok\\n'
    """

    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Run ``command`` with ``sh -c``; killed with its process group on timeout."""
        limit = self.spec.command_timeout if timeout is None else timeout
        password = sudo_password(self.spec.name, self.address, self.spec.sudo_password_env)
        become = self.spec.become if privileged and not running_as_root() else "none"
        argv = become_command(command, become=become, with_password=password is not None and become == "sudo")
        stdin = (password + "\n").encode() if password is not None and become == "sudo" else b""
        started = time.monotonic()
        proc = subprocess.Popen(
            ["sh", "-c", argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise CommandTimeout(
                self.spec.name, self.address, f"command timed out after {limit:g}s: {command[:80]}"
            ) from None
        return CommandResult(
            command=command,
            rc=proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            seconds=time.monotonic() - started,
        )


def sudo_password(host: str, address: str, env_name: str | None) -> str | None:
    """The sudo password from the environment variable the inventory names.

    Returns None when no variable is named. A named but unset variable is a
    host error that names the variable, never a value.

    >>> sudo_password("c0", "", None) is None
    True
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise HostError(host, address, f"sudo_password_env names {env_name}, which is not set in the environment")
    return value
