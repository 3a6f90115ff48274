"""Issue 13 finding 10: a 200 MB inventory took more than 40 s; it is refused after reading 4 MiB of it."""

from __future__ import annotations

from pathlib import Path

from tests.unit.inventory_files import load_error
from vrouter_preflight.inventory.yaml_file import MAX_INVENTORY_BYTES

SIZE = 200 * 1024 * 1024


def test_a_200_mb_inventory_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as stream:
        stream.write("hosts:\n")
        index = 0
        while stream.tell() <= MAX_INVENTORY_BYTES + 1024 * 1024:
            stream.write("".join(f"  compute-{index + i}: {{address: 192.0.2.1}}\n" for i in range(1000)))
            index += 1000
        stream.truncate(SIZE)  # the rest a hole: the file is 200 MB without filling the disk
    assert path.stat().st_size == SIZE
    assert load_error(path) == f"{path}: larger than 4 MiB; an inventory of 10,000 hosts takes about 0.5"
