"""Hardware certification: can a server model and its boot configuration carry kernel-mode vRouter with hugepages?

* :mod:`~vrouter_preflight.certification.findings` -- every finding judged from facts and records (pure);
* :mod:`~vrouter_preflight.certification.cycles` -- ``cert_cycles`` destructive cycles with the remediation engine;
* :mod:`~vrouter_preflight.certification.fixtures` -- the checks' inputs (the trial bound to each NUMA node);
* :mod:`~vrouter_preflight.certification.certificate` -- the certificate built from the checks' records; its writer;
* :mod:`~vrouter_preflight.certification.plugin` -- ``-m certification``, ``--certificate-dir``, certificates.

The checks themselves are ``checks/test_certification.py``.
"""
