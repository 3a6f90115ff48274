"""No value of an inventory's vars other than the connection variables is ever printed, and passwords never
(issue 14, "Bad input"): stdout, stderr, the JSON summary, JUnit, the metrics and every file of the Allure
results are searched for them.

A TripleO-like inventory (Wallaby's role group over a plan-prefixed child, YAML anchors, a ``group_vars/``
file beside it) whose group vars hold TripleO's kind of secrets and a site setting nobody asked the suite to
show, run against the test sshd on 127.0.0.1 with a compute that fails (it must keep more 1G pages free than
any node has) and one that errors (nobody listens on its port), with every output pytest has: ``-rA -vv``,
long tracebacks with their local variables, DEBUG logs (paramiko's included) in the report and in JUnit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sshd_rig import ClientKey, SshdServer
from tests.suite_runs import run_suite
from tests.summaries import load_summary
from vrouter_preflight.check_ids import CheckId

#: Passwords: the connection's own (sudo's), and TripleO's service passwords and keys in the group vars.
PASSWORDS = {
    "ansible_become_password": "Vrpf-Become-Q7x2Lk9Wm4",
    "AdminPassword": "Vrpf-Admin-Zt5Hc8Rn1Pd",
    "ceph_client_key": "QVFEVnJwZkNlcGhLZXk5OWFiY2RlZmc=",
    "vault_db_password": "Vrpf-Db-Jm3Ws6Yq0Ex",
}
#: A value that is not a connection variable and not a password: never shown either.
SITE_NOTE = "vrpf-site-note-5r8n2b4k"


def inventory_tree(root: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str) -> Path:
    """The TripleO-like tree and a suite file naming it (the failing host's 1G-page demand)."""
    tripleo = root / "tripleo"
    (tripleo / "group_vars").mkdir(parents=True)
    (tripleo / "tripleo-ansible-inventory.yaml").write_text(
        "overcloud:\n"
        "  vars: &overcloud_vars\n"
        "    ansible_ssh_user: root\n"
        f"    ansible_ssh_private_key_file: {client_key.private}\n"
        f"    ansible_ssh_common_args: '-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
        " -F /dev/null'\n"
        "    ansible_become: true\n"
        f"    ansible_become_password: {PASSWORDS['ansible_become_password']}\n"
        f"    AdminPassword: {PASSWORDS['AdminPassword']}\n"
        "    plan: overcloud\n"
        "  children:\n"
        "    overcloud_Compute: {}\n"
        "overcloud_Compute:\n"
        "  hosts:\n"
        f"    compute-fails: {{ansible_host: 127.0.0.1, ansible_port: {sshd.port}}}\n"
        "    compute-errors: {ansible_host: 127.0.0.1, ansible_port: 1}\n"
        "  vars:\n"
        "    <<: *overcloud_vars\n"
        f"    tripleo_site_note: {SITE_NOTE}\n"
        "Compute:\n"
        "  children:\n"
        "    overcloud_Compute: {}\n"
        "Undercloud:\n"
        "  hosts:\n"
        "    undercloud: {ansible_connection: local, ansible_host: localhost}\n"
    )
    (tripleo / "group_vars" / "Compute.yml").write_text(
        f"ceph_client_key: {PASSWORDS['ceph_client_key']}\n"
        f"vault_db_password: {PASSWORDS['vault_db_password']}\n"
        f"tripleo_site_note_too: '{SITE_NOTE}'\n"
    )
    suite = root / "preflight.yaml"
    suite.write_text(
        "ansible_inventory: tripleo/tripleo-ansible-inventory.yaml\n"
        "groups:\n"
        "  Compute:\n"
        "    connect_timeout: 5\n"
        "hosts:\n"
        "  compute-fails:\n"
        "    min_free_1g_per_node: 16384\n"
    )
    return suite


@pytest.fixture(params=["one-process", "xdist"])
def workers(request: pytest.FixtureRequest) -> list[str]:
    return ["-n", "2"] if request.param == "xdist" else []


def test_no_password_and_no_other_inventory_value_reaches_any_output(
    tmp_path: Path, sshd: SshdServer, client_key: ClientKey, known_hosts: str, workers: list[str]
) -> None:
    suite = inventory_tree(tmp_path, sshd, client_key, known_hosts)
    out = tmp_path / "out"
    summary, junit, allure, metrics = out / "summary.json", out / "junit.xml", out / "allure", out / "metrics.prom"
    result = run_suite(
        "--inventory", str(suite), "--limit", "Compute", *workers,
        f"--summary-json={summary}", f"--junitxml={junit}", f"--alluredir={allure}", f"--metrics={metrics}",
        "-rA", "-vv", "--tb=long", "--showlocals", "--log-level=DEBUG", "-o", "junit_logging=all",
    )  # fmt: skip
    output = result.stdout + result.stderr
    hosts = load_summary(summary)["hosts"]
    assert list(hosts) == ["compute-fails", "compute-errors"], output
    assert hosts["compute-fails"]["verdict"] == "fail", output
    assert {c["id"]: c["outcome"] for c in hosts["compute-fails"]["checks"]}[CheckId.REACHABLE.id] == "passed"
    assert hosts["compute-errors"]["verdict"] == "error" and "refused" in hosts["compute-errors"]["error"], output
    assert result.returncode == 1, output

    texts = {"stdout": result.stdout, "stderr": result.stderr}
    files = [summary, junit, metrics, *(path for path in allure.rglob("*") if path.is_file())]
    assert len(files) > 10, files  # the Allure results are there to search
    texts.update({str(path): path.read_text(encoding="utf-8", errors="replace") for path in files})
    for secret in [*PASSWORDS.values(), SITE_NOTE]:
        shown = [where for where, text in texts.items() if secret in text]
        assert not shown, f"{secret!r} is shown in {shown}"
    # Connection variables may be shown: the unreachable host's address and port are, so the search sees them.
    assert "127.0.0.1:1" in texts["stdout"] and "127.0.0.1:1" in texts[str(summary)]
