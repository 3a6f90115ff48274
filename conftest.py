"""Registers the vrouter-preflight engine with pytest: the checks' inputs, the wiring, the destructive stage."""

pytest_plugins = ("plugins.check_inputs", "plugins.pytest_plugin", "plugins.destructive_stage")
