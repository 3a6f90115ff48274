"""Host and user names that may stand for %h / %r in a local shell: OpenSSH 9.6's rules."""

from __future__ import annotations

import pytest

from vrouter_preflight.shell import MAX_HOST_NAME, unsafe_host_name, unsafe_user_name

GOOD_HOSTS = ("compute-0", "c0.region-1.example.com", "192.0.2.10", "fd00::1", "fe80::1%eth0", "under_score", "a" * 255)
GOOD_USERS = ("root", "heat-admin", "stack", "DOMAIN\\user", "first last", "user$", "a.b@realm")


@pytest.mark.parametrize("name", GOOD_HOSTS)
def test_ordinary_host_names_pass(name: str) -> None:
    assert unsafe_host_name(name) is None


@pytest.mark.parametrize("user", GOOD_USERS)
def test_ordinary_user_names_pass(user: str) -> None:
    assert unsafe_user_name(user) is None


@pytest.mark.parametrize("char", list("'`\"$\\;&<>|(){},"))
def test_every_host_metacharacter_is_refused(char: str) -> None:
    assert unsafe_host_name(f"c0{char}x") == f"it contains the shell metacharacter {char!r}"


@pytest.mark.parametrize("char", list("'`\";&<>|(){}"))
def test_every_user_metacharacter_is_refused(char: str) -> None:
    assert unsafe_user_name(f"u{char}x") == f"it contains the shell metacharacter {char!r}"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("-oProxyCommand=x", "it starts with '-'"),
        ("c0 x", "it contains whitespace or control characters"),
        ("c0\tx", "it contains whitespace or control characters"),
        ("c0\x00", "it contains whitespace or control characters"),
        ("a" * (MAX_HOST_NAME + 1), f"it is {MAX_HOST_NAME + 1} characters long (at most {MAX_HOST_NAME})"),
    ],
)
def test_other_unsafe_host_names(name: str, why: str) -> None:
    assert unsafe_host_name(name) == why


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ("-l", "it starts with '-'"),
        ("u -oX", "it has '-' after whitespace"),
        ("u\\", "it ends with a backslash"),
        ("u\nx", "it contains control characters"),
    ],
)
def test_other_unsafe_user_names(user: str, why: str) -> None:
    assert unsafe_user_name(user) == why
