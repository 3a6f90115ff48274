"""Quoting: every value survives a real POSIX shell unchanged."""

from __future__ import annotations

import subprocess

import pytest

from vrouter_preflight.shell import become_command, command_line, quote

TRICKY = [
    "plain",
    "two words",
    "it's",
    'say "hi"',
    "$(id -u)",
    "`id`",
    "a;b|c&d",
    "*",
    "~root",
    "-n",
    "",
    "é ü 中",
    "\n",
]


@pytest.mark.parametrize("value", TRICKY)
def test_quoted_value_reaches_the_program_unchanged(value: str) -> None:
    out = subprocess.run(["sh", "-c", "printf %s " + quote(value)], capture_output=True, text=True, check=True)
    assert out.stdout == value


def test_command_line_keeps_argument_boundaries() -> None:
    script = command_line("printf", "[%s]", "a b", "c")
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "[a b][c]"


def test_become_none_runs_the_script_through_sh() -> None:
    wrapped = become_command("echo $((1+2))", become="none", with_password=False)
    out = subprocess.run(["sh", "-c", wrapped], capture_output=True, text=True, check=True)
    assert out.stdout == "3\n"


def test_become_rejects_unknown_methods() -> None:
    with pytest.raises(ValueError, match="unknown become method"):
        become_command("true", become="doas", with_password=False)
