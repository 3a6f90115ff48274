"""Former home of the destructive stage, now split (forward, rollback, signal_guard, stage, replay).

Kept only so that ``reporting/allure_report.py``'s import of :class:`StepFigures` keeps working until it
imports ``vrouter_preflight.remediation.StepFigures``; then this module goes.

>>> StepFigures("release", {}).title
'release'
"""

from __future__ import annotations

from vrouter_preflight.remediation.outcome import StepFigures

__all__ = ["StepFigures"]
