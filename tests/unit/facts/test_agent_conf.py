"""contrail-vrouter-agent.conf: sections, Boost-style comments, and the [RESTART] hugepage files.

No capture in the corpus: the samples follow what the deployers write
(tf-container-builder ``vrouter/agent/actions.sh``, the Juju charm, R4.1
packages with the commented sample file).
"""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.agent_conf import AgentConfEntry, AgentHugepageFile, parse_agent_conf
from vrouter_preflight.facts.errors import FactParseError

# R2011 agent container, TripleO with ContrailVrouterHugepages1GB: 2.
R2011_1G = """\
[CONTROL-NODE]
servers=192.0.2.21:5269 192.0.2.22:5269 192.0.2.23:5269

[DEFAULT]
collectors=192.0.2.21:8086 192.0.2.22:8086
log_file=/var/log/contrail/contrail-vrouter-agent.log
log_level=SYS_NOTICE
log_local=1
hostname=overcloud-novacompute-0.localdomain
agent_name=overcloud-novacompute-0.localdomain
xmpp_dns_auth_enable=False
xmpp_auth_enable=False
physical_interface_mac = 52:54:00:3a:1b:7e
tsn_servers = []

[SANDESH]
introspect_ssl_enable=False
sandesh_ssl_enable=False

[NETWORKS]
control_network_ip=192.0.2.31

[VIRTUAL-HOST-INTERFACE]
name=vhost0
ip=192.0.2.31/24
compute_node_address=192.0.2.31
physical_interface=ens3f0
gateway=192.0.2.1

[SERVICE-INSTANCE]
netns_command=/usr/bin/opencontrail-vrouter-netns
docker_command=/usr/bin/opencontrail-vrouter-docker

[HYPERVISOR]
type = kvm

[FLOWS]
fabric_snat_hash_table_size = 4096

[RESTART]
huge_page_1G=/dev/hugepages/bridge /dev/hugepages/flow
"""

# Juju charm, 2M pages only (kernel-hugepages-2m: '1024').
R2005_2M = """\
###############################################################################
# [ WARNING ]
# Configuration file maintained by Juju. Local changes may be overwritten.
###############################################################################

[DEFAULT]
platform = default
log_file = /var/log/contrail/contrail-vrouter-agent.log

[RESTART]
huge_page_2M=/dev/hugepages2M/bridge /dev/hugepages2M/flow
"""

# R4.1 package: the sample file, hugepage keys commented out; ';' comments too.
R41_NONE = """\
#
# Vnswad configuration options
#

[CONTROL-NODE]
# IP address to be used to connect to control-node. Maximum of 2 IP addresses
# (separated by a space) can be provided. If no IP is configured then the
# value provided by discovery service will be used. (optional)
servers=10.0.0.10:5269

[DEFAULT]
; agent_name=vrouter-agent
headless_mode=true

[RESTART]
# Enable/Disable backup of config and resource files
backup_enable=true
# Huge pages, mounted at the same path as below
# huge_page_1G=<1G hugepage file1> <1G hugepage file2>
# huge_page_2M=<2M hugepage file1> <2M hugepage file2>
"""


def test_r2011_sections_keys_and_values_with_spaces() -> None:
    conf = parse_agent_conf(R2011_1G)
    assert list(conf.sections) == [
        "CONTROL-NODE",
        "DEFAULT",
        "SANDESH",
        "NETWORKS",
        "VIRTUAL-HOST-INTERFACE",
        "SERVICE-INSTANCE",
        "HYPERVISOR",
        "FLOWS",
        "RESTART",
    ]
    assert conf.get("CONTROL-NODE", "servers") == "192.0.2.21:5269 192.0.2.22:5269 192.0.2.23:5269"
    assert conf.get("VIRTUAL-HOST-INTERFACE", "physical_interface") == "ens3f0"
    assert conf.get("DEFAULT", "physical_interface_mac") == "52:54:00:3a:1b:7e"
    assert conf.get("HYPERVISOR", "type") == "kvm"
    assert conf.get("DEFAULT", "tsn_servers") == "[]"
    assert conf.get("DEFAULT", "platform") is None
    assert conf.get("NOPE", "servers") is None
    assert conf.source == "/etc/contrail/contrail-vrouter-agent.conf"


def test_r2011_1g_files() -> None:
    conf = parse_agent_conf(R2011_1G)
    assert conf.hugepage_files() == (
        AgentHugepageFile(1048576, "/dev/hugepages/bridge", "bridge"),
        AgentHugepageFile(1048576, "/dev/hugepages/flow", "flow"),
    )
    assert conf.configured_hugepage_size_kib() == 1048576


def test_r2005_2m_files_and_juju_banner_comments() -> None:
    conf = parse_agent_conf(R2005_2M)
    assert conf.hugepage_files() == (
        AgentHugepageFile(2048, "/dev/hugepages2M/bridge", "bridge"),
        AgentHugepageFile(2048, "/dev/hugepages2M/flow", "flow"),
    )
    assert conf.configured_hugepage_size_kib() == 2048
    assert conf.get("DEFAULT", "platform") == "default"


def test_r41_commented_hugepages_mean_no_hugepage_mode() -> None:
    conf = parse_agent_conf(R41_NONE, "captured/agent.conf")
    assert conf.hugepage_files() == ()
    assert conf.configured_hugepage_size_kib() is None
    assert conf.get("DEFAULT", "agent_name") is None  # ';' line
    assert conf.get("RESTART", "backup_enable") == "true"
    assert conf.source == "captured/agent.conf"


def test_both_sizes_1g_wins_and_all_four_files_are_listed() -> None:
    conf = parse_agent_conf(
        "[RESTART]\n"
        "huge_page_2M=/dev/hugepages2M/bridge /dev/hugepages2M/flow\n"
        "huge_page_1G=/dev/hugepages1G/bridge /dev/hugepages1G/flow\n"
    )
    assert [(f.size_kib, f.table) for f in conf.hugepage_files()] == [
        (1048576, "bridge"),
        (1048576, "flow"),
        (2048, "bridge"),
        (2048, "flow"),
    ]
    assert conf.configured_hugepage_size_kib() == 1048576


def test_only_a_bridge_file() -> None:
    conf = parse_agent_conf("[RESTART]\nhuge_page_1G=/dev/hugepages1G/bridge\n")
    assert conf.hugepage_files() == (AgentHugepageFile(1048576, "/dev/hugepages1G/bridge", "bridge"),)
    assert conf.configured_hugepage_size_kib() == 1048576


def test_empty_value_is_no_file_and_falls_through_to_2m() -> None:
    conf = parse_agent_conf("[RESTART]\nhuge_page_1G=\nhuge_page_2M = /dev/hugepages/bridge /dev/hugepages/flow\n")
    assert conf.get("RESTART", "huge_page_1G") == ""
    assert [f.size_kib for f in conf.hugepage_files()] == [2048, 2048]
    assert conf.configured_hugepage_size_kib() == 2048


def test_double_space_leaves_the_flow_slot_empty_as_in_the_agent() -> None:
    # boost::split(is_any_of(" ")) keeps the empty token: "b", "", "f".
    conf = parse_agent_conf("[RESTART]\nhuge_page_1G=/h/bridge  /h/flow\n")
    assert conf.hugepage_files() == (
        AgentHugepageFile(1048576, "/h/bridge", "bridge"),
        AgentHugepageFile(1048576, "/h/flow", None),
    )


def test_third_path_is_ignored_by_the_agent() -> None:
    files = parse_agent_conf("[RESTART]\nhuge_page_2M=/h/bridge /h/flow /h/extra\n").hugepage_files()
    assert [f.table for f in files] == ["bridge", "flow", None]


def test_repeated_key_lines_are_one_path_each() -> None:
    conf = parse_agent_conf("[RESTART]\nhuge_page_1G=/h/bridge\nhuge_page_1G=/h/flow\n")
    assert conf.values("RESTART", "huge_page_1G") == ("/h/bridge", "/h/flow")
    assert conf.get("RESTART", "huge_page_1G") == "/h/flow"
    assert [(f.path, f.table) for f in conf.hugepage_files()] == [("/h/bridge", "bridge"), ("/h/flow", "flow")]


def test_hugepage_keys_outside_restart_or_in_lower_case_do_nothing() -> None:
    conf = parse_agent_conf("[DEFAULT]\nhuge_page_1G=/h/bridge /h/flow\n[restart]\nhuge_page_1G=/h/bridge\n")
    assert conf.hugepage_files() == ()
    assert conf.configured_hugepage_size_kib() is None
    assert conf.get("restart", "huge_page_1G") == "/h/bridge"


def test_inline_hash_comment_tabs_crlf_and_repeated_section() -> None:
    conf = parse_agent_conf(
        "[DEFAULT]\r\n\tlog_level = SYS_DEBUG   # was SYS_NOTICE\r\n"
        "  [RESTART]  # hugepages\r\n"
        "huge_page_1G=/dev/hugepages1G/bridge /dev/hugepages1G/flow\t\r\n"
        "[DEFAULT]\r\nlog_local=0 ; not a comment\r\n"
    )
    assert conf.get("DEFAULT", "log_level") == "SYS_DEBUG"
    assert conf.get("DEFAULT", "log_local") == "0 ; not a comment"
    assert conf.values("RESTART", "huge_page_1G") == ("/dev/hugepages1G/bridge /dev/hugepages1G/flow",)
    assert dict(conf.sections["DEFAULT"]) == {"log_level": "SYS_DEBUG", "log_local": "0 ; not a comment"}


def test_value_may_contain_equals_and_keys_before_a_section_go_to_the_empty_section() -> None:
    conf = parse_agent_conf("stray=1\n[METADATA]\nmetadata_proxy_secret=a=b==\n")
    assert conf.get("", "stray") == "1"
    assert conf.get("METADATA", "metadata_proxy_secret") == "a=b=="


def test_entries_keep_line_numbers() -> None:
    conf = parse_agent_conf("# c\n[RESTART]\n\nhuge_page_2M=/h/bridge\n")
    assert conf.entries == (AgentConfEntry("RESTART", "huge_page_2M", "/h/bridge", 4),)


def test_empty_file_and_only_comments() -> None:
    for text in ("", "\n\n", "# nothing\n; still nothing\n"):
        conf = parse_agent_conf(text)
        assert conf.sections == {}
        assert conf.configured_hugepage_size_kib() is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("log_local", "expected [SECTION] or key=value"),
        ("[RESTART", "expected [SECTION] or key=value"),
        ("RESTART]", "expected [SECTION] or key=value"),
        ("[]", "empty section name"),
        ("[  ]", "empty section name"),
        ("= /dev/hugepages/flow", "empty key before '='"),
    ],
)
def test_malformed_lines_name_source_and_line(line: str, reason: str) -> None:
    text = f"[DEFAULT]\nlog_level=SYS_NOTICE\n{line}\n"
    with pytest.raises(FactParseError) as info:
        parse_agent_conf(text, "compute-0/contrail-vrouter-agent.conf")
    error = info.value
    assert (error.source, error.line_no, error.reason, error.line) == (
        "compute-0/contrail-vrouter-agent.conf",
        3,
        reason,
        line,
    )
    assert str(error).startswith("compute-0/contrail-vrouter-agent.conf line 3: ")


def test_section_and_key_on_one_line_is_a_key_in_the_current_section() -> None:
    # Boost reads "[RESTART] huge_page_1G" as a key of the section above; so does this parser.
    conf = parse_agent_conf("[DEFAULT]\n[RESTART] huge_page_1G=/h/bridge /h/flow\n")
    assert conf.get("DEFAULT", "[RESTART] huge_page_1G") == "/h/bridge /h/flow"
    assert conf.hugepage_files() == ()
