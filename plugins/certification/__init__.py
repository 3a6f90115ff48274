"""Hardware certification: can a server model and its boot configuration carry kernel-mode vRouter with hugepages?

* :mod:`~plugins.certification.findings` -- every finding judged from facts and records (pure);
* :mod:`~plugins.certification.cycles` -- ``cert_cycles`` destructive cycles with the remediation engine;
* :mod:`~plugins.certification.fixtures` -- the checks' inputs (the trial bound to each NUMA node);
* :mod:`~plugins.certification.certificate` -- the certificate built from the checks' records, and its writer;
* :mod:`~plugins.certification.plugin` -- ``-m certification``, ``--certificate-dir``, the certificates at the end.

The checks themselves are ``checks/test_certification.py``.
"""
