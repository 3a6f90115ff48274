"""The local transport: the suite checks the machine it runs on."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time

from vrouter_preflight.errors import CommandTimeout, HostError
from vrouter_preflight.shell import become_command
from vrouter_preflight.transport.base import CommandResult, Transport, running_as_root
from vrouter_preflight.transport.become import host_sudo_password, scrub, sudo_failure
from vrouter_preflight.transport.output_limits import OutputCollector, short_command

_CHUNK = 65536


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
        sudo = host_sudo_password(self.spec, self.address) if become == "sudo" else None
        password = None if sudo is None else sudo.value
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
            rc, output = self._communicate(proc, stdin, limit, command)
        finally:
            # Timed out, over a limit, interrupted (Ctrl-C, SIGTERM): the command must not outlive us.
            if proc.returncode is None:
                _kill(proc)
        stdout = scrub(output.output("stdout").decode("utf-8", "replace"), password)
        stderr = scrub(output.output("stderr").decode("utf-8", "replace"), password)
        if become == "sudo" and rc != 0:
            cause = sudo_failure(stderr, password=sudo)
            if cause is not None:
                raise HostError(self.spec.name, self.address, cause)
        return CommandResult(command, rc, stdout, stderr, time.monotonic() - started)

    def _communicate(
        self, proc: subprocess.Popen[bytes], stdin: bytes, limit: float, command: str
    ) -> tuple[int, OutputCollector]:
        """Feed stdin, then read both pipes together up to their limits until EOF and exit, or ``limit`` seconds."""
        deadline = time.monotonic() + limit
        timed_out = CommandTimeout(
            self.spec.name, self.address, f"command timed out after {limit:g}s: {short_command(command)}"
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.write(stdin)  # at most the sudo password: fits the pipe buffer
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the command ended without reading it
        output = OutputCollector()
        streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
        with selectors.DefaultSelector() as selector:
            for fd in streams:
                selector.register(fd, selectors.EVENT_READ)
            while streams:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise timed_out
                for event, _ in selector.select(min(remaining, 0.5)):
                    stream = streams[event.fd]
                    chunk = os.read(event.fd, output.room(stream, _CHUNK))
                    if not chunk:
                        selector.unregister(event.fd)
                        del streams[event.fd]
                    elif not output.add(stream, chunk):
                        raise output.too_large(self.spec.name, self.address, command)
        try:
            rc = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise timed_out from None
        proc.stdout.close()
        proc.stderr.close()
        return rc, output


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command's whole process group and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
