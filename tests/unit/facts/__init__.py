"""Unit tests of the pure fact parsers in plugins/facts, run on the captured corpus."""
