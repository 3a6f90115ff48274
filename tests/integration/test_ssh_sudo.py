"""become: sudo as non-root users over real SSH; the sudo password never leaks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.conftest import SUDO_PASSWORD_ENV, SUDO_TEST_PASSWORD, SpecFactory
from tests.secret_leaks import assert_secret_absent, capture_all_logs
from vrouter_preflight.capture import FACT_SOURCES
from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.ssh import SshTransport

OpenSsh = Callable[[HostSpec], SshTransport]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything, paramiko's debug output included."""
    return capture_all_logs(caplog)


@pytest.mark.timeout(60)
def test_nopasswd_sudo(sudo_users: tuple[str, str], make_spec: SpecFactory, open_ssh: OpenSsh) -> None:
    user, _ = sudo_users
    transport = open_ssh(make_spec(user=user, become="sudo"))
    assert transport.run("id -un").stdout == f"{user}\n"
    assert transport.run("id -u", privileged=True).stdout == "0\n"
    unprivileged = transport.run("cat /proc/pagetypeinfo")
    assert unprivileged.rc != 0  # 0400 root: needs sudo
    captures = transport.capture(FACT_SOURCES)
    assert captures["/proc/pagetypeinfo"].ok
    assert "Page block order" in captures["/proc/pagetypeinfo"].text
    assert transport.connections_opened == 1


@pytest.mark.timeout(60)
def test_password_sudo(
    sudo_users: tuple[str, str],
    make_spec: SpecFactory,
    open_ssh: OpenSsh,
    sudo_password_env: str,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    _, user = sudo_users
    transport = open_ssh(make_spec(user=user, become="sudo", sudo_password_env=sudo_password_env))
    result = transport.run("id -u; cat /proc/pagetypeinfo | head -1", privileged=True)
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith("0\nPage block order")
    captures = transport.capture(FACT_SOURCES)
    assert captures["/proc/pagetypeinfo"].ok
    # Not privileged: no sudo, no password sent.
    assert transport.run("id -u").stdout != "0\n"
    assert_secret_absent(debug_logs, SUDO_TEST_PASSWORD, repr(result), repr(captures))


@pytest.mark.timeout(60)
def test_script_reading_stdin_does_not_see_the_password(
    sudo_users: tuple[str, str], make_spec: SpecFactory, open_ssh: OpenSsh, sudo_password_env: str
) -> None:
    _, user = sudo_users
    transport = open_ssh(make_spec(user=user, become="sudo", sudo_password_env=sudo_password_env))
    result = transport.run("cat; echo end", privileged=True)
    assert result.stdout == "end\n"


@pytest.mark.timeout(60)
def test_password_sudo_without_env_var(
    sudo_users: tuple[str, str], make_spec: SpecFactory, open_ssh: OpenSsh, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, user = sudo_users
    monkeypatch.delenv(SUDO_PASSWORD_ENV, raising=False)
    transport = open_ssh(make_spec(user=user, become="sudo", sudo_password_env=SUDO_PASSWORD_ENV))
    with pytest.raises(HostError) as caught:
        transport.run("id -u", privileged=True)
    assert caught.value.cause.startswith("sudo_password_env names an environment variable that is not set")
    assert SUDO_PASSWORD_ENV not in str(caught.value)  # the transport's backstop never names the variable


@pytest.mark.timeout(60)
def test_password_sudo_without_sudo_password_env(
    sudo_users: tuple[str, str], make_spec: SpecFactory, open_ssh: OpenSsh
) -> None:
    _, user = sudo_users
    transport = open_ssh(make_spec(user=user, become="sudo"))
    with pytest.raises(HostError) as caught:
        transport.run("id -u", privileged=True)
    assert caught.value.cause.startswith("sudo requires a password; set sudo_password_env")


@pytest.mark.timeout(60)
def test_wrong_sudo_password(
    sudo_users: tuple[str, str],
    make_spec: SpecFactory,
    open_ssh: OpenSsh,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    _, user = sudo_users
    wrong = "Wr0ng-" + SUDO_TEST_PASSWORD[::-1]
    monkeypatch.setenv(SUDO_PASSWORD_ENV, wrong)
    transport = open_ssh(make_spec(user=user, become="sudo", sudo_password_env=SUDO_PASSWORD_ENV))
    with pytest.raises(HostError) as caught:
        transport.run("id -u", privileged=True)
    assert caught.value.cause == "sudo password rejected (from the variable sudo_password_env names)"
    assert wrong not in str(caught.value)
    assert wrong not in debug_logs.text
    assert_secret_absent(debug_logs, SUDO_TEST_PASSWORD, str(caught.value))


@pytest.mark.timeout(60)
def test_password_echoed_by_command_is_masked(
    sudo_users: tuple[str, str], make_spec: SpecFactory, open_ssh: OpenSsh, sudo_password_env: str
) -> None:
    _, user = sudo_users
    transport = open_ssh(make_spec(user=user, become="sudo", sudo_password_env=sudo_password_env))
    # A command whose output happens to contain the password (its text does not).
    half = len(SUDO_TEST_PASSWORD) // 2
    script = f"printf '%s%s\\n' {SUDO_TEST_PASSWORD[:half]} {SUDO_TEST_PASSWORD[half:]} >&2; echo out"
    result = transport.run(script, privileged=True)
    assert result.stderr == "********\n"
    assert SUDO_TEST_PASSWORD not in repr(result)
