"""vrouter-preflight: will a kernel-mode vRouter restart on these computes come back up?

An installable pytest plugin (entry point :mod:`vrouter_preflight.plugin`, command
:mod:`vrouter_preflight.cli`). Layers import only downwards, as ``make lint``
checks: parsers (``facts``, ``shell``, ``errors``) -> models (``inventory``,
``demand``, ``contiguity``, ``host_facts``, ``capture``, ``records`` ...) ->
engine (``transport``, ``gather``, ``fleet``, ``remediation``, ``rollout``,
``trial``, ``certification``) -> pytest wiring (``wiring``) -> ``reporting`` ->
the entry point -> the command. The checks (``vrouter_preflight.checks``, the
checkout's ``checks/``) use the wiring and the engine.

PYTEST_DONT_REWRITE: the plugin's own modules carry no test assertions.
"""

__version__ = "0.1.0"
