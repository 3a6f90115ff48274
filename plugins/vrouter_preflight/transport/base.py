"""What every transport offers: run a command, capture fact files, close."""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from vrouter_preflight.capture import (
    Capture,
    CaptureAnswerError,
    FactSource,
    build_capture_script,
    new_boundary,
    read_capture_answer,
)
from vrouter_preflight.errors import CommandFailed, HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.become import host_sudo_password, scrub
from vrouter_preflight.transport.output_limits import OutputTooLarge, excerpt


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one command on one host.

    ``command`` is the script as the suite wrote it, before any ``sudo``
    wrapping; it never contains a secret.

    >>> r = CommandResult(command="true", rc=0, stdout="", stderr="", seconds=0.01)
    >>> r.succeeded
    True
    """

    command: str
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def succeeded(self) -> bool:
        """True when the command exited 0."""
        return self.rc == 0


class Transport(ABC):
    """One host's connection. Created lazily; :meth:`close` at the end.

    Subclasses implement :meth:`run`; :meth:`capture` reads many files in one
    command by default and is overridden where files are read directly.
    """

    def __init__(self, spec: HostSpec) -> None:
        self.spec = spec

    @property
    def address(self) -> str:
        """Where the host is reached, for messages."""
        return self.spec.display_address

    @abstractmethod
    def run(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Run the shell script ``command``; ``privileged`` applies ``become``.

        ``timeout`` (default: the host's ``command_timeout``) is a wall-clock
        limit; past it :class:`~vrouter_preflight.errors.CommandTimeout` is raised and
        the command is killed.
        """

    def run_checked(self, command: str, *, timeout: float | None = None, privileged: bool = False) -> CommandResult:
        """Like :meth:`run`, but a non-zero exit raises CommandFailed.

        >>> from vrouter_preflight.inventory import HostSpec
        >>> from vrouter_preflight.transport.local import LocalTransport
        >>> LocalTransport(HostSpec(name="me", transport="local")).run_checked("echo hi").stdout
        'hi\\n'
        """
        result = self.run(command, timeout=timeout, privileged=privileged)
        if not result.succeeded:
            detail = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.rc}"]
            raise CommandFailed(
                self.spec.name, self.address, f"`{excerpt(command, 80)}` failed (rc {result.rc}): {excerpt(detail[0])}"
            )
        return result

    def capture(self, sources: Sequence[FactSource]) -> dict[str, Capture]:
        """Read every fact source with ONE command on the host.

        Output the capture script did not frame (a shell that prints a
        banner, a broken ``sh``) is an error quoting its start, never "printed
        nothing"; so is output past the transport's limit.

        >>> from vrouter_preflight.inventory import HostSpec
        >>> from vrouter_preflight.transport.local import LocalTransport
        >>> from vrouter_preflight.capture import FactSource
        >>> t = LocalTransport(HostSpec(name="me", transport="local"))
        >>> t.capture([FactSource("/proc/version")])["/proc/version"].status
        'ok'
        """
        boundary = new_boundary()
        try:
            result = self.run(build_capture_script(sources, boundary), privileged=True)
        except OutputTooLarge as exc:
            raise OutputTooLarge(self.spec.name, self.address, f"fact gathering: {exc.detail}") from None
        try:
            captures = read_capture_answer(result.stdout, boundary, stderr=result.stderr, rc=result.rc)
        except CaptureAnswerError as exc:
            raise HostError(self.spec.name, self.address, str(exc)) from None
        # A compressed answer hid the sudo password from run()'s scrub: mask it in the texts too.
        sudo = host_sudo_password(self.spec, self.address)
        if sudo is None:
            return captures
        return {path: dataclasses.replace(c, text=scrub(c.text, sudo.value)) for path, c in captures.items()}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection; safe to call twice."""


def running_as_root() -> bool:
    """True when this process is root (then ``become: sudo`` is not needed locally).

    >>> running_as_root() == (os.stat("/proc/self").st_uid == 0)  # /proc/self belongs to the effective user
    True
    """
    return os.geteuid() == 0
