"""The one registry of checks: each check's id, what it is run for, and the failure it raises.

The id strings are a contract: the JSON summary, JUnit's ``check`` property,
Allure's ``check_id`` label, the certificates and the board's actions all
carry them. A check is bound to its member explicitly
(``@check(CheckId.CONTIGUOUS_BLOCKS)``, :func:`vrouter_preflight.wiring.items.check`),
never through its function's name, so renaming a test cannot rename an id.

A check that fails raises its typed failure (:attr:`CheckId.failure`), a
subclass of pytest's ``Failed``: pytest reports it as a failure, and Allure's
message starts with the type (``vrouter_preflight.check_ids.ContiguousShortfall:
c0: …``), which is all the report's categories match on
(:mod:`vrouter_preflight.reporting.allure_report`) — never the words of the message.

>>> CheckId("contiguous_blocks") is CheckId.CONTIGUOUS_BLOCKS, CheckId.CONTIGUOUS_BLOCKS.failure.__name__
(True, 'ContiguousShortfall')
>>> CheckId.CERTIFY_TRIAL.finding, CheckId.CERTIFY_TRIAL.scope.value, CheckId.REACHABLE.finding
('trial', 'host × NUMA node', None)
"""

from __future__ import annotations

from enum import Enum

from _pytest.outcomes import Failed  # pytest.fail.Exception, importable as a base class


class Scope(Enum):
    """What one test of a check judges: a host, or one NUMA node of it."""

    HOST = "host"
    NUMA_NODE = "host × NUMA node"
    #: One test per host, or per NUMA node that the host's ``trial: {nodes: [...]}`` lists.
    TRIAL_NODES = "host (× NUMA node of trial.nodes)"


class CheckFailed(Failed):
    """A check's verdict is FAIL; the message says what is wrong, where, by how much and what to do.

    Raised with ``pytrace=False`` (:meth:`vrouter_preflight.wiring.verdict.Verdict.conclude`):
    pytest shows the message alone, with its type.

    >>> str(ContiguousShortfall("c0: 3 free order-10 blocks, 44 needed", pytrace=False))
    'c0: 3 free order-10 blocks, 44 needed'
    """


class FactsUnusable(CheckFailed):
    """The host's kernel files are missing or do not parse: nothing can be judged from them."""


class HugepageMisconfigured(CheckFailed):
    """Hugepages reserved, free or mounted differently from what vRouter is configured to use."""


class ContiguousShortfall(CheckFailed):
    """Too few free physically contiguous blocks for vRouter's tables: a reload would fail."""


class TrialRefused(CheckFailed):
    """The kernel did not give the trial's hugepages, or did not take them all back."""


class RemediationFailed(CheckFailed):
    """The destructive stage could not plan, prove or undo a healthy reload."""


class HardwareUnfit(CheckFailed):
    """The server's hardware lacks what kernel-mode vRouter with hugepages needs (1G pages, balanced NUMA)."""


#: Every typed failure, in the order the report's categories list them.
FAILURES: tuple[type[CheckFailed], ...] = (
    FactsUnusable,
    HugepageMisconfigured,
    ContiguousShortfall,
    TrialRefused,
    RemediationFailed,
    HardwareUnfit,
)

#: Certification checks are ``certify_<finding>``; their certificate names the finding alone.
CERTIFY_PREFIX = "certify_"


class CheckId(Enum):
    """Every check of the suite: its id (the value), its :class:`Scope` and its default typed failure."""

    REACHABLE = ("reachable", Scope.HOST, FactsUnusable)
    FACTS_PARSE = ("facts_parse", Scope.HOST, FactsUnusable)
    CMDLINE_HUGEPAGES = ("cmdline_hugepages", Scope.HOST, HugepageMisconfigured)
    HUGEPAGES_PER_NODE = ("hugepages_per_node", Scope.NUMA_NODE, HugepageMisconfigured)
    HUGEPAGE_BACKING = ("hugepage_backing", Scope.HOST, HugepageMisconfigured)
    CONTIGUOUS_BLOCKS = ("contiguous_blocks", Scope.HOST, ContiguousShortfall)
    TRIAL_ALLOCATION = ("trial_allocation", Scope.TRIAL_NODES, TrialRefused)
    REMEDIATION = ("remediation", Scope.HOST, RemediationFailed)
    CERTIFY_IDENTITY = ("certify_identity", Scope.HOST, FactsUnusable)
    CERTIFY_CPU_1G_PAGES = ("certify_cpu_1g_pages", Scope.HOST, HardwareUnfit)
    CERTIFY_NUMA_LAYOUT = ("certify_numa_layout", Scope.HOST, HardwareUnfit)
    CERTIFY_BOOT_HUGEPAGES = ("certify_boot_hugepages", Scope.HOST, HugepageMisconfigured)
    CERTIFY_TRIAL = ("certify_trial", Scope.NUMA_NODE, TrialRefused)
    CERTIFY_DESTRUCTIVE_CYCLES = ("certify_destructive_cycles", Scope.HOST, RemediationFailed)

    scope: Scope
    failure: type[CheckFailed]

    def __new__(cls, check_id: str, scope: Scope, failure: type[CheckFailed]) -> CheckId:
        member = object.__new__(cls)
        member._value_ = check_id
        member.scope = scope
        member.failure = failure
        return member

    @property
    def id(self) -> str:
        """The id string every report carries.

        >>> CheckId.HUGEPAGE_BACKING.id
        'hugepage_backing'
        """
        return str(self.value)

    @property
    def finding(self) -> str | None:
        """The certificate's name for a certification check's finding; None for other checks.

        >>> CheckId.CERTIFY_CPU_1G_PAGES.finding, CheckId.CONTIGUOUS_BLOCKS.finding
        ('cpu_1g_pages', None)
        """
        return self.id.removeprefix(CERTIFY_PREFIX) if self.id.startswith(CERTIFY_PREFIX) else None

    @classmethod
    def named(cls, text: object) -> CheckId | None:
        """The member whose id is ``text``, or None (an id of another suite version, a typo).

        >>> CheckId.named("remediation"), CheckId.named("vrouter_params")
        (<CheckId.REMEDIATION: 'remediation'>, None)
        """
        return next((member for member in cls if member.value == text), None)


#: The certification checks, in the order a certificate lists their findings.
CERTIFICATION_CHECKS: tuple[CheckId, ...] = tuple(member for member in CheckId if member.finding is not None)


def certification_check(finding: str) -> CheckId | None:
    """The certification check that records ``finding``, or None.

    >>> certification_check("trial"), certification_check("contiguous_blocks")
    (<CheckId.CERTIFY_TRIAL: 'certify_trial'>, None)
    """
    return next((member for member in CERTIFICATION_CHECKS if member.finding == finding), None)
