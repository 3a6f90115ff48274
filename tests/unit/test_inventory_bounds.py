"""Issue 13: every number in range, every read and message bounded, nothing that reaches a shell unchecked.

Each case is the adversarial pass's reproduction: the inventory is refused at
load with one message naming the file, the host, the key, the value and the
range (the run then exits 4 before any connection).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import yaml

from tests.unit.inventory_files import load_error, write
from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import HostSpec, host_spec_from_mapping, load_inventory, yaml_file
from vrouter_preflight.inventory.yaml_file import MAX_DEPTH, MAX_INVENTORY_BYTES
from vrouter_preflight.inventory_sources.yaml_text import MAX_MERGED_PAIRS
from vrouter_preflight.keys.checks import IntRange, NumberRange, describe
from vrouter_preflight.keys.spec import KeySpec, key_specs

# --------------------------------------------------------------------------
# Numbers: every declared duration, count, table size, margin has a range
# --------------------------------------------------------------------------


def numeric_keys() -> list[tuple[str, str, KeySpec]]:
    """(dotted name, YAML entry template, spec) of every key checked by a range."""
    found = []
    for spec in key_specs(HostSpec):
        if isinstance(spec.check, (IntRange, NumberRange)):
            found.append((spec.name, f"{spec.name}: {{value}}", spec))
        for sub in spec.sub_keys:
            if isinstance(sub.check, (IntRange, NumberRange)):
                found.append((f"{spec.name}.{sub.name}", f"{spec.name}: {{{{{sub.name}: {{value}}}}}}", sub))
    return found


NUMERIC = numeric_keys()


def beyond(spec: KeySpec) -> list[str]:
    """YAML values just outside the range, and far outside (what the adversarial pass tried)."""
    check = spec.check
    assert isinstance(check, (IntRange, NumberRange))
    if isinstance(check, IntRange):
        return [str(check.high + 1), str(check.low - 1), "1099511627776", str(10**30)]
    return [repr(check.high * 2), "1.0e+308", "-1", ".inf"]


@pytest.mark.parametrize(("name", "entry", "spec"), NUMERIC, ids=[name for name, _, _ in NUMERIC])
def test_a_number_out_of_range_names_file_host_key_value_and_range(
    tmp_path: Path, name: str, entry: str, spec: KeySpec
) -> None:
    for value in beyond(spec):
        path = write(tmp_path, f"hosts:\n  compute-0:\n    {entry.format(value=value)}\n")
        message = load_error(path)
        found = describe(yaml.safe_load(value))
        assert message == f"{path}: host 'compute-0': key {name!r}: expected {spec.check.expected}, got {found}"


@pytest.mark.parametrize(
    ("entry", "key", "shown"),
    [
        ("vrouter: {reload_timeout: 1.0e+308}", "vrouter.reload_timeout", "at most 3600, got 1e+308"),
        ("command_timeout: 1.0e+308", "command_timeout", "at most 3600, got 1e+308"),
        ("vrouter: {flow_entries: 1.0e+30}", "vrouter.flow_entries", "to 67,108,864, got 1e+30"),
        ("vrouter: {flow_entries: 1e30}", "vrouter.flow_entries", "to 67,108,864, got '1e30'"),
        ("vrouter: {contiguity_margin: 1e300}", "vrouter.contiguity_margin", "1.0 to 10.0 (1.5 asks"),
        ("vrouter: {contiguity_spare_blocks: 100000}", "vrouter.contiguity_spare_blocks", "0 to 1024, got 100000"),
        ("cert_cycles: 1000000", "cert_cycles", "from 1 to 100, got 1000000"),
        ("min_free_1g_per_node: 100000000", "min_free_1g_per_node", "0 to 16384, got 100000000"),
        ("trial: {nodes: [0, 5000]}", "trial.nodes", "from 0 to 1023, got 5000"),
        ("expect: {hugepages: {1G: 99999999999}}", "expect.hugepages.1G", "got 99999999999"),
        ("expect: {hugepages: {1E: 1}}", "expect.hugepages.1E", "from 64K to 16G"),
    ],
)
def test_the_adversarial_values(tmp_path: Path, entry: str, key: str, shown: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    transport: local\n    {entry}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-0': key {key!r}: "), message
    assert shown in message, message


def test_a_huge_integer_literal_is_one_message(tmp_path: Path) -> None:
    # Python (3.9.14+) refuses to convert more than 4300 digits: YAML's constructor then raises ValueError.
    path = write(tmp_path, f"hosts:\n  compute-0:\n    port: {'9' * 5000}\n")
    message = load_error(path)
    # The wording of Python's own reason differs between versions; the line and the column do not.
    assert message.startswith(f"{path}: line 3, column 11: invalid YAML: cannot read this value (Exceeds the limit")
    path = write(tmp_path, "hosts:\n  compute-0:\n    groups: [2001-13-45]\n")
    assert (
        load_error(path) == f"{path}: line 3, column 14: invalid YAML: cannot read this value (month must be in 1..12)"
    )


# --------------------------------------------------------------------------
# The file: size, depth, odd files
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loader", yaml_file._LOADERS, ids=lambda loader: getattr(loader, "__name__", "loader"))
@pytest.mark.parametrize(
    "text",
    [
        "hosts: " + "[" * 20_000 + "]" * 20_000,
        "hosts: " + "{a: " * 20_000 + "1" + "}" * 20_000,
        "hosts:\n" + "".join(" " * level + "- \n" for level in range(1, 200)),
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences"],
)
def test_yaml_nested_20000_deep_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: object, text: str
) -> None:
    monkeypatch.setattr(yaml_file, "_LOADERS", [loader])
    message = load_error(write(tmp_path, text + "\n"))
    # libyaml 0.2.5+ stops flow nesting at 1000 levels itself, before the suite's own limit is reached.
    ours, libyaml = (
        f"invalid YAML: nested deeper than {MAX_DEPTH} levels",
        "invalid YAML: exceeded maximum nesting depth",
    )
    assert ours in message or libyaml in message, message


def test_an_inventory_beyond_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    host = "  compute-{}: {{address: 192.0.2.1}}\n"
    with path.open("w") as stream:
        stream.write("hosts:\n")
        index = 0
        while stream.tell() <= MAX_INVENTORY_BYTES:
            stream.write("".join(host.format(index + i) for i in range(1000)))
            index += 1000
    assert load_error(path) == f"{path}: larger than 4 MiB; an inventory of 10,000 hosts takes about 0.5"


def test_an_inventory_of_10000_hosts_fits_under_the_cap(tmp_path: Path) -> None:
    lines = ["defaults: {user: heat-admin, become: sudo}", "hosts:"]
    lines += [f"  overcloud-compute-{i}: {{address: 192.0.{i // 256 % 256}.{i % 256}}}" for i in range(10_000)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < MAX_INVENTORY_BYTES // 3
    assert len(load_inventory(path).hosts) == 10_000


def test_dev_zero_as_the_inventory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"^/dev/zero: is a character device, not an inventory file or directory$"):
        load_inventory("/dev/zero")


@pytest.mark.parametrize("loader", yaml_file._LOADERS, ids=lambda loader: getattr(loader, "__name__", "loader"))
def test_merge_keys_cannot_multiply_the_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: object
) -> None:
    # Each level merges the one below nine times: flattened, level 8 would hold 9**8 (43 million) entries.
    monkeypatch.setattr(yaml_file, "_LOADERS", [loader])
    lines = ["l0: &l0 {a: 1}"]
    for level in range(1, 9):
        merges = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} {{<<: [{merges}], k{level}: 1}}")
    lines.append("hosts: {c0: {transport: local}}")
    message = load_error(write(tmp_path, "\n".join(lines) + "\n"))
    if tuple(int(part) for part in yaml.__version__.split(".")[:3]) >= (6, 0, 4):
        # PyYAML 6.0.4 merges each key once: nothing multiplies, the file is judged on its keys.
        assert message.endswith(
            "key 'l0': unknown top-level key; known keys: defaults, hosts, certify_groups, ansible_inventory, groups"
        )
    else:
        assert f"invalid YAML: merge keys make a mapping of more than {MAX_MERGED_PAIRS:,} entries" in message, message


def test_a_merge_key_still_works(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  c0: &base {user: heat-admin, port: 2222}\n  c1: {<<: *base, port: 22}\n")
    assert [(h.user, h.port) for h in load_inventory(path).hosts] == [("heat-admin", 2222), ("heat-admin", 22)]


# --------------------------------------------------------------------------
# Values that reach a shell, and long ones
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("address", "'$(touch${IFS}pwned)'", "a shell metacharacter ('$'), refused as OpenSSH does"),
        ("address", "'a;reboot'", "(';')"),
        ("address", "'a`id`'", "('`')"),
        ("address", "'a|b'", "('|')"),
        ("address", "'a,b'", "(',')"),
        ("user", "'$(id)'", "('(')"),
        ("user", "'a;b'", "(';')"),
        ("user", "'root\\'", "expected a user name"),
        ("jump", "'bastion$(id)'", "('$')"),
        ("jump", "'u&x@bastion'", "bad user"),
    ],
)
def test_shell_metacharacters_in_address_user_and_hops_are_refused(
    tmp_path: Path, key: str, value: str, fragment: str
) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    {key}: {value}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: host 'compute-0': key {key!r}: "), message
    assert fragment in message, message


def test_what_openssh_accepts_is_still_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hosts:\n  c0: {address: 'compute-0.example.org', user: 'svc$ops', jump: 'a.b@bastion_1:2222'}\n"
        "  c1: {address: '2001:db8::1', user: 'DOMAIN\\user'}\n",
    )
    c0, c1 = load_inventory(path).hosts
    assert (c0.address, c0.user, c0.jump[0].user, c1.user) == (
        "compute-0.example.org",
        "svc$ops",
        "a.b",
        "DOMAIN\\user",
    )


def test_a_200000_character_address_is_refused_without_being_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    address: {'a' * 200_000}\n")
    message = load_error(path)
    assert message.endswith(
        "key 'address': expected a host name or IP address of at most 253 characters, got 200,000 characters"
    )


@pytest.mark.parametrize("key", ["user", "identity_file", "ssh_config", "sudo_password_env"])
def test_long_strings_are_refused_and_cut_short_in_the_message(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f"hosts:\n  compute-0:\n    {key}: {'a' * 200_000}\n")
    assert f"key {key!r}: expected" in load_error(path)


def test_a_long_unknown_key_or_host_name_is_cut_short(tmp_path: Path) -> None:
    # YAML itself refuses a key longer than 1024 characters; below that the message shows 60 of them.
    for text in (f"hosts:\n  compute-0:\n    {'k' * 1000}: 1\n", f"hosts:\n  {'h' * 1000}:\n", f"{'t' * 1000}: 1\n"):
        message = load_error(write(tmp_path, text))
        assert "… (1,000 characters)" in message, message
    message = load_error(write(tmp_path, f"hosts:\n  compute-0:\n    {'k' * 100_000}: 1\n"))
    assert "invalid YAML" in message


# --------------------------------------------------------------------------
# Local files: key files must be regular files; a snapshot is never the live root
# --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["identity_file", "known_hosts", "ssh_config"])
def test_a_key_file_that_is_a_directory_a_device_or_a_fifo_is_refused(tmp_path: Path, key: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for value, kind in ((tmp_path, "a directory"), ("/dev/zero", "a character device"), (fifo, "a FIFO (named pipe)")):
        path = write(tmp_path, f"hosts:\n  compute-0:\n    {key}: {value}\n")
        assert load_error(path) == f"{path}: host 'compute-0': key {key!r}: {value} is {kind}, not a regular file"
    path = write(tmp_path, f"defaults:\n  {key}: loop\nhosts:\n  compute-0:\n")
    assert (
        load_error(path) == f"{path}: defaults: key {key!r}: {tmp_path / 'loop'} is a symlink loop, not a regular file"
    )


def test_opening_a_fifo_key_file_never_blocks_the_load(tmp_path: Path) -> None:
    fifo = tmp_path / "id_fifo"
    os.mkfifo(fifo)
    path = write(tmp_path, f"hosts:\n  compute-0:\n    identity_file: {fifo}\n")
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(load_error(path)), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome and "a FIFO" in outcome[0]


def test_an_absent_or_regular_key_file_or_dev_null_loads(tmp_path: Path) -> None:
    (tmp_path / "id_ed25519").write_text("key\n")
    text = "hosts:\n  c0: {identity_file: id_ed25519, known_hosts: not-yet/known_hosts, ssh_config: /dev/null}\n"
    (c0,) = load_inventory(write(tmp_path, text)).hosts
    assert (c0.identity_file, c0.ssh_config) == (str(tmp_path / "id_ed25519"), "/dev/null")


@pytest.mark.parametrize("snapshot", ["/", "../../../../../../../../../../..", "/proc/.."])
def test_a_snapshot_of_the_filesystem_root_is_refused(tmp_path: Path, snapshot: str) -> None:
    path = write(tmp_path, f"hosts:\n  captured-7:\n    transport: snapshot\n    path: '{snapshot}'\n")
    message = load_error(path)
    assert message == (
        f"{path}: host 'captured-7': key 'path': / is this machine's own root, not a captured tree "
        "(transport: local checks this machine)"
    )


def test_a_snapshot_whose_proc_is_the_live_proc_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "proc").symlink_to("/proc")
    path = write(tmp_path, "hosts:\n  captured-7: {transport: snapshot, path: tree}\n")
    assert "a tree whose proc/ is this machine's live /proc, not a captured tree" in load_error(path)


# --------------------------------------------------------------------------
# identity_passphrase_env, and hosts from another source
# --------------------------------------------------------------------------


def test_identity_passphrase_env_names_a_variable_and_never_echoes_a_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  c0: {identity_passphrase_env: PREFLIGHT_KEY_PASSPHRASE}\n")
    assert load_inventory(path).hosts[0].identity_passphrase_env == "PREFLIGHT_KEY_PASSPHRASE"
    path = write(tmp_path, "hosts:\n  c0: {identity_passphrase_env: 'Zq9Secret pass'}\n")
    message = load_error(path)
    assert "Zq9Secret" not in message and "holding the identity file's passphrase" in message
    path = write(tmp_path, "hosts:\n  c0: {transport: local, identity_passphrase_env: X}\n")
    assert "key 'identity_passphrase_env': applies only to transport ssh, not local" in load_error(path)


def test_a_host_from_another_source_meets_the_same_checks(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    spec = host_spec_from_mapping(
        "compute-0",
        {"address": "192.0.2.10", "port": 2222, "identity_file": "keys/id"},
        source="ansible inventory hosts.ini",
        defaults={"user": "heat-admin", "become": "sudo"},
        base=tmp_path,
        certify_groups=("r750",),
    )
    assert (spec.address, spec.port, spec.user, spec.become) == ("192.0.2.10", 2222, "heat-admin", "sudo")
    assert spec.identity_file == str(tmp_path / "keys" / "id")
    with pytest.raises(InventoryError) as info:
        host_spec_from_mapping("compute-0", {"address": "$(id)"}, source="ansible inventory hosts.ini")
    assert str(info.value).startswith("ansible inventory hosts.ini: host 'compute-0': key 'address': ")
    with pytest.raises(InventoryError, match="ansible: defaults: key 'address': names one machine"):
        host_spec_from_mapping("c0", {}, source="ansible", defaults={"address": "x"})
    with pytest.raises(InventoryError, match="not a safe host name"):
        host_spec_from_mapping("../etc", {}, source="ansible")
    certified = host_spec_from_mapping("c1", {"groups": ["r750"]}, source="ansible", certify_groups=("r750",))
    assert certified.certify is True
