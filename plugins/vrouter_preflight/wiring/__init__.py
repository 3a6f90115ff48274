"""The pytest wiring: what turns the engine into checks pytest runs and reports.

Registered only by :mod:`vrouter_preflight.plugin` (the pytest11 entry point), and
only in a run that collects the suite's checks; a pytest run of anything else in
the same environment sees the options and nothing more.

* :mod:`~vrouter_preflight.wiring.options` -- every command-line option, declared once;
* :mod:`~vrouter_preflight.wiring.outputs` -- where output files go (one rule);
* :mod:`~vrouter_preflight.wiring.stash` -- the values kept on pytest's config;
* :mod:`~vrouter_preflight.wiring.items` -- what a collected check item says: host, node;
* :mod:`~vrouter_preflight.wiring.hosts` -- the one gather, host parametrisation, deselection, the ``host`` fixture;
* :mod:`~vrouter_preflight.wiring.check_inputs` -- the gate's inputs as fixtures (cannot judge = ERROR);
* :mod:`~vrouter_preflight.wiring.applicability` -- a check that does not apply is SKIPPED before its inputs;
* :mod:`~vrouter_preflight.wiring.verdict` -- how a check concludes, one message for every report;
* :mod:`~vrouter_preflight.wiring.allure_attach` -- titles, parameters, attachments and steps while a check runs;
* :mod:`~vrouter_preflight.wiring.report_records` -- a check record from pytest's test report;
* :mod:`~vrouter_preflight.wiring.not_run` -- live-only checks deselected on snapshot hosts;
* :mod:`~vrouter_preflight.wiring.destructive` -- the destructive stage's opt-in, rollout and journal replay;
* :mod:`~vrouter_preflight.wiring.trial_inputs` -- the trial allocation's inputs;
* :mod:`~vrouter_preflight.wiring.certification` -- ``-m certification``: selection and the finding inputs;
* :mod:`~vrouter_preflight.wiring.hookspecs` -- the hooks the wiring calls and the reporting layer implements.
"""
