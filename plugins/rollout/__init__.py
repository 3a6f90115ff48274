"""Rolling a destructive change across the fleet, Ansible style.

- :mod:`plugins.rollout.batching`: pure rules (``serial`` batches, when a batch stops the rollout).
"""

from plugins.rollout.batching import (
    RolloutError,
    SerialSpec,
    SerialStep,
    batches,
    parse_serial,
    should_stop,
    stop_reason,
)

__all__ = ["RolloutError", "SerialSpec", "SerialStep", "batches", "parse_serial", "should_stop", "stop_reason"]
