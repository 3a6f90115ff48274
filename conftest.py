"""Registers the vrouter-preflight engine with pytest: the wiring and the checks' inputs."""

pytest_plugins = ("plugins.check_inputs", "plugins.pytest_plugin")
