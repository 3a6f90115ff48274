"""The local transport: the suite checks the machine it runs on."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from vrouter_preflight.errors import CommandTimeout, HostError
from vrouter_preflight.shell import become_command
from vrouter_preflight.transport.base import CommandResult, Transport, running_as_root
from vrouter_preflight.transport.become import scrub, sudo_failure, sudo_password


class LocalTransport(Transport):
    """Runs commands with ``sh`` on this machine.

    ``become: sudo`` is honoured only when the suite does not already run as
    root.

    >>> from vrouter_preflight.inventory import HostSpec
    >>> LocalTransport(HostSpec(name="me", transport="local")).run("echo ok").stdout
    'ok\\n'
    """

    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Run ``command`` with ``sh -c``; killed with its process group on timeout."""
        limit = self.spec.command_timeout if timeout is None else timeout
        become = self.spec.become if privileged and not running_as_root() else "none"
        password = (
            sudo_password(self.spec.name, self.address, self.spec.sudo_password_env) if become == "sudo" else None
        )
        argv = become_command(command, become=become, with_password=password is not None)
        stdin = b"" if password is None else (password + "\n").encode()
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
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM turned into an exception): the command must not outlive us.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        stdout = scrub(out.decode("utf-8", "replace"), password)
        stderr = scrub(err.decode("utf-8", "replace"), password)
        if become == "sudo" and proc.returncode != 0:
            cause = sudo_failure(stderr, had_password=password is not None, env_name=self.spec.sudo_password_env)
            if cause is not None:
                raise HostError(self.spec.name, self.address, cause)
        return CommandResult(command, proc.returncode, stdout, stderr, time.monotonic() - started)
