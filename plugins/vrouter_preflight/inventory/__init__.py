"""The inventory: which computes to check and how to reach each one.

Loaded from YAML by :func:`load_inventory` (the documented example is
``inventory/example.yaml``). Validation is strict: a bad file stops the run
before any connection with one :class:`~vrouter_preflight.errors.InventoryError`
naming the file, the host and the key. Every key is declared once, on the
model's field that holds it (:mod:`vrouter_preflight.keys.spec`): the loader,
the suggestions, the transports a key applies to and the README's key table
all come from there.

* :mod:`.host`: :class:`HostSpec`, one host, every host key declared on it;
* :mod:`.hops`, :mod:`.boot`, :mod:`.operations`: the values of the ssh keys,
  the ``expect:`` block, the ``trial:`` and ``remediation:`` blocks
  (``vrouter:`` is the demand model's :class:`~vrouter_preflight.demand.VrouterOverrides`);
* :mod:`.local_paths`: paths on this machine, resolved and looked at;
* :mod:`.yaml_file`: reading the file, bounded; :mod:`.formats`: what ``--inventory``
  names (the suite's own file, an Ansible inventory, a TF ``instances.yaml``);
* :mod:`.sections`: each section and key checked, :func:`host_spec_from_mapping`;
  :mod:`.operator_hosts`: an operator's hosts with the suite's settings on top;
  :mod:`.selection`: ``--limit`` and ``--hosts``; :mod:`.load`: the loader;
* :mod:`.key_table`: the README's key table.

Rules an operator can rely on:

* ``defaults`` apply to every host; a key in a host entry replaces the default
  (lists such as ``jump`` and ``groups`` are replaced, not merged; ``jump: []``
  turns off a default bastion for one host). The mappings ``vrouter`` and
  ``expect`` are replaced WHOLE too: a host's ``vrouter: {flow_entries: ...}``
  drops the default's ``vrouter.release``, so repeat what still applies.
* A host entry left empty (``compute-0:``) means "all defaults".
* A key written with no value (``port:``) is an error, never "unset".
* ``address`` and ``path`` name one machine, so they are per host only (never in
  ``defaults`` or a ``groups`` entry).
* A key written in a host entry must apply to that host's transport
  (``port`` on a snapshot host is an error); defaults apply only where they make
  sense.
* Relative paths are relative to the inventory file's directory; ``~`` is
  expanded.
* Every number has a plausible range (in the README's key table); a value
  outside it is an error naming the file, the host, the key, the value and the range.
* A host is marked for hardware certification by ``certify: true`` (in its
  entry or in ``defaults``) or by being in a group listed in the top-level
  ``certify_groups``; its own ``certify: false`` wins over both. A
  ``certify_groups`` entry that no host belongs to is an error.

>>> HostSpec(name="compute-0", address="192.0.2.10").display_address
'192.0.2.10'
"""

from __future__ import annotations

from vrouter_preflight.demand import Deployment, HugepageMode, VrouterOverrides
from vrouter_preflight.inventory.boot import BootExpectation, ExpectedPool
from vrouter_preflight.inventory.hops import JumpHost, parse_jump
from vrouter_preflight.inventory.host import (
    HOST_NAME_RE,
    BecomeMethod,
    HostKeyPolicy,
    HostSpec,
    Inventory,
    VrouterMode,
)
from vrouter_preflight.inventory.load import HOST_KEYS, host_spec_from_mapping, load_inventory
from vrouter_preflight.inventory.operations import RemediationSteps, TrialPlan
from vrouter_preflight.keys.checks import ENV_NAME_RE
from vrouter_preflight.keys.spec import TransportName

__all__ = [
    "ENV_NAME_RE",
    "HOST_KEYS",
    "HOST_NAME_RE",
    "BecomeMethod",
    "BootExpectation",
    "Deployment",
    "ExpectedPool",
    "HostKeyPolicy",
    "HostSpec",
    "HugepageMode",
    "Inventory",
    "JumpHost",
    "RemediationSteps",
    "TransportName",
    "TrialPlan",
    "VrouterMode",
    "VrouterOverrides",
    "host_spec_from_mapping",
    "load_inventory",
    "parse_jump",
]
