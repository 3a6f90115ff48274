"""Unit tests of the pure fact parsers in plugins/vrouter_preflight/facts, run on the captured corpus."""
