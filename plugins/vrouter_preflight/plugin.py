"""The pytest11 entry point: registers the vrouter-preflight engine with pytest."""

pytest_plugins = (
    "vrouter_preflight.check_inputs",
    "vrouter_preflight.destructive_stage",
    "vrouter_preflight.pytest_plugin",
)
