"""Every inventory the suite reads, generated and mutated: hosts, or one InventoryError naming the file.

* The suite's own YAML inventory, generated as documents: mappings of the known keys (and sub-keys such
  as ``vrouter.flow_entries``) with values of any type, nested junk, deep nesting, huge and special
  numbers, weird strings; and the real inventories of ``inventory/`` and tests/data mutated as text.
* Operators' inventories, each format from its real samples mutated: Ansible INI, YAML and
  ``--list`` JSON, Tungsten Fabric's ``instances.yaml`` (through ``load_inventory``, which maps each
  host's connection variables onto the suite's keys too).
* The Ansible host patterns of ``--limit`` over a real Kolla inventory: hosts, or PatternError.

The contract every test of tests/unit/inventory_files.py checks holds for every example: the message starts
with the file's name, is one line, and at most MAX_MESSAGE characters.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.parsed import result_or_own_error, touch
from tests.property.strategies import DATA, WEIRD_CHARS, WEIRD_NUMBERS, mutated, random_text
from tests.unit.inventory_files import MAX_MESSAGE
from vrouter_preflight.errors import InventoryError
from vrouter_preflight.inventory import load_inventory
from vrouter_preflight.inventory.host import HostSpec
from vrouter_preflight.inventory.load import TOP_LEVEL_KEYS
from vrouter_preflight.inventory_sources import PatternError, read_operator_inventory, select_hosts, universe_of
from vrouter_preflight.keys.spec import key_specs

REPO = DATA.parents[1]
INVENTORIES = DATA / "inventories"
_WORKDIR = Path(tempfile.mkdtemp(prefix="vrpf-property-inventory-"))
_NUMBERS = itertools.count()

HOST_SPECS = key_specs(HostSpec)
HOST_KEYS = tuple(spec.name for spec in HOST_SPECS)
SUB_KEYS = {spec.name: tuple(sub.name for sub in spec.sub_keys) for spec in HOST_SPECS if spec.sub_keys}
TOP_KEYS = tuple(spec.name for spec in TOP_LEVEL_KEYS if spec.name != "ansible_inventory")


def _names() -> st.SearchStrategy[str]:
    return st.sampled_from(("c0", "compute-1", "dpdk", "all", "", "-x", "a" * 300)) | st.text(
        st.sampled_from(WEIRD_CHARS) | st.characters(codec="utf-8"), max_size=12
    )


def scalars() -> st.SearchStrategy[object]:
    """Values of any YAML scalar type, the awkward ones often."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.sampled_from((10**30, 2**64, -(2**63), 1099511627776, 99999999999999, 0, -1)),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from((1.0e308, 1e-308, 0.5, -0.0)),
        st.sampled_from(WEIRD_NUMBERS),
        st.sampled_from(("/", "../../..", "/dev/zero", "/proc/self/fd/0", "~", ".", "sudo", "ssh", "snapshot")),
        st.text(st.sampled_from(WEIRD_CHARS) | st.characters(codec="utf-8"), max_size=30),
        st.just("a" * 200_000),
    )


def junk() -> st.SearchStrategy[object]:
    """Scalars, and lists and mappings of them, nested a few levels."""
    return st.recursive(
        scalars(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(_names() | st.sampled_from(HOST_KEYS), inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def host_settings(draw: st.DrawFn) -> dict[str, object]:
    """A mapping of known host keys (sometimes an unknown one), sub-keys as mappings of theirs."""
    settings: dict[str, object] = {}
    for key in draw(st.lists(st.sampled_from(HOST_KEYS) | _names(), max_size=6, unique=True)):
        if key in SUB_KEYS and draw(st.booleans()):
            subs = draw(st.lists(st.sampled_from(SUB_KEYS[key]), max_size=4, unique=True))
            settings[key] = {sub: draw(scalars()) for sub in subs}
        else:
            settings[key] = draw(junk())
    return settings


@st.composite
def suite_documents(draw: st.DrawFn) -> object:
    """A suite inventory document: known top-level keys with generated hosts, defaults and groups, or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk())
    document: dict[str, object] = {}
    for key in draw(st.lists(st.sampled_from(TOP_KEYS), min_size=1, max_size=4, unique=True)):
        if key == "hosts":
            document[key] = draw(st.dictionaries(_names(), st.none() | host_settings(), max_size=4) | junk())
        elif key == "defaults":
            document[key] = draw(host_settings() | junk())
        elif key == "groups":
            document[key] = draw(st.dictionaries(_names(), host_settings(), max_size=3) | junk())
        else:
            document[key] = draw(st.lists(_names(), max_size=3) | junk())
    return document


def _real_suite_inventories() -> tuple[str, ...]:
    files = [REPO / "inventory" / "example.yaml", REPO / "inventory" / "local.yaml", INVENTORIES / "fleet.yaml"]
    return tuple(file.read_text() for file in files)


def _write(text: str, name: str = "inventory.yaml") -> Path:
    """``text`` in a new directory of its own (an operator's inventory reads group_vars/ beside it)."""
    folder = _WORKDIR / str(next(_NUMBERS))
    folder.mkdir()
    path = folder / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path


def check_loads_or_names_the_file(path: Path, at_fault: Path | None = None) -> None:
    """The property: an inventory whose hosts can all be read, or one InventoryError naming the file.

    ``at_fault`` is the file the message may name instead (a group_vars file beside the inventory).
    """
    result, error = result_or_own_error(lambda: load_inventory(path), InventoryError)
    touch(result)
    if error is not None:
        message = str(error)
        named = next((file for file in (path, at_fault) if file and message.startswith(f"{file}: ")), None)
        assert named is not None, message
        assert "\n" not in message, message
        said = len(message) - len(f"{named}: ")
        assert said <= MAX_MESSAGE, f"{said} characters after the file's name: {message[:200]}"


def _dump(document: object) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1 << 20)


@given(document=suite_documents())
@example(document={"hosts": {"c0": {"vrouter": {"reload_timeout": 1.0e308}}}})
@example(document={"hosts": {"c0": {"command_timeout": 1.0e308, "address": "a" * 200_000}}})
@example(document={"hosts": {"c0": {"vrouter": {"flow_entries": 10**30, "contiguity_margin": 1e300}}}})
@example(document={"hosts": {"c0": {"transport": "snapshot", "path": "/"}}})
@example(document={"hosts": {"c0": {"transport": "snapshot", "path": "../../.."}}})
@example(document={"hosts": {"c0": {"identity_file": "/dev/zero", "known_hosts": "/"}}})
def test_suite_inventory_documents_load_or_name_the_file(document: object) -> None:
    check_loads_or_names_the_file(_write(_dump(document)))


@given(text=mutated(_real_suite_inventories()) | random_text())
@example(text="hosts:\n  c0: " + "[" * 20_000 + "]" * 20_000 + "\n")
@example(text="hosts:\n  c0: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n")
@example(text="hosts:\n  c0: {port: " + "9" * 5000 + "}\n")
@example(text="hosts:\n  c0: {port: 22}\n  c0: {port: 23}\n")
@example(text="a: &a [*a, *a]\nhosts: *a\n")
@example(text="hosts: !!python/object:os.system {}\n")
def test_suite_inventory_texts_load_or_name_the_file(text: str) -> None:
    check_loads_or_names_the_file(_write(text))


def _operator_samples(*relative: str) -> tuple[str, ...]:
    return tuple((INVENTORIES / name).read_text() for name in relative)


INI = _operator_samples("ansible/kolla-multinode/multinode", "ansible/synthetic-ini/hosts.ini")
ANSIBLE_YAML = _operator_samples(
    "ansible/synthetic-yaml/inventory.yml", "ansible/tripleo-standalone/tripleo-ansible-inventory.yaml"
)
LIST_JSON = _operator_samples("ansible/list-json/inventory.json", "ansible/list-json/export.json")
TF = _operator_samples("tf/instances.yaml", "tf/synthetic-dpdk.instances.yaml", "tf/instances.yaml.full_example")


@given(text=mutated(INI) | random_text())
@example(text="[compute]\ncompute[01:99999999999999]\n")
@example(text="[compute]\nc0 ansible_port=99999999999999999999\n")
@example(text="[a:children]\nb\n[b:children]\na\n")
# Found by the long profile: a 5,000-character word quoted whole; ranges of '²' or 5,000 digits (int() refused them).
@example(text="0 " + "9" * 5000 + "\n")
@example(text="[compute]\nc[1:3:²]\nd[1:" + "9" * 5000 + "]\n")
@example(text="[compute]\nc0 ansible_port=²\n")
@example(text="9" * 5000 + "\n")  # the refusal quoted the 5,000-character name whole in its --limit hint
def test_ansible_ini_inventories_load_or_name_the_file(text: str) -> None:
    check_loads_or_names_the_file(_write(text, "hosts"))


@given(text=mutated(ANSIBLE_YAML) | random_text())
@example(text="all:\n  children:\n    a: {children: {b: {children: {a: {}}}}}\n")
@example(
    text="all:\n  hosts:\n    c0: {ansible_port: '" + "9" * 5000 + "'}\n"
)  # was ValueError (found by the long profile)
def test_ansible_yaml_inventories_load_or_name_the_file(text: str) -> None:
    check_loads_or_names_the_file(_write(text, "inventory.yml"))


@given(text=mutated(LIST_JSON) | random_text())
@example(text='{"_meta": {"hostvars": {"c0": {"ansible_port": 1e400}}}, "all": {"hosts": ["c0"]}}')
def test_ansible_list_json_inventories_load_or_name_the_file(text: str) -> None:
    check_loads_or_names_the_file(_write(text, "inventory.json"))


@given(text=mutated(TF) | random_text())
def test_tf_instances_load_or_name_the_file(text: str) -> None:
    check_loads_or_names_the_file(_write(text, "instances.yaml"))


VARS_FILES = _operator_samples(
    "ansible/synthetic-dir/group_vars/all.yml",
    "ansible/synthetic-dir/group_vars/dpdk.yaml",
    "ansible/synthetic-dir/group_vars/compute/00-login.yml",
    "ansible/synthetic-dir/host_vars/compute01.json",
)


@given(text=mutated(VARS_FILES) | random_text(), where=st.sampled_from(("group_vars/all.yml", "host_vars/c0.yml")))
@example(text="ansible_port: " + "9" * 5000 + "\n", where="group_vars/all.yml")
@example(text="ansible_host: " + "a" * 200_000 + "\n", where="host_vars/c0.yml")
def test_group_and_host_vars_load_or_name_their_file(text: str, where: str) -> None:
    """An INI inventory with a damaged group_vars/ or host_vars/ file: hosts, or InventoryError naming either."""
    path = _write("[compute]\nc0\nc1 ansible_port=2222\n", "hosts")
    vars_file = path.parent / where
    vars_file.parent.mkdir()
    vars_file.write_text(text, encoding="utf-8", errors="surrogateescape")
    check_loads_or_names_the_file(path, at_fault=vars_file)


KOLLA = read_operator_inventory(INVENTORIES / "ansible" / "kolla-multinode" / "multinode")
UNIVERSE = universe_of(KOLLA)
PATTERN_WORDS = ("compute", "control", "compute01", "all", "*", "~comp.*", "network", "&", "!", ":", ",", "[0]", "[1:]")


@given(
    pattern=st.lists(st.sampled_from(PATTERN_WORDS) | st.text(max_size=6), max_size=6).map("".join) | random_text(40)
)
@example(pattern="all[99999999999999999999999]")
@example(pattern="compute[" + "9" * 5000 + "]")  # was ValueError (Python's 4,300-digit limit)
@example(pattern="~[")
@example(pattern="compute[-99999999999999999999:]")
def test_limit_patterns_select_or_raise_pattern_error(pattern: str) -> None:
    """``--limit``: hosts of the inventory, or PatternError quoting the pattern."""
    result, error = result_or_own_error(lambda: select_hosts(pattern, UNIVERSE), PatternError)
    assert error is not None or set(result) <= set(KOLLA.host_names)  # type: ignore[call-overload]
    assert error is None or str(error).startswith("--limit"), str(error)
