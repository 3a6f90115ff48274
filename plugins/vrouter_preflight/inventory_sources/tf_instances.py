"""Tungsten Fabric's ``instances.yaml`` (tf-ansible-deployer / contrail-ansible-deployer).

Read as the deployer builds its ``container_hosts``
(``playbooks/roles/contrail_deployer/tasks/create_container_host_group.yml``):

* a host is an instance with a ``vrouter`` role; an instance without a
  ``roles`` key gets every role, vrouter included (the deployer's
  ``config/instances.yaml.full_example``: "If roles is not defined, all below
  roles will be created"); ``roles:`` left empty means none;
* its address is ``ip``; the login is the instance's own ``ssh_user`` /
  ``ssh_pwd`` / ``ssh_private_key``, else ``provider_config.<provider>``'s;
* ``ssh_pwd`` becomes ``ansible_password`` as a
  :class:`~vrouter_preflight.inventory_sources.hidden.Secret` (never shown);
* the deployer runs everything with ``become``: kept as ``ansible_become``
  unless the login user is ``root`` (root needs no sudo);
* ``AGENT_MODE: dpdk`` on the vrouter role (else in
  ``contrail_configuration``) marks the host as a DPDK vRouter: the
  kernel-table checks do not apply to it.

Each role becomes a group (``vrouter``, ``openstack_compute``, ...), so
``--limit openstack_compute`` works. The vrouter role's own settings are in the
host variable ``tf_vrouter``; its role names in ``tf_roles``.
"""

from __future__ import annotations

from collections.abc import Mapping

from vrouter_preflight.inventory_sources.errors import SourceError
from vrouter_preflight.inventory_sources.graph import InventoryBuilder, build_inventory
from vrouter_preflight.inventory_sources.hidden import Secret
from vrouter_preflight.inventory_sources.model import OperatorInventory, VrouterMode

VROUTER_ROLE = "vrouter"
_LOGIN_KEYS = {"ssh_user": "ansible_user", "ssh_private_key": "ansible_ssh_private_key_file"}


def looks_like_tf_instances(data: object) -> bool:
    """Whether a parsed YAML document is an ``instances.yaml`` rather than an Ansible inventory.

    >>> looks_like_tf_instances({"provider_config": {"bms": {}}, "instances": {"c1": {"ip": "192.0.2.1"}}})
    True
    >>> looks_like_tf_instances({"instances": {"hosts": {"c1": None}}})
    False
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("instances"), Mapping):
        return False
    if "provider_config" in data:
        return True
    return any(
        isinstance(entry, Mapping) and ({"provider", "ip", "roles"} & set(entry))
        for entry in data["instances"].values()
    )


def _mapping(value: object, what: str, shown: str) -> Mapping[object, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SourceError(f"{shown}: {what} must be a mapping, got a {type(value).__name__}")
    return value


def _roles(entry: Mapping[object, object]) -> tuple[Mapping[object, object] | None, bool]:
    """The instance's roles (``None`` for "all roles") and whether it is a vRouter."""
    if "roles" not in entry:
        return None, True
    roles = entry["roles"]
    if not isinstance(roles, Mapping):
        return {}, False
    return roles, VROUTER_ROLE in roles


def _agent_mode(vrouter: object, default: object) -> VrouterMode:
    mode = vrouter.get("AGENT_MODE") if isinstance(vrouter, Mapping) else None
    mode = default if mode is None else mode
    return "dpdk" if str(mode).strip().lower() == "dpdk" else "kernel"


def _login(entry: Mapping[object, object], provider: Mapping[object, object]) -> dict[str, object]:
    """Connection variables from the instance, falling back to its provider's settings."""
    found: dict[str, object] = {}
    for key, variable in (*_LOGIN_KEYS.items(), ("ssh_pwd", "ansible_password")):
        value = entry.get(key)
        if value is None:
            value = provider.get(key)
        if value is None:
            continue
        found[variable] = Secret(str(value)) if key == "ssh_pwd" else value
    if found.get("ansible_user") != "root":
        found["ansible_become"] = True
    return found


def read_tf_instances(data: object, shown: str) -> OperatorInventory:
    """The vRouter hosts of an ``instances.yaml``, as the neutral model.

    >>> inv = read_tf_instances({
    ...     "provider_config": {"bms": {"ssh_user": "root", "ssh_pwd": "c0ntrail123"}},
    ...     "instances": {
    ...         "ctl": {"provider": "bms", "ip": "192.0.2.2", "roles": {"control": None}},
    ...         "kvm1": {"provider": "bms", "ip": "192.0.2.3", "roles": {"vrouter": {"AGENT_MODE": "dpdk"}}}}},
    ...     "instances.yaml")
    >>> host = inv.hosts["kvm1"]
    >>> host.variables["ansible_host"], host.variables["ansible_password"], host.vrouter_mode
    ('192.0.2.3', '<hidden>', 'dpdk')
    >>> inv.host_names, inv.notes
    (('kvm1',), ("instances.yaml: instance 'ctl' has no vrouter role; not checked",))
    """
    if not isinstance(data, Mapping):
        raise SourceError(f"{shown}: expected a mapping with 'instances', got a {type(data).__name__}")
    instances = _mapping(data.get("instances"), "'instances'", shown)
    if not instances:
        raise SourceError(f"{shown}: 'instances' is missing or empty")
    providers = _mapping(data.get("provider_config"), "'provider_config'", shown)
    contrail = _mapping(data.get("contrail_configuration"), "'contrail_configuration'", shown)
    builder = InventoryBuilder(shown)
    modes: dict[str, VrouterMode] = {}
    problems: dict[str, list[str]] = {}
    for name, raw in instances.items():
        if not isinstance(name, str) or not name:
            raise SourceError(f"{shown}: instance name {name!r} must be a non-empty string")
        entry = _mapping(raw, f"instance {name!r}", shown)
        roles, is_vrouter = _roles(entry)
        if not is_vrouter:
            builder.notes.append(f"{shown}: instance {name!r} has no vrouter role; not checked")
            continue
        provider_name = str(entry.get("provider", "bms"))
        provider = _mapping(providers.get(provider_name), f"provider_config.{provider_name}", shown)
        role_names = [str(role) for role in roles] if roles is not None else []
        vrouter = roles.get(VROUTER_ROLE) if roles is not None else None
        builder.add_host(name, VROUTER_ROLE if roles is None else None)
        for role in role_names:
            builder.add_host(name, role)
        variables: dict[str, object] = {
            "tf_provider": provider_name,
            "tf_roles": role_names or ["all roles (no 'roles' key)"],
            "tf_vrouter": dict(vrouter) if isinstance(vrouter, Mapping) else {},
            **_login(entry, provider),
        }
        ip = entry.get("ip")
        if ip is None or str(ip).strip() == "":
            problems[name] = [f"instance has no 'ip' (provider {provider_name}); the suite needs a fixed address"]
        else:
            variables["ansible_host"] = str(ip)
        for key, value in variables.items():
            builder.set_host_var(name, key, value)
        modes[name] = _agent_mode(vrouter, contrail.get("AGENT_MODE"))
    if not modes:
        listed = ", ".join(map(str, list(instances)[:10]))
        raise SourceError(f"{shown}: no instance has a vrouter role (instances: {listed}); nothing to check")
    return build_inventory(
        builder,
        sources=[shown],
        source_format="tf-instances",
        vrouter_modes=modes,
        host_problems=problems,
    )
