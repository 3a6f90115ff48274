"""Where the captured files live and how tests read them.

``corpus(kind)`` lists every file of one kind, so a file added to the corpus is
tested without touching the tests; ``read(kind, name)`` reads one by name.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parents[2] / "data"
CORPUS = DATA / "corpus"
LOCAL_CAPTURE = DATA / "local-capture"


def corpus(kind: str) -> list[Path]:
    """Every corpus file of ``kind`` (a directory name such as ``buddyinfo``), sorted."""
    files = sorted((CORPUS / kind).glob("*.txt"))
    assert files, f"no corpus files of kind {kind!r}"
    return files


def read(kind: str, name: str) -> str:
    """The text of ``corpus/<kind>/<name>.txt``."""
    return (CORPUS / kind / f"{name}.txt").read_text()


def local_capture(kind: str) -> Path:
    """This machine's own capture of ``kind`` (kernel 6.18, one node)."""
    (path,) = LOCAL_CAPTURE.glob(f"{kind}-*.txt")
    return path


def ids(paths: list[Path]) -> list[str]:
    """Readable test ids: the file names without ``.txt``."""
    return [path.stem for path in paths]


def sysfs_files_from_grep(text: str) -> dict[str, str]:
    """Turn ``grep -H '' FILES`` output back into ``{absolute path: file text}``.

    Every captured sysfs file is exactly one line, so each ``path:content``
    line is one file whose text is ``content`` plus its newline. Relative paths
    (captured below a root directory) get a leading ``/``.
    """
    files: dict[str, str] = {}
    for line in text.splitlines():
        path, colon, content = line.partition(":")
        if not colon:
            raise ValueError(f"not a 'path:content' line: {line!r}")
        files[path if path.startswith("/") else "/" + path] = content + "\n"
    return files
