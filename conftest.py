"""Registers the vrouter-preflight engine with pytest (see plugins/pytest_plugin.py)."""

pytest_plugins = ("plugins.pytest_plugin",)
