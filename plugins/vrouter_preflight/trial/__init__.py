"""Trial allocation: ask a compute's kernel, right now, for hugepage memory of the exact size of the
Flow and Bridge tables, see where it came from, and give it all back.

* ``remote_trial.py``: the helper that runs ON the host (Python 2.7 or 3.x, stdlib only);
* :mod:`vrouter_preflight.trial.runner`: the quoted command, the one ``transport.run``, reading the output;
* :mod:`vrouter_preflight.trial.report`: the helper's report as typed records, pool comparison;
* :mod:`vrouter_preflight.trial.judge`: the verdict message and the agent's hugetlbfs mount;
The check's inputs (cannot judge = ERROR) are :mod:`vrouter_preflight.wiring.trial_inputs`.
"""
