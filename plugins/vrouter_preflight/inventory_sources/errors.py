"""What can go wrong reading an operator's inventory or selecting hosts from it.

Each is an :class:`~vrouter_preflight.errors.InventoryError`: the run stops
before any connection with one message naming the file (and line, group, host
or pattern) and the cause.
"""

from __future__ import annotations

from vrouter_preflight.errors import InventoryError


class SourceError(InventoryError):
    """An inventory source cannot be read: malformed, too big, or an unknown layout.

    >>> str(SourceError("hosts.ini: line 3: expected key=value, got 'x'"))
    "hosts.ini: line 3: expected key=value, got 'x'"
    """


class NeedsAnsibleError(SourceError):
    """Only Ansible can read this source (a script, a plugin config, a vault-encrypted file).

    Raised when ``ansible-inventory`` is not on PATH, or when it failed.

    >>> issubclass(NeedsAnsibleError, InventoryError)
    True
    """


class PatternError(InventoryError):
    """A host pattern (``--limit``) is malformed or selects no host: a usage error.

    >>> str(PatternError("--limit 'comptue': no group or host matches; did you mean 'compute'?"))
    "--limit 'comptue': no group or host matches; did you mean 'compute'?"
    """


class OnlyAnsibleCanRead(Exception):
    """Signal from a reader: this source needs Ansible itself (the loader then asks ``ansible-inventory``).

    Not an error an operator sees: the loader turns it into a call to
    ``ansible-inventory`` or into a :class:`NeedsAnsibleError` saying why.

    >>> str(OnlyAnsibleCanRead("it is an inventory plugin configuration (plugin: aws_ec2)"))
    'it is an inventory plugin configuration (plugin: aws_ec2)'
    """
