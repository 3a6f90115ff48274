"""Inventory keys declared once: the value checks and the declaration a model field carries.

* :mod:`.checks`: what a value must be, with its range (:class:`~.checks.IntRange`,
  :func:`~.checks.seconds`, :class:`~.checks.Choice` …), and the :class:`~.checks.Invalid`
  error that says ``expected …, got …``; pure, no I/O;
* :mod:`.spec`: :func:`~.spec.key` on a dataclass field declares the key (check,
  transports, where it may be written, default, doc line); :func:`~.spec.key_specs`
  reads the declarations back for the loader and the README's key table.

Below the models (``inventory``, ``demand``) that declare their keys with them.

>>> from vrouter_preflight.keys.checks import IntRange
>>> IntRange(1, 65535).expected
'an integer from 1 to 65535'
"""
