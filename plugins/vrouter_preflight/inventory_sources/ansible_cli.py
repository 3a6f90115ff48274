"""Asking ``ansible-inventory`` for what only Ansible can read (scripts, plugins, vault-encrypted files).

``ansible-inventory -i SOURCE ... --list`` runs with no standard input (a vault
password prompt cannot hang the run), a wall-clock timeout and a cap on its
output. The vault password comes the usual Ansible ways (``ansible.cfg``,
``ANSIBLE_VAULT_PASSWORD_FILE``). A source Ansible cannot parse fails the call
(``ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED``) rather than giving an empty
inventory. When it fails, the message names the source
and the first error line Ansible printed, cut short: Ansible's longer output
can quote inventory lines, which may hold passwords, so it is not repeated.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence

from vrouter_preflight.inventory_sources.errors import NeedsAnsibleError

ANSIBLE_INVENTORY = "ansible-inventory"
TIMEOUT_SECONDS = 120.0
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_MAX_ERROR_CHARS = 300
_MAX_STDERR_BYTES = 64 * 1024


def first_error_line(stderr: str) -> str:
    """The line of Ansible's error output worth repeating, cut to a bounded length.

    >>> first_error_line("[WARNING]: x\\n[ERROR]: Failed to parse inventory.\\nOrigin: hosts:3\\n  pw: secret\\n")
    '[ERROR]: Failed to parse inventory.'
    >>> first_error_line("")
    'no error message'
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line[:12]]
    chosen = (errors or lines or ["no error message"])[0]
    return chosen if len(chosen) <= _MAX_ERROR_CHARS else chosen[:_MAX_ERROR_CHARS] + "..."


def find_ansible_inventory() -> str | None:
    """The ``ansible-inventory`` executable on PATH, or ``None``."""
    return shutil.which(ANSIBLE_INVENTORY)


def _drain(process: subprocess.Popen[bytes], timeout: float, max_bytes: int) -> tuple[bytes, bytes, str]:
    """Read stdout and stderr together until both close; stop at the deadline or the size cap."""
    assert process.stdout is not None and process.stderr is not None
    deadline = time.monotonic() + timeout
    chunks: dict[int, list[bytes]] = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.register(process.stderr, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"", b"", f"did not finish within {timeout:g} s"
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                sizes[key.fd] += len(data)
                if sizes[key.fd] > max_bytes:
                    return b"", b"", f"printed more than {max_bytes} bytes"
                if key.fd == process.stdout.fileno() or sizes[key.fd] <= _MAX_STDERR_BYTES:
                    chunks[key.fd].append(data)
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"", b"", f"did not finish within {timeout:g} s"
    return b"".join(chunks[process.stdout.fileno()]), b"".join(chunks[process.stderr.fileno()]), ""


def run_ansible_inventory(
    sources: Sequence[str],
    reason: str,
    *,
    executable: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_OUTPUT_BYTES,
) -> object:
    """The parsed JSON of ``ansible-inventory -i SOURCE... --list``.

    ``reason`` names the file and why Ansible is needed (``"inv/ec2.yml: it is
    an inventory plugin configuration"``); it starts every message. Raises
    :class:`NeedsAnsibleError` when the command is missing, fails, times out,
    prints too much or prints something that is not JSON.
    """
    shown = ", ".join(sources)
    command = executable or find_ansible_inventory()
    if command is None:
        raise NeedsAnsibleError(
            f"{reason}: only Ansible reads this, and {ANSIBLE_INVENTORY} is not on PATH; install ansible-core, "
            f"or give the output of '{ANSIBLE_INVENTORY} -i {shown} --list' saved as a JSON file"
        )
    argv = [command]
    for source in sources:
        argv += ["-i", source]
    argv.append("--list")
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # A source Ansible cannot parse is a failure, not a warning and an empty inventory.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
    }
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: a timeout ends the script it runs too
        )
    except OSError as exc:
        raise NeedsAnsibleError(
            f"{reason}: only Ansible reads this; cannot run {command}: {exc.strerror or exc}"
        ) from None
    try:
        payload, stderr, problem = _drain(process, timeout, max_bytes)
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    if problem:
        raise NeedsAnsibleError(f"{reason}: only Ansible reads this; {ANSIBLE_INVENTORY} -i {shown} {problem}")
    if process.returncode != 0:
        raise NeedsAnsibleError(
            f"{reason}: only Ansible reads this; {ANSIBLE_INVENTORY} -i {shown} failed (exit {process.returncode}): "
            f"{first_error_line(stderr.decode('utf-8', 'replace'))}"
        )
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise NeedsAnsibleError(
            f"{reason}: only Ansible reads this; {ANSIBLE_INVENTORY} -i {shown} printed no valid JSON "
            f"({getattr(exc, 'msg', exc)})"
        ) from None
