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

import sys

__version__ = "0.1.0"


def _not_rewritten_by_pytest() -> None:
    """Take this package off pytest's list of plugin modules whose assertions it rewrites on import.

    pytest rewrites every module of a pytest11 plugin's distribution, and keeps the result only where it
    may write bytecode: with ``PYTHONDONTWRITEBYTECODE`` (most CI containers) or a venv the user cannot
    write to (installed by root, run by an operator), every process re-parses and recompiles each of the
    plugin's modules at every run, about a second of CPU per process. The plugin asserts nothing a
    report needs (the checks say their results through their verdict, and the checks' own files are
    still rewritten as test files). Runs when pytest imports the plugin; a no-op anywhere else.

    >>> _not_rewritten_by_pytest()  # not under pytest's import hook here: nothing to do
    """
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)  # pytest's AssertionRewritingHook
        if isinstance(marked, set):
            marked.discard(__name__)


_not_rewritten_by_pytest()
