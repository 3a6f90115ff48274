"""The inventory loader: defaults, parsing, and one clear error per mistake."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.snapshot_trees import SOSREPORT_TREE, tar_tree
from tests.unit.inventory_files import load_error, write
from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import (
    BootExpectation,
    ExpectedPool,
    HostSpec,
    JumpHost,
    VrouterOverrides,
    load_inventory,
    parse_jump,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "inventories"


# --------------------------------------------------------------------------
# What loads
# --------------------------------------------------------------------------


def test_defaults_apply_and_host_values_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          user: heat-admin
          become: sudo
          command_timeout: 30
        hosts:
          compute-0:
            address: 192.0.2.10
            port: 2222
          compute-1:
            address: 192.0.2.11
            user: root
            become: none
        """,
    )
    inventory = load_inventory(path)
    assert inventory.path == str(path)
    assert [h.name for h in inventory.hosts] == ["compute-0", "compute-1"]
    c0, c1 = inventory.hosts
    assert (c0.user, c0.become, c0.port, c0.command_timeout) == ("heat-admin", "sudo", 2222, 30.0)
    assert (c1.user, c1.become, c1.port) == ("root", "none", None)
    assert isinstance(c0.command_timeout, float)
    assert c1.transport == "ssh"
    assert c1.host_key_policy is None  # not set: ssh_config's StrictHostKeyChecking, else strict (resolve_options)


def test_every_key_of_the_brief_loads(tmp_path: Path) -> None:
    (tmp_path / "captures" / "compute-7" / "proc").mkdir(parents=True)
    path = write(
        tmp_path,
        """
        defaults:
          user: heat-admin
          become: sudo
        hosts:
          overcloud-compute-0:
            transport: ssh
            address: 192.0.2.10
            port: 22
            identity_file: /keys/id_ed25519
            jump: stack@undercloud:22
            known_hosts: /keys/known_hosts
            host_key_policy: accept-new
            ssh_config: /keys/ssh_config
            connect_timeout: 10
            command_timeout: 60.5
            sudo_password_env: PREFLIGHT_SUDO_PASSWORD
            groups: [dpdk, rack-a]
          captured-node:
            transport: snapshot
            path: captures/compute-7
            page_size: 65536
        """,
    )
    c0, snap = load_inventory(path).hosts
    assert c0 == HostSpec(
        name="overcloud-compute-0",
        transport="ssh",
        address="192.0.2.10",
        port=22,
        user="heat-admin",
        identity_file="/keys/id_ed25519",
        jump=(JumpHost("undercloud", "stack", 22),),
        known_hosts="/keys/known_hosts",
        host_key_policy="accept-new",
        ssh_config="/keys/ssh_config",
        connect_timeout=10.0,
        command_timeout=60.5,
        become="sudo",
        sudo_password_env="PREFLIGHT_SUDO_PASSWORD",
        groups=("dpdk", "rack-a"),
    )
    assert snap.transport == "snapshot"
    assert snap.path == str(tmp_path / "captures" / "compute-7")
    assert snap.page_size == 65536


def test_empty_host_entry_means_all_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  user: stack\nhosts:\n  compute-0:\n  compute-1: {}\n")
    assert [(h.name, h.user, h.address) for h in load_inventory(path).hosts] == [
        ("compute-0", "stack", None),
        ("compute-1", "stack", None),
    ]


def test_yaml_anchors_and_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        hosts:
          compute-0: &rack-a
            user: heat-admin
            port: 2222
          compute-1:
            <<: *rack-a
            port: 22
        """,
    )
    c0, c1 = load_inventory(path).hosts
    assert (c0.user, c0.port, c1.user, c1.port) == ("heat-admin", 2222, "heat-admin", 22)


@pytest.mark.parametrize(
    ("jump", "expected"),
    [
        ("undercloud", (JumpHost("undercloud"),)),
        ("stack@undercloud", (JumpHost("undercloud", "stack"),)),
        ("stack@undercloud:2222", (JumpHost("undercloud", "stack", 2222),)),
        ("192.0.2.1:22", (JumpHost("192.0.2.1", None, 22),)),
        ("[2001:db8::1]:2200", (JumpHost("2001:db8::1", None, 2200),)),
        ("ops@[2001:db8::1]", (JumpHost("2001:db8::1", "ops"),)),
        ("2001:db8::1", (JumpHost("2001:db8::1"),)),
        ("a@bastion:22, stack@undercloud", (JumpHost("bastion", "a", 22), JumpHost("undercloud", "stack"))),
        (["a@bastion:22", "stack@undercloud"], (JumpHost("bastion", "a", 22), JumpHost("undercloud", "stack"))),
        ([], ()),
    ],
)
def test_jump_forms(tmp_path: Path, jump: object, expected: tuple[JumpHost, ...]) -> None:
    import yaml

    path = write(tmp_path, yaml.safe_dump({"hosts": {"compute-0": {"jump": jump}}}))
    assert load_inventory(path).hosts[0].jump == expected


def test_parse_jump_refuses_bad_hops() -> None:
    for bad in ("", "@h", "h:", "[::1", "[::1]x", "a b", "-J", "u@h:0"):
        with pytest.raises(ValueError, match=r"."):
            parse_jump(bad)
    assert parse_jump("stack@undercloud").display == "stack@undercloud"


def test_empty_jump_list_turns_off_a_default_bastion(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {jump: stack@undercloud}\nhosts:\n  c0:\n  c1: {jump: []}\n")
    c0, c1 = load_inventory(path).hosts
    assert c0.jump == (JumpHost("undercloud", "stack"),)
    assert c1.jump == ()


def test_tilde_is_expanded_in_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "caps" / "c7" / "proc").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    path = write(
        tmp_path,
        """
        defaults:
          identity_file: ~/.ssh/id_ed25519
          known_hosts: ~/.ssh/known_hosts
          ssh_config: ~/.ssh/config
        hosts:
          c0:
          c7: {transport: snapshot, path: ~/caps/c7}
        """,
    )
    c0, c7 = load_inventory(path).hosts
    assert c0.identity_file == str(home / ".ssh" / "id_ed25519")
    assert c0.known_hosts == str(home / ".ssh" / "known_hosts")
    assert c0.ssh_config == str(home / ".ssh" / "config")
    assert c7.path == str(home / "caps" / "c7")


def test_relative_paths_are_relative_to_the_inventory_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv_dir = tmp_path / "site"
    (inv_dir / "captures" / "compute-7").mkdir(parents=True)
    path = write(inv_dir, "hosts:\n  c7: {transport: snapshot, path: captures/compute-7}\n  c0: {identity_file: k}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    c7, c0 = load_inventory(os.path.relpath(path, elsewhere)).hosts
    assert c7.path == str(inv_dir / "captures" / "compute-7")
    assert c0.identity_file == str(inv_dir / "k")


def test_checked_in_fleet_example_loads() -> None:
    inventory = load_inventory(DATA / "fleet.yaml")
    names = [h.name for h in inventory.hosts]
    assert names == ["compute-0", "compute-1", "captured-7"]
    assert inventory.host("captured-7").path == str(DATA / "snapshots" / "compute-7")


# --------------------------------------------------------------------------
# --hosts
# --------------------------------------------------------------------------

THREE = "hosts:\n  compute-0:\n  compute-1:\n  compute-2:\n"


def test_only_hosts_keeps_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, THREE)
    assert [h.name for h in load_inventory(path, only_hosts=["compute-2", "compute-0"]).hosts] == [
        "compute-0",
        "compute-2",
    ]
    assert [h.name for h in load_inventory(path, only_hosts=["compute-1,compute-2"]).hosts] == [
        "compute-1",
        "compute-2",
    ]


def test_only_hosts_unknown_name_lists_known_names(tmp_path: Path) -> None:
    path = write(tmp_path, THREE)
    with pytest.raises(InventoryError) as info:
        load_inventory(path, only_hosts=["compute-0", "compute-9", "nope"])
    message = str(info.value)
    assert message.startswith(f"{path}: --hosts names unknown host 'compute-9' (did you mean 'compute-")
    assert "'nope'" in message
    assert message.endswith("known hosts: compute-0, compute-1, compute-2")


def test_only_hosts_selecting_nothing_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, THREE)
    with pytest.raises(InventoryError, match="selects no host"):
        load_inventory(path, only_hosts=[" , "])


# --------------------------------------------------------------------------
# Errors: each names the file, the host and the key
# --------------------------------------------------------------------------

BAD_VALUES = [
    # (key, yaml value, fragment of the message)
    ("port", "twenty-two", "expected an integer from 1 to 65535, got 'twenty-two'"),
    ("port", "true", "got true (a boolean)"),
    ("port", "0", "got 0"),
    ("port", "65536", "got 65536"),
    ("port", "22.0", "got 22.0"),
    ("port", "", "got nothing (null)"),
    ("transport", "telnet", "expected one of ssh, local, snapshot, got 'telnet'"),
    ("become", "su", "expected one of none, sudo, got 'su'"),
    ("become", "yes", "got true (a boolean)"),
    ("host_key_policy", "accept", "expected one of strict, accept-new, got 'accept'"),
    ("connect_timeout", "0", "expected a positive number of seconds, at most 600, got 0"),
    ("connect_timeout", "-5", "got -5"),
    ("command_timeout", "'60'", "got '60'"),
    ("command_timeout", ".inf", "got inf"),
    ("command_timeout", "false", "got false (a boolean)"),
    ("address", "-oProxyCommand=sh", "could be read as an option"),
    ("address", "'192.0.2.10 -p 2'", "whitespace"),
    ("address", "heat-admin@192.0.2.10", "put the user in the 'user' key"),
    ("address", "'[2001:db8::1]'", "without brackets"),
    ("address", "22", "a non-empty string"),
    ("user", "-lroot", "could be read as an option"),
    ("user", "'heat admin'", "whitespace"),
    ("identity_file", "[a, b]", "expected a file path, got a list"),
    ("jump", "'stack@undercloud:ssh'", "expected a port number"),
    ("jump", "'@undercloud'", "bad user"),
    ("jump", "'-oProxyCommand=x'", "could be read as an option"),
    ("jump", "'undercloud:70000'", "not from 1 to 65535"),
    ("jump", "{host: x}", "got a mapping"),
    ("jump", "[undercloud, 22]", "for each hop, got 22"),
    ("sudo_password_env", "'hunter2!'", "NAME of an environment variable"),
    ("sudo_password_env", "1PASSWORD", "not a variable name"),
    ("groups", "dpdk", "expected a list of group names, got 'dpdk'"),
    ("groups", "['a b']", "got 'a b'"),
    ("page_size", "2097152", "power of two from 4096 to 262144"),
    ("page_size", "4k", "got '4k'"),
]


@pytest.mark.parametrize(("key", "value", "fragment"), BAD_VALUES)
def test_bad_host_value(tmp_path: Path, key: str, value: str, fragment: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    {key}: {value}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-0': key {key!r}: "), message
    assert fragment in message


@pytest.mark.parametrize(("key", "value", "fragment"), [v for v in BAD_VALUES if v[0] != "address"])
def test_bad_default_value_is_named_defaults(tmp_path: Path, key: str, value: str, fragment: str) -> None:
    path = write(tmp_path, f"defaults:\n  {key}: {value}\nhosts:\n  compute-0:\n")
    message = load_error(path)
    assert message.startswith(f"{path}: defaults: key {key!r}: "), message
    assert fragment in message


def test_password_put_in_sudo_password_env_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0:\n    sudo_password_env: 'S3cret pass!'\n")
    message = load_error(path)
    assert "S3cret" not in message
    assert "key 'sudo_password_env'" in message


def test_unknown_host_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0:\n    prot: 22\n")
    assert load_error(path) == f"{path}: host 'compute-0': key 'prot': unknown key; did you mean 'port'?"


def test_unknown_key_without_a_close_match_lists_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  colour: blue\nhosts:\n  compute-0:\n")
    message = load_error(path)
    assert message.startswith(f"{path}: defaults: key 'colour': unknown key; known keys: transport, address, port")


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "host:\n  compute-0:\n")
    assert load_error(path) == f"{path}: key 'host': unknown top-level key; did you mean 'hosts'?"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the inventory is empty"),
        ("# only a comment\n", "the inventory is empty"),
        (
            "- compute-0\n- compute-1\n",
            "expected a mapping with 'hosts' (and optional 'defaults'), or Ansible groups, got a list",
        ),
        ("compute-0\n", "got 'compute-0'"),
        ("defaults: {user: x}\n", "key 'hosts': no hosts; an empty inventory would check nothing"),
        ("hosts:\n", "key 'hosts': no hosts"),
        ("hosts: {}\n", "key 'hosts': no hosts"),
        ("hosts: [compute-0]\n", "key 'hosts': expected a mapping of host name to settings, got a list"),
        ("defaults: [user]\nhosts: {c0: }\n", "defaults: expected a mapping of settings, got a list"),
    ],
)
def test_bad_shape(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in load_error(write(tmp_path, text))


def test_host_entry_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0: 192.0.2.10\n")
    assert load_error(path) == (
        f"{path}: host 'compute-0': expected a mapping of settings, got '192.0.2.10'; write e.g. 'address: 192.0.2.10'"
    )
    path = write(tmp_path, "hosts:\n  compute-0: [a]\n")
    assert "host 'compute-0': expected a mapping of settings, got a list" in load_error(path)


@pytest.mark.parametrize("name", ["../etc", "-x", "a b", ".hidden", "comp/ute", "café", "_x", "'c0\\n'"])
def test_unsafe_host_names(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f'hosts:\n  "{name}":\n')
    message = load_error(path)
    assert "not a safe host name" in message
    assert message.startswith(f"{path}: host ")


def test_non_string_host_name(tmp_path: Path) -> None:
    assert "host 1234: not a safe host name" in load_error(write(tmp_path, "hosts:\n  1234:\n"))


@pytest.mark.parametrize("key", ["address", "path"])
def test_per_host_keys_are_refused_in_defaults(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f"defaults:\n  {key}: x\nhosts:\n  compute-0:\n")
    assert load_error(path) == f"{path}: defaults: key {key!r}: names one machine, so it belongs in a host entry"


@pytest.mark.parametrize(
    ("entry", "key", "fragment"),
    [
        ("{transport: local, port: 22}", "port", "applies only to transport ssh, not local"),
        ("{transport: snapshot, path: ., jump: x}", "jump", "applies only to transport ssh, not snapshot"),
        ("{transport: snapshot, path: ., become: sudo}", "become", "needs a live host"),
        ("{address: 192.0.2.10, path: .}", "path", "applies only to transport snapshot, not ssh"),
        ("{transport: local, page_size: 4096}", "page_size", "applies only to transport snapshot, not local"),
    ],
)
def test_key_that_does_not_apply_to_the_transport(tmp_path: Path, entry: str, key: str, fragment: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0: {entry}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-0': key {key!r}: "), message
    assert fragment in message


def test_defaults_apply_only_where_they_make_sense(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {port: 2222, become: sudo}\nhosts:\n  me: {transport: local}\n  c0:\n")
    me, c0 = load_inventory(path).hosts
    assert (me.transport, c0.port) == ("local", 2222)


def test_snapshot_without_path(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  captured-7: {transport: snapshot}\n")
    assert load_error(path) == f"{path}: host 'captured-7': key 'path': required for transport snapshot"


def test_snapshot_path_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  captured-7: {transport: snapshot, path: captures/nope}\n")
    assert load_error(path) == (
        f"{path}: host 'captured-7': key 'path': {tmp_path / 'captures' / 'nope'} does not exist"
    )


def test_snapshot_path_may_be_a_file_a_sosreport_tarball(tmp_path: Path) -> None:
    tar_tree(SOSREPORT_TREE, tmp_path / "sosreport.tar.xz")  # a file that is no tarball: test_snapshot_tarball_at_load
    path = write(tmp_path, "hosts:\n  captured-7: {transport: snapshot, path: sosreport.tar.xz}\n")
    assert load_inventory(path).host("captured-7").path == str(tmp_path / "sosreport.tar.xz")


def test_snapshot_path_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "capture")
    path = write(tmp_path, "hosts:\n  captured-7: {transport: snapshot, path: capture}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'captured-7': key 'path': ")
    assert "is a FIFO (named pipe), not a captured tree or a sosreport tarball" in message


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0:\n    port: 22\n   user: x\n")
    message = load_error(path)
    assert message.startswith(f"{path}: line 4, column 4: invalid YAML: "), message


def test_yaml_scanner_error(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0: {port: 22\n")
    message = load_error(path)
    assert "invalid YAML" in message
    assert "line 3" in message


def test_duplicate_host_name(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0:\n    port: 22\n  compute-1:\n  compute-0:\n    port: 2222\n")
    assert load_error(path) == (
        f"{path}: host 'compute-0' is defined twice (lines 2 and 5); each host name must be unique"
    )


def test_duplicate_key_in_a_host(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0:\n    port: 22\n    port: 2222\n")
    assert load_error(path) == f"{path}: host 'compute-0': key 'port' is given twice (lines 3 and 4)"


def test_duplicate_key_in_defaults_and_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  user: a\n  user: b\nhosts:\n  c0:\n")
    assert load_error(path) == f"{path}: defaults: key 'user' is given twice (lines 2 and 3)"
    path = write(tmp_path, "hosts:\n  c0:\nhosts:\n  c1:\n")
    assert load_error(path) == f"{path}: key 'hosts' is given twice (lines 1 and 3)"


def test_missing_file(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nope.yaml").endswith(": inventory file not found")


def test_an_empty_directory_is_an_ansible_directory_without_hosts(tmp_path: Path) -> None:
    assert load_error(tmp_path).endswith(": no hosts; an empty inventory would check nothing")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"hosts:\n  c\xe9:\n")
    assert load_error(path).endswith(": not UTF-8 text (byte 10)")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any mode, so the permission error is injected.
    path = write(tmp_path, THREE)

    def denied(self: Path, mode: str = "r") -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    assert load_error(path) == f"{path}: cannot read inventory: Permission denied"


# --------------------------------------------------------------------------
# vrouter, expect, min_free_1g_per_node
# --------------------------------------------------------------------------

GIB = 1048576
MIB2 = 2048


def test_vrouter_expect_and_min_free_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        hosts:
          compute-0:
            vrouter:
              release: "4.1"
              flow_entries: 524288
              oflow_entries: 0
              bridge_entries: 262144
              bridge_oentries: 53248
              nexthops: 65536
              hugepage_size: none
              contiguity_margin: 2
              contiguity_spare_blocks: 0
            expect:
              default_hugepagesz: 1GB
              hugepages:
                1G: 340
                2M: {1: 512, 0: 512}
            min_free_1g_per_node: 2
        """,
    )
    (c0,) = load_inventory(path).hosts
    assert c0.vrouter == VrouterOverrides(
        release="4.1",
        flow_entries=524288,
        oflow_entries=0,
        bridge_entries=262144,
        bridge_oentries=53248,
        nexthops=65536,
        hugepage_size="none",
        contiguity_margin=2.0,
        contiguity_spare_blocks=0,
    )
    assert isinstance(c0.vrouter.contiguity_margin, float)
    assert c0.expect == BootExpectation(
        default_hugepagesz_kib=GIB,
        pools=(ExpectedPool(GIB, total=340), ExpectedPool(MIB2, per_node={0: 512, 1: 512})),
    )
    per_node = c0.expect.pools[1].per_node
    assert per_node is not None
    assert list(per_node) == [0, 1]  # sorted by node
    assert c0.expect.pools[0].per_node is None
    assert c0.min_free_1g_per_node == 2


def test_without_the_new_keys_nothing_is_assumed(tmp_path: Path) -> None:
    (c0,) = load_inventory(write(tmp_path, "hosts:\n  compute-0:\n")).hosts
    assert c0.vrouter == VrouterOverrides()
    assert c0.expect is None
    assert c0.min_free_1g_per_node == 0


def test_empty_vrouter_and_expect_mappings(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  compute-0: {vrouter: {}, expect: {}, min_free_1g_per_node: 0}\n")
    (c0,) = load_inventory(path).hosts
    assert (c0.vrouter, c0.expect) == (VrouterOverrides(), BootExpectation())


@pytest.mark.parametrize(
    ("written", "mode"),
    [
        *[("1G", "1G"), ("1GB", "1G"), ("1g", "1G"), ("1024M", "1G")],
        *[("2M", "2M"), ("2MB", "2M"), ("2048kB", "2M")],
        *[("none", "none"), ("None", "none"), ("NONE", "none")],
    ],
)
def test_hugepage_size_forms_are_normalised(tmp_path: Path, written: str, mode: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0: {{vrouter: {{hugepage_size: {written}}}}}\n")
    assert load_inventory(path).hosts[0].vrouter.hugepage_size == mode


@pytest.mark.parametrize("release", ["R3.2", "'4.1'", "R1911", "'2011'", "R2011", "21.4.L2", "master"])
def test_release_names_accepted(tmp_path: Path, release: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0: {{vrouter: {{release: {release}}}}}\n")
    assert load_inventory(path).hosts[0].vrouter.release == release.strip("'")


@pytest.mark.parametrize(
    ("written", "kib"), [("1G", GIB), ("1GB", GIB), ("1g", GIB), ("2M", MIB2), ("2MB", MIB2), ("64K", 64)]
)
def test_expect_sizes_are_normalised_to_kib(tmp_path: Path, written: str, kib: int) -> None:
    entry = f"{{expect: {{default_hugepagesz: {written}, hugepages: {{{written}: 4}}}}}}"
    path = write(tmp_path, f"hosts:\n  compute-0: {entry}\n")
    expect = load_inventory(path).hosts[0].expect
    assert expect == BootExpectation(kib, (ExpectedPool(kib, total=4),))


def test_defaults_are_replaced_whole_not_merged(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          vrouter: {release: "4.1", hugepage_size: none}
          expect: {default_hugepagesz: 1G, hugepages: {1G: 340}}
          min_free_1g_per_node: 2
        hosts:
          old-0:
          new-0:
            vrouter: {flow_entries: 1048576}
            expect: {hugepages: {2M: 1024}}
            min_free_1g_per_node: 0
        """,
    )
    old, new = load_inventory(path).hosts
    assert old.vrouter == VrouterOverrides(release="4.1", hugepage_size="none")
    assert old.expect == BootExpectation(GIB, (ExpectedPool(GIB, total=340),))
    assert old.min_free_1g_per_node == 2
    # new-0's own blocks replace the defaults' blocks entirely: no release, no default_hugepagesz.
    assert new.vrouter == VrouterOverrides(flow_entries=1048576)
    assert new.expect == BootExpectation(None, (ExpectedPool(MIB2, total=1024),))
    assert new.min_free_1g_per_node == 0


def test_new_keys_apply_to_every_transport(tmp_path: Path) -> None:
    (tmp_path / "cap").mkdir()
    block = "{vrouter: {release: R2011}, expect: {hugepages: {1G: 2}}, min_free_1g_per_node: 1"
    path = write(
        tmp_path,
        f"hosts:\n  s: {block}, transport: snapshot, path: cap}}\n  l: {block}, transport: local}}\n  h: {block}}}\n",
    )
    hosts = load_inventory(path).hosts
    assert [h.transport for h in hosts] == ["snapshot", "local", "ssh"]
    assert {(h.vrouter.release, h.min_free_1g_per_node) for h in hosts} == {("R2011", 1)}


BAD_NESTED = [
    # (yaml entry for the host, key named in the message, fragment of the message)
    ("vrouter: [R2011]", "vrouter", "expected a mapping of vRouter settings (release, flow_entries,"),
    ("vrouter:", "vrouter", "got nothing (null)"),
    ("vrouter: R2011", "vrouter", "got 'R2011'"),
    ("vrouter: {flow_entrys: 1}", "vrouter.flow_entrys", "unknown key; did you mean 'flow_entries'?"),
    ("vrouter: {colour: 1}", "vrouter.colour", "unknown key; known keys: release, flow_entries, oflow_entries"),
    ("vrouter: {1: 1}", "vrouter.1", "unknown key; known keys: release"),
    ("vrouter: {release: 4.1}", "vrouter.release", "got 4.1; quote it: release: '4.1'"),
    ("vrouter: {release: 2011}", "vrouter.release", "got 2011; quote it: release: '2011'"),
    ("vrouter: {release: R1913}", "vrouter.release", "unknown vRouter release 'R1913': expected "),
    ("vrouter: {release: ''}", "vrouter.release", "unknown vRouter release ''"),
    ("vrouter: {release: }", "vrouter.release", "got nothing (null)"),
    ("vrouter: {release: true}", "vrouter.release", "got true (a boolean)"),
    ("vrouter: {flow_entries: 0}", "vrouter.flow_entries", "expected an integer from 1 to 67,108,864, got 0"),
    ("vrouter: {flow_entries: -524288}", "vrouter.flow_entries", "got -524288"),
    ("vrouter: {flow_entries: 512K}", "vrouter.flow_entries", "got '512K'"),
    ("vrouter: {flow_entries: 1.5}", "vrouter.flow_entries", "got 1.5"),
    ("vrouter: {flow_entries: true}", "vrouter.flow_entries", "got true (a boolean)"),
    (
        "vrouter: {oflow_entries: -1}",
        "vrouter.oflow_entries",
        "from 0 (auto: 20% of the main table) to 67,108,864, got -1",
    ),
    ("vrouter: {oflow_entries: auto}", "vrouter.oflow_entries", "got 'auto'"),
    ("vrouter: {bridge_entries: 0}", "vrouter.bridge_entries", "expected an integer from 1 to 67,108,864, got 0"),
    ("vrouter: {bridge_oentries: -5}", "vrouter.bridge_oentries", "from 0 (auto: 20% of the main table)"),
    ("vrouter: {nexthops: 0}", "vrouter.nexthops", "expected an integer from 1 to 67,108,864, got 0"),
    ("vrouter: {hugepage_size: 4M}", "vrouter.hugepage_size", "expected 1G, 2M or none"),
    ("vrouter: {hugepage_size: 1T}", "vrouter.hugepage_size", "got '1T'"),
    ("vrouter: {hugepage_size: huge}", "vrouter.hugepage_size", "got 'huge'"),
    ("vrouter: {hugepage_size: 2048}", "vrouter.hugepage_size", "got 2048"),
    ("vrouter: {hugepage_size: false}", "vrouter.hugepage_size", "got false (a boolean)"),
    ("vrouter: {hugepage_size: }", "vrouter.hugepage_size", "got nothing (null)"),
    ("vrouter: {contiguity_margin: 0.9}", "vrouter.contiguity_margin", "expected a number from 1.0 to 10.0"),
    ("vrouter: {contiguity_margin: .nan}", "vrouter.contiguity_margin", "got nan"),
    ("vrouter: {contiguity_margin: .inf}", "vrouter.contiguity_margin", "got inf"),
    ("vrouter: {contiguity_margin: '1.5'}", "vrouter.contiguity_margin", "got '1.5'"),
    ("vrouter: {contiguity_margin: true}", "vrouter.contiguity_margin", "got true (a boolean)"),
    ("vrouter: {contiguity_spare_blocks: -1}", "vrouter.contiguity_spare_blocks", "from 0 to 1024, got -1"),
    ("vrouter: {contiguity_spare_blocks: 1.5}", "vrouter.contiguity_spare_blocks", "got 1.5"),
    ("expect: [1G]", "expect", "expected a mapping of what the boot command line must ask for"),
    ("expect:", "expect", "got nothing (null)"),
    ("expect: {hugepage: {1G: 2}}", "expect.hugepage", "unknown key; did you mean 'hugepages'?"),
    ("expect: {default_hugepagesz: 3M}", "expect.default_hugepagesz", "'3M' is not a hugepage size"),
    ("expect: {default_hugepagesz: 4K}", "expect.default_hugepagesz", "'4K' is not a hugepage size"),
    ("expect: {default_hugepagesz: big}", "expect.default_hugepagesz", "expected a hugepage size such as 1G"),
    ("expect: {default_hugepagesz: 1073741824}", "expect.default_hugepagesz", "got 1073741824"),
    ("expect: {default_hugepagesz: }", "expect.default_hugepagesz", "got nothing (null)"),
    ("expect: {hugepages: 340}", "expect.hugepages", "expected a mapping of page size to a count"),
    ("expect: {hugepages: {3G: 2}}", "expect.hugepages.3G", "'3G' is not a hugepage size"),
    ("expect: {hugepages: {2048: 2}}", "expect.hugepages.2048", "expected a hugepage size such as 1G or 2M, got 2048"),
    ("expect: {hugepages: {1G: 340, 1GB: 2}}", "expect.hugepages.1GB", "page size 1G is also given as '1G'"),
    ("expect: {hugepages: {2M: 1, 2048K: 1}}", "expect.hugepages.2048K", "page size 2M is also given as '2M'"),
    ("expect: {hugepages: {1G: -1}}", "expect.hugepages.1G", "a page count, an integer from 0 to 16,777,216, got -1"),
    ("expect: {hugepages: {1G: many}}", "expect.hugepages.1G", "or a per-node mapping like {0: 170, 1: 170}"),
    ("expect: {hugepages: {1G: true}}", "expect.hugepages.1G", "got true (a boolean)"),
    ("expect: {hugepages: {1G: }}", "expect.hugepages.1G", "got nothing (null)"),
    ("expect: {hugepages: {1G: 1.5}}", "expect.hugepages.1G", "got 1.5"),
    ("expect: {hugepages: {1G: {}}}", "expect.hugepages.1G", "expected at least one node"),
    ("expect: {hugepages: {1G: {node0: 1}}}", "expect.hugepages.1G.node0", "expected a NUMA node number"),
    ("expect: {hugepages: {1G: {-1: 1}}}", "expect.hugepages.1G.-1", "got -1"),
    ("expect: {hugepages: {1G: {0: 170, 1: -170}}}", "expect.hugepages.1G.1", "from 0 to 16,777,216, got -170"),
    ("expect: {hugepages: {1G: {0: [1]}}}", "expect.hugepages.1G.0", "got a list"),
    ("min_free_1g_per_node: -1", "min_free_1g_per_node", "a number of free 1G pages, an integer from 0 to 16384"),
    ("min_free_1g_per_node: '2'", "min_free_1g_per_node", "got '2'"),
    ("min_free_1g_per_node: 1.0", "min_free_1g_per_node", "got 1.0"),
    ("min_free_1g_per_node: true", "min_free_1g_per_node", "got true (a boolean)"),
    ("min_free_1g_per_node:", "min_free_1g_per_node", "got nothing (null)"),
]


@pytest.mark.parametrize(("entry", "key", "fragment"), BAD_NESTED)
def test_bad_vrouter_expect_min_free_in_a_host(tmp_path: Path, entry: str, key: str, fragment: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    {entry}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-0': key {key!r}: "), message
    assert fragment in message, message


@pytest.mark.parametrize(("entry", "key", "fragment"), BAD_NESTED)
def test_bad_vrouter_expect_min_free_in_defaults(tmp_path: Path, entry: str, key: str, fragment: str) -> None:
    path = write(tmp_path, f"defaults:\n  {entry}\nhosts:\n  compute-0:\n")
    message = load_error(path)
    assert message.startswith(f"{path}: defaults: key {key!r}: "), message
    assert fragment in message, message


def test_duplicate_sub_keys_name_the_sub_key(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  c0:\n    vrouter:\n      flow_entries: 1\n      flow_entries: 2\n")
    assert load_error(path) == f"{path}: host 'c0': key 'vrouter.flow_entries' is given twice (lines 4 and 5)"
    path = write(tmp_path, "defaults:\n  expect:\n    hugepages: {1G: 2, 1G: 4}\nhosts:\n  c0:\n")
    assert load_error(path) == f"{path}: defaults: key 'expect.hugepages.1G' is given twice (lines 3 and 3)"


# --------------------------------------------------------------------------
# The inventories shipped in inventory/
# --------------------------------------------------------------------------


def test_default_local_inventory_loads() -> None:
    inventory = load_inventory(REPO / "inventory" / "local.yaml")
    assert len(inventory.hosts) == 1
    assert inventory.hosts[0].transport == "local"
    assert inventory.hosts[0].become == "sudo"


def test_documented_example_loads(tmp_path: Path) -> None:
    # The example's snapshot host points at captures/compute-7 next to it.
    shutil.copy(REPO / "inventory" / "example.yaml", tmp_path / "example.yaml")
    (tmp_path / "captures" / "compute-7" / "proc").mkdir(parents=True)
    inventory = load_inventory(tmp_path / "example.yaml")
    transports = {h.transport for h in inventory.hosts}
    assert transports == {"ssh", "local", "snapshot"}
    for spec in inventory.hosts:
        if spec.address is not None:
            assert spec.address.startswith("192.0.2."), spec
    # The field report's node: default_hugepagesz=1GB hugepagesz=1G hugepages=340, R4.1, no hugepage mode.
    c0 = inventory.host("overcloud-compute-0")
    assert c0.vrouter == VrouterOverrides(
        release="4.1", hugepage_size="none", contiguity_margin=1.5, contiguity_spare_blocks=4
    )
    assert c0.expect == BootExpectation(1048576, (ExpectedPool(1048576, total=340),))
    assert c0.min_free_1g_per_node == 1
    assert (c0.vrouter_mode, c0.kernel_module) == ("dpdk", False)
    assert inventory.host("overcloud-compute-1").kernel_module
    upgraded = inventory.host("overcloud-compute-r2011")
    assert upgraded.vrouter == VrouterOverrides(release="R2011", hugepage_size="1G")
    assert upgraded.expect == BootExpectation(1048576, (ExpectedPool(1048576, total=4),))
    assert inventory.host("captured-node").min_free_1g_per_node == 2
