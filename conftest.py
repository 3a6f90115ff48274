"""The checkout's conftest: nothing to register (the installed entry point, vrouter_preflight.plugin, does it)."""
