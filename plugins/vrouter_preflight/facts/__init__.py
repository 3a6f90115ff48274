"""Pure, strict parsers for the kernel files the preflight reads.

One module per file format. Every parser takes the file's text (and the path
it came from, for error messages) and returns frozen, typed records; none of
them does I/O. A line that does not fit raises
:class:`vrouter_preflight.facts.errors.FactParseError` naming the file and line number.
A value the kernel did not print is ``None``, never ``0``.
"""
