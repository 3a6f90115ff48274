"""/etc/os-release with shell quoting (no capture in the corpus: samples in the documented format)."""

from __future__ import annotations

import pytest

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.os_release import parse_os_release

RHEL = """\
NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
HOME_URL="https://www.redhat.com/"
"""

UBUNTU = """\
# written by hand
PRETTY_NAME='Ubuntu 22.04.4 LTS'

ID=ubuntu
VERSION_ID="22.04"
VERSION_CODENAME=jammy
QUOTED="say \\"hi\\" \\$HOME"
EMPTY=
"""


def test_rhel() -> None:
    release = parse_os_release(RHEL)
    assert (release.id, release.version_id, release.pretty_name) == (
        "rhel",
        "9.4",
        "Red Hat Enterprise Linux 9.4 (Plow)",
    )
    assert release.values["HOME_URL"] == "https://www.redhat.com/"


def test_quoting_comments_blank_lines() -> None:
    release = parse_os_release(UBUNTU)
    assert (release.id, release.version_id, release.pretty_name) == ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")
    assert release.values["QUOTED"] == 'say "hi" $HOME'
    assert release.values["EMPTY"] == ""


def test_absent_keys_are_none() -> None:
    release = parse_os_release("ID=alpine\n")
    assert release.version_id is None
    assert release.pretty_name is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('ID=rhel\nVERSION_ID="9.4\n', r"^/etc/os-release line 2: bad quoting"),
        ("ID=rhel\nNAME=Red Hat\n", r"line 2: value has unquoted spaces: 'NAME=Red Hat'"),
        ("ID=rhel\nexport X\n", r"line 2: expected KEY=value"),
    ],
)
def test_bad_lines_raise_with_source_and_line(text: str, message: str) -> None:
    with pytest.raises(FactParseError, match=message):
        parse_os_release(text)
