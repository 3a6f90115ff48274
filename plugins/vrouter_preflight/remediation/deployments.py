"""How to reload vRouter and ask whether it is healthy, per deployment; the inventory wins.

The destructive stage needs two commands and two numbers for each host: the
command that really reloads ``vrouter.ko`` (an agent restart alone keeps the
tables, domain notes §2.2, §5), the health command that succeeds once the
agent is up again (``contrail-status``, §5.1), how long to wait for it, and
where the agent writes its log (the failure signatures of §2.3 land there).

Documented defaults, from domain notes §5 (sources pinned there):

* ``supervisor`` -- R3.x / R4.x packages. The Mirantis MCP upgrade pipeline's
  ``KERNEL_MODULE_RELOAD``: stop supervisor-vrouter, ``rmmod vrouter``, sync,
  drop caches, compact, start again. Whether a plain ``supervisor-vrouter
  restart`` reloads the module depends on the install (§8), so it is not used.
  Log ``/var/log/contrail/contrail-vrouter-agent.log`` (supervisor's
  ``stdout_logfile``, stderr redirected, so the assertion text lands there).
* ``compose`` -- containers from tf-ansible-deployer (docker-compose project
  ``/etc/contrail/vrouter``). ``docker restart`` of the agent does NOT reload
  the module (SIGTERM is trapped); ``ifdown vhost0`` unloads it and ``ifup
  vhost0`` loads it again (``ifdown-vhost`` / ``load_vrouter``), so: stop the
  agent container, ifdown/ifup vhost0, start the agent container (which sends
  the hugepage configuration that allocates the tables, §2.2).
  Log ``/var/log/contrail/vrouter-agent/contrail-vrouter-agent.log`` (R2008+).
* ``rhosp`` -- RHOSP 16 / Train, podman + systemd. The TripleO update tasks:
  ``systemctl stop tripleo_contrail_vrouter_agent.service``, ``ifdown
  vhost0; ifup vhost0``, start the service again. Log under the host's
  ``/var/log/containers/contrail`` bind mount (R2008+ layout, derived).

Health: the agent row of ``contrail-status`` reads ``active`` -- ``contrail-
vrouter-agent  active`` on R3/R4 (supervisor rows), ``agent: active`` under
``== Contrail vrouter ==`` for containers (§5.1). The containers' status
also prints ``vrouter kernel module is PRESENT`` (from ``lsmod``), which the
container defaults require as well.

>>> from vrouter_preflight.inventory import VrouterOverrides
>>> ops = resolve_operations(VrouterOverrides(deployment="rhosp", health_timeout=120))
>>> ops.reload_command.startswith("systemctl stop tripleo_contrail_vrouter_agent.service"), ops.health_timeout
(True, 120.0)
>>> ops.source["health_timeout"], ops.source["reload_command"]
('inventory', 'default for rhosp')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vrouter_preflight.errors import PreflightError
from vrouter_preflight.inventory import Deployment, VrouterOverrides

DEFAULT_HEALTH_TIMEOUT = 300.0
"""Seconds to wait for the health command by default: module load, agent start, KSync and the first UVE."""

DEFAULT_RELOAD_TIMEOUT = 600.0
"""Wall-clock seconds the reload command itself may take before the stage gives up and rolls back."""

HEALTH_POLL_INTERVAL = 5.0
"""Seconds between two runs of the health command."""


@dataclass(frozen=True)
class DeploymentDefaults:
    """The documented commands of one deployment kind (domain notes §5).

    >>> DEPLOYMENTS["supervisor"].agent_log
    '/var/log/contrail/contrail-vrouter-agent.log'
    """

    name: Deployment
    description: str
    reload_command: str
    health_command: str
    agent_log: str
    health_timeout: float = DEFAULT_HEALTH_TIMEOUT


_CONTAINER_HEALTH = (
    "out=$(contrail-status 2>&1) || true; "
    "printf '%s\\n' \"$out\" | grep -q 'vrouter kernel module is PRESENT' && "
    "printf '%s\\n' \"$out\" | grep -Eq '^agent:[[:space:]]+active'"
)

DEPLOYMENTS: Mapping[str, DeploymentDefaults] = MappingProxyType(
    {
        "supervisor": DeploymentDefaults(
            name="supervisor",
            description="R3.x/R4.x packages under supervisor-vrouter",
            reload_command=(
                "service supervisor-vrouter stop; rmmod vrouter; sync; echo 3 > /proc/sys/vm/drop_caches; "
                "echo 1 > /proc/sys/vm/compact_memory; service supervisor-vrouter start"
            ),
            health_command="contrail-status | grep -Eq '^contrail-vrouter-agent[[:space:]]+active'",
            agent_log="/var/log/contrail/contrail-vrouter-agent.log",
        ),
        "compose": DeploymentDefaults(
            name="compose",
            description="containers from docker-compose (/etc/contrail/vrouter)",
            reload_command=(
                "docker stop vrouter_vrouter-agent_1; ifdown vhost0; "
                "ifup vhost0 && docker start vrouter_vrouter-agent_1"
            ),
            health_command=_CONTAINER_HEALTH,
            agent_log="/var/log/contrail/vrouter-agent/contrail-vrouter-agent.log",
        ),
        "rhosp": DeploymentDefaults(
            name="rhosp",
            description="RHOSP 16 (podman containers under systemd)",
            reload_command=(
                "systemctl stop tripleo_contrail_vrouter_agent.service; ifdown vhost0; ifup vhost0 && "
                "systemctl start tripleo_contrail_vrouter_agent.service"
            ),
            health_command=_CONTAINER_HEALTH,
            agent_log="/var/log/containers/contrail/vrouter-agent/contrail-vrouter-agent.log",
        ),
    }
)


class OperationsMissing(PreflightError):
    """The destructive stage cannot run: the inventory says neither the deployment nor the commands.

    >>> str(OperationsMissing("c0", ("vrouter.reload_command",)))  # doctest: +ELLIPSIS
    "c0: cannot reload vRouter: set 'vrouter.deployment' (supervisor, compose or rhosp) ... vrouter.reload_command"
    """

    def __init__(self, host: str, missing: tuple[str, ...]) -> None:
        self.host = host
        self.missing = missing
        super().__init__(
            f"{host}: cannot reload vRouter: set 'vrouter.deployment' (supervisor, compose or rhosp) "
            f"in the inventory, or give the commands yourself; missing: {', '.join(missing)}"
        )


@dataclass(frozen=True)
class VrouterOperations:
    """The commands and numbers the destructive stage uses on one host, and where each came from.

    ``agent_log`` is ``None`` when neither the inventory nor a deployment
    names one: the log scan is then skipped and the outcome says so.
    ``source`` maps each field to ``'inventory'`` or ``'default for <deployment>'``.

    >>> ops = resolve_operations(VrouterOverrides(reload_command="/opt/reload", health_command="true"))
    >>> ops.deployment, ops.health_timeout, ops.agent_log, ops.reload_timeout, ops.health_interval
    (None, 300.0, None, 600.0, 5.0)
    >>> resolve_operations(VrouterOverrides(deployment="compose", reload_timeout=900)).source["reload_timeout"]
    'inventory'
    """

    deployment: Deployment | None
    reload_command: str
    health_command: str
    health_timeout: float
    agent_log: str | None
    source: Mapping[str, str]
    reload_timeout: float = DEFAULT_RELOAD_TIMEOUT
    health_interval: float = HEALTH_POLL_INTERVAL

    def describe(self) -> str:
        """Lines for ``--plan``: each command with its source.

        >>> print(resolve_operations(VrouterOverrides(reload_command="r", health_command="h")).describe())
        reload:  r  (inventory)
        health:  h  (inventory; every 5s, up to 300s)
        agent log: none named (set vrouter.agent_log to scan it)
        """
        log = (
            f"{self.agent_log}  ({self.source['agent_log']})"
            if self.agent_log
            else ("none named (set vrouter.agent_log to scan it)")
        )
        return "\n".join(
            (
                f"reload:  {self.reload_command}  ({self.source['reload_command']})",
                f"health:  {self.health_command}  ({self.source['health_command']}; "
                f"every {self.health_interval:g}s, up to {self.health_timeout:g}s)",
                f"agent log: {log}",
            )
        )


def resolve_operations(vrouter: VrouterOverrides, host: str = "host") -> VrouterOperations:
    """The inventory's ``vrouter`` commands, completed from the deployment's documented defaults.

    Without a deployment, both ``reload_command`` and ``health_command`` must
    be given; otherwise :class:`OperationsMissing` names the keys to set.

    >>> resolve_operations(VrouterOverrides(reload_command="r"), "c0")
    Traceback (most recent call last):
    ...
    vrouter_preflight.remediation.deployments.OperationsMissing: c0: cannot reload vRouter: set 'vrouter.deployment' \
(supervisor, compose or rhosp) in the inventory, or give the commands yourself; missing: vrouter.health_command
    >>> resolve_operations(VrouterOverrides(deployment="compose", reload_command="r")).source["reload_command"]
    'inventory'
    """
    defaults = DEPLOYMENTS[vrouter.deployment] if vrouter.deployment is not None else None
    default_source = f"default for {vrouter.deployment}"
    source: dict[str, str] = {}

    def pick(key: str, given: str | float | None, fallback: str | float | None) -> str | float | None:
        if given is not None:
            source[key] = "inventory"
            return given
        source[key] = default_source if fallback is not None else "not set"
        return fallback

    reload_command = pick("reload_command", vrouter.reload_command, defaults.reload_command if defaults else None)
    health_command = pick("health_command", vrouter.health_command, defaults.health_command if defaults else None)
    missing = tuple(
        f"vrouter.{key}"
        for key, value in (("reload_command", reload_command), ("health_command", health_command))
        if value is None
    )
    if missing:
        raise OperationsMissing(host, missing)
    timeout = pick("health_timeout", vrouter.health_timeout, defaults.health_timeout if defaults else None)
    if timeout is None:
        source["health_timeout"] = "built-in default"
        timeout = DEFAULT_HEALTH_TIMEOUT
    agent_log = pick("agent_log", vrouter.agent_log, defaults.agent_log if defaults else None)
    reload_timeout = pick("reload_timeout", vrouter.reload_timeout, DEFAULT_RELOAD_TIMEOUT)
    health_interval = pick("health_interval", vrouter.health_interval, HEALTH_POLL_INTERVAL)
    for key in ("reload_timeout", "health_interval"):
        if source[key] != "inventory":
            source[key] = "built-in default"
    return VrouterOperations(
        deployment=vrouter.deployment,
        reload_command=str(reload_command),
        health_command=str(health_command),
        health_timeout=float(timeout),
        agent_log=None if agent_log is None else str(agent_log),
        source=MappingProxyType(source),
        reload_timeout=float(reload_timeout or DEFAULT_RELOAD_TIMEOUT),
        health_interval=float(health_interval or HEALTH_POLL_INTERVAL),
    )
