"""Hardware certification: can a server model and its boot configuration carry kernel-mode vRouter with hugepages?

* :mod:`~vrouter_preflight.certification.findings` -- every finding judged from facts and records (pure);
* :mod:`~vrouter_preflight.certification.cycles` -- ``cert_cycles`` destructive cycles with the remediation engine;
* :mod:`~vrouter_preflight.certification.certificate` -- the certificate built from the checks' records; its writer;
The pytest side (selection, the finding inputs) is :mod:`vrouter_preflight.wiring.certification`, the
certificates at the end of a run :mod:`vrouter_preflight.reporting.certificates`.

The checks themselves are ``checks/test_certification.py``.
"""
