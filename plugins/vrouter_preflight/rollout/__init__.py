"""Rolling a destructive change across the fleet, Ansible style, shared by pytest-xdist workers.

- :mod:`vrouter_preflight.rollout.batching`: pure rules (``serial`` batches, when a batch stops the rollout).
- :mod:`vrouter_preflight.rollout.coordinator`: :class:`Rollout`, the cross-process coordinator.
- :mod:`vrouter_preflight.rollout.shared_state`: the locked, atomically written JSON state file.
"""

from vrouter_preflight.rollout.batching import (
    RolloutError,
    SerialSpec,
    SerialStep,
    batches,
    parse_serial,
    should_stop,
    stop_reason,
)
from vrouter_preflight.rollout.coordinator import Decision, Rollout, RolloutTimeout, new_run_id

__all__ = [
    "Decision",
    "Rollout",
    "RolloutError",
    "RolloutTimeout",
    "SerialSpec",
    "SerialStep",
    "batches",
    "new_run_id",
    "parse_serial",
    "should_stop",
    "stop_reason",
]
