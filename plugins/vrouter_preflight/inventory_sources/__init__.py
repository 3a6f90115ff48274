"""Operators' own inventories: Ansible (YAML, INI, directories, ``--list`` JSON) and TF ``instances.yaml``.

Where things happen:

* :mod:`.loading` -- :func:`read_operator_inventory`: which format a path is, then its reader
  (the only module here that touches the disk, with :mod:`.source_files`, :mod:`.vars_files`
  and :mod:`.ansible_cli`, which asks ``ansible-inventory`` for what only Ansible reads);
* :mod:`.ansible_yaml`, :mod:`.ansible_ini`, :mod:`.ansible_json`, :mod:`.tf_instances` -- one
  pure reader per format, into the builder of :mod:`.graph`, which merges variables with
  Ansible's precedence into the :mod:`.model`;
* :mod:`.connection` -- a host's Ansible connection variables mapped onto the suite's keys;
* :mod:`.patterns` -- Ansible host patterns (``--limit``) over any inventory with groups;
* :mod:`.hidden` -- the wrappers that keep passwords and variable values out of every message.
"""

from __future__ import annotations

from vrouter_preflight.inventory_sources.connection import ConnectionSettings, connection_settings
from vrouter_preflight.inventory_sources.errors import NeedsAnsibleError, PatternError, SourceError
from vrouter_preflight.inventory_sources.hidden import HostVars, Secret, VaultedValue
from vrouter_preflight.inventory_sources.loading import read_operator_inventory
from vrouter_preflight.inventory_sources.model import InventoryGroup, InventoryHost, OperatorInventory
from vrouter_preflight.inventory_sources.patterns import (
    PatternUniverse,
    select_hosts,
    universe_from_labels,
    universe_of,
)

__all__ = [
    "ConnectionSettings",
    "HostVars",
    "InventoryGroup",
    "InventoryHost",
    "NeedsAnsibleError",
    "OperatorInventory",
    "PatternError",
    "PatternUniverse",
    "Secret",
    "SourceError",
    "VaultedValue",
    "connection_settings",
    "read_operator_inventory",
    "select_hosts",
    "universe_from_labels",
    "universe_of",
]
