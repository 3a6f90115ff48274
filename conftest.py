"""Registers the vrouter-preflight engine with pytest: the checks' inputs, the wiring, the destructive stage."""

pytest_plugins = ("plugins.check_inputs", "plugins.destructive_stage", "plugins.pytest_plugin")
