"""vrouter-preflight engine: inventory, transports, fact parsing and reporting.

Dependencies point one way: ``checks/`` -> ``plugins/``; the parsers in
``plugins/vrouter_preflight/facts/`` import nothing that does I/O.
"""

__version__ = "0.1.0"
