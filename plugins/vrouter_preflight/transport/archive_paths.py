"""Paths inside a tar archive: following its symlinks, and choosing the members a capture can reach.

A full sosreport holds tens of thousands of files; the suite reads a few
dozen. :func:`select_members` keeps the members under the live paths the
capture reads (with whatever the archive's symlinks there lead to), every
symlink, and the directories of ``sos_commands/`` (they name the sos
plugins that ran), so unpacking writes what can be read and no more.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from tarfile import TarInfo

_MAX_SYMLINKS = 40  # as Linux (MAXSYMLINKS)


def member_path(name: str) -> str:
    """A member name without empty or ``.`` components.

    >>> member_path("./sosreport-c7//proc/./cmdline")
    'sosreport-c7/proc/cmdline'
    """
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def resolve_in_archive(path: str, symlinks: dict[str, str]) -> str | None:
    """Where the relative ``path`` leads once the archive's ``symlinks`` (name -> target) are followed.

    None when it leaves the archive (or loops): a chain like ``l2 -> l1/..``
    with ``l1 -> ..`` looks inside but is not.

    >>> resolve_in_archive("top/l2", {"top/l1": "..", "top/l2": "l1/.."}) is None
    True
    >>> resolve_in_archive("top/proc/mounts", {"top/proc/mounts": "self/mounts", "top/proc/self": "4242"})
    'top/proc/4242/mounts'
    """
    pending = member_path(path).split("/")
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not resolved:
                return None
            resolved.pop()
            continue
        target = symlinks.get("/".join([*resolved, part]))
        if target is None:
            resolved.append(part)
            continue
        hops += 1
        if hops > _MAX_SYMLINKS or target.startswith("/"):
            return None
        pending = [p for p in target.split("/") if p not in ("", ".")] + pending
    return "/".join(resolved)


def top_directory(names: Iterable[str]) -> str:
    """The one first component every member shares (``sosreport-…``), or '' when they do not share one.

    >>> top_directory(["sosreport-c7", "sosreport-c7/proc/cmdline"]), top_directory(["proc/cmdline", "sys"])
    ('sosreport-c7', '')
    """
    tops = {member_path(name).split("/", 1)[0] for name in names}
    return tops.pop() if len(tops) == 1 else ""


def _prefix_free(prefixes: Iterable[str]) -> list[str]:
    """The sorted prefixes without any that another one already starts."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return kept


def _under(name: str, roots: list[str]) -> bool:
    """True when a root of the sorted, prefix-free ``roots`` starts ``name`` (the largest root <= name is the one)."""
    index = bisect.bisect_right(roots, name) - 1
    return index >= 0 and name.startswith(roots[index])


def reachable_roots(top: str, live_prefixes: Iterable[str], symlinks: dict[str, str]) -> list[str]:
    """The member-name prefixes a capture of ``live_prefixes`` can reach, following the archive's symlinks.

    >>> links = {"t/proc/mounts": "self/mounts", "t/proc/self": "42"}
    >>> reachable_roots("t", ["/proc/mounts", "/proc/cmdline"], links)
    ['t/proc/42/mounts', 't/proc/cmdline', 't/proc/mounts']
    """
    base = f"{top}/" if top else ""
    names = sorted(symlinks)
    roots: set[str] = set()
    pending = [base + prefix.lstrip("/") for prefix in live_prefixes]
    done: set[str] = set()
    while pending:
        root = pending.pop()
        roots.add(root)
        resolved = resolve_in_archive(root, symlinks)  # a directory on the way may be a link
        if resolved is not None and resolved not in roots:
            pending.append(resolved)
        # Every symlink under this root leads somewhere the capture can follow: that is reachable too.
        start = bisect.bisect_left(names, root)
        for name in names[start:]:
            if not name.startswith(root):
                break
            if name not in done:
                done.add(name)
                target = resolve_in_archive(name, symlinks)
                if target is not None:
                    pending.append(target)
    return sorted(roots)


def select_members(members: Sequence[TarInfo], live_prefixes: Iterable[str]) -> list[TarInfo]:
    """The members to unpack for a capture of ``live_prefixes`` (in archive order).

    >>> import tarfile
    >>> def member(name, kind=tarfile.REGTYPE, link=""):
    ...     info = tarfile.TarInfo(name); info.type, info.linkname = kind, link; return info
    >>> links = [member("t/proc/mounts", tarfile.SYMTYPE, "self/mounts"), member("t/proc/self", tarfile.SYMTYPE, "42")]
    >>> members = [member("t", tarfile.DIRTYPE), member("t/proc/42/mounts"), member("t/proc/slabinfo"), *links]
    >>> [m.name for m in select_members(members, ["/proc/mounts"])]
    ['t/proc/42/mounts', 't/proc/mounts', 't/proc/self']
    """
    top = top_directory(m.name for m in members)
    symlinks = {member_path(m.name): m.linkname for m in members if m.issym()}
    roots = _prefix_free(reachable_roots(top, live_prefixes, symlinks))
    listed = f"{top}/sos_commands" if top else "sos_commands"  # its directories name the plugins that ran
    return [
        m
        for m in members
        if m.issym()
        or _under(member_path(m.name), roots)
        or (m.isdir() and member_path(m.name).rpartition("/")[0] == listed)
    ]
