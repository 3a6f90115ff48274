"""Issue 13 item 12: a ``*_env`` key naming an unset variable stops the run before any connection (exit 4),
and no message ever shows the key's value: an operator may have pasted the secret itself there.

The reproduction: ``sudo_password_env: Zq9Secret…`` (a secret that happens to look like a variable name) was
echoed as "names Zq9Secret…, which is not set", once per host, after connecting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sshd_rig import ClientKey, SshdServer, inventory_host
from tests.suite_runs import run_suite
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.inventory_sources.hidden import Secret
from vrouter_preflight.transport.become import unset_secret_variables

pytestmark = pytest.mark.timeout(120)

#: Secrets pasted where a variable NAME belongs; each looks like a name, so the inventory accepts it.
SUDO_SECRET = "Zq9SecretSudoPw41x"
PASSPHRASE_SECRET = "Zq9SecretKeyPass77"


def run(tmp_path: Path, hosts: dict[str, dict[str, object]], *extra: str) -> tuple[int, str, Path]:
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(json.dumps({"hosts": hosts}))
    summary = tmp_path / "summary.json"
    result = run_suite("--inventory", str(inventory), f"--summary-json={summary}", *extra)
    return result.returncode, result.stdout + result.stderr, summary


def test_unset_variables_stop_the_run_before_any_connection_and_are_never_echoed(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SUDO_SECRET, raising=False)
    monkeypatch.delenv(PASSPHRASE_SECRET, raising=False)
    connections_before = sshd.count("Connection from")
    hosts: dict[str, dict[str, object]] = {
        "fine": inventory_host(sshd, client_key, known_hosts),
        "sudo-pasted": inventory_host(sshd, client_key, known_hosts, become="sudo", sudo_password_env=SUDO_SECRET),
        "key-pasted": inventory_host(sshd, client_key, known_hosts, identity_passphrase_env=PASSPHRASE_SECRET),
        "local-pasted": {"transport": "local", "sudo_password_env": SUDO_SECRET},
    }

    rc, output, summary = run(tmp_path, hosts)

    assert rc == 4, output
    assert SUDO_SECRET not in output and PASSPHRASE_SECRET not in output
    assert not summary.exists(), "a run stopped before any connection writes no summary"
    assert "Traceback" not in output
    assert (
        "fleet.yaml: hosts 'sudo-pasted', 'local-pasted': sudo_password_env names an environment variable that "
        "is not set (its name is not shown: it may be a secret); export it before the run"
    ) in output
    assert "fleet.yaml: host 'key-pasted': identity_passphrase_env names an environment variable that" in output
    assert "'fine'" not in output
    assert sshd.count("Connection from") == connections_before, "a host was contacted before the refusal"


def test_only_the_selected_hosts_are_checked(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host --hosts leaves out is not this run's concern; the selected one runs as usual."""
    monkeypatch.delenv(SUDO_SECRET, raising=False)
    hosts = {
        "fine": inventory_host(sshd, client_key, known_hosts),
        "sudo-pasted": inventory_host(sshd, client_key, known_hosts, become="sudo", sudo_password_env=SUDO_SECRET),
    }
    connections_before = sshd.count("Connection from")
    rc, output, summary = run(tmp_path, hosts, "--hosts", "fine", "-k", "reachable")
    assert rc == 0, output
    assert sshd.count("Connection from") > connections_before, (
        "the log counts connections (the test above relies on it)"
    )
    assert SUDO_SECRET not in output + summary.read_text()


def test_a_set_variable_passes_and_the_password_is_never_shown(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The variable set: the run goes on; neither its name (the pasted secret) nor its value reaches any output."""
    monkeypatch.setenv(SUDO_SECRET, "the-value-Qx81")
    host = inventory_host(sshd, client_key, known_hosts, become="sudo", sudo_password_env=SUDO_SECRET)
    rc, output, summary = run(tmp_path, {"sudo-set": host}, "-k", "reachable or facts_parse")
    assert rc == 0, output
    text = output + summary.read_text()
    assert SUDO_SECRET not in text and "the-value-Qx81" not in text


def test_the_inventorys_own_become_password_wins_over_an_unset_variable() -> None:
    """Ansible's ``ansible_become_password`` is used before ``sudo_password_env``: its variable is never read."""
    given = HostSpec(name="c0", sudo_password=Secret("pw"), sudo_password_env="UNSET_BUT_UNUSED")
    assert unset_secret_variables([given], {}) == {}
    assert unset_secret_variables([HostSpec(name="c0", sudo_password_env="UNSET")], {}) == {"sudo_password_env": ["c0"]}
