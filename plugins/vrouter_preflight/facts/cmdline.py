"""``/proc/cmdline``: kernel parameters, init arguments and hugepage requests.

Tokenised like the kernel's ``next_arg()``: whitespace separates parameters
unless inside double quotes, ``param="a b"`` keeps the space and loses the
quotes, and a bare ``--`` ends the kernel's parameters: everything after it
is passed to init. Parameter names compare with ``-`` and ``_`` as equals,
as in the kernel's ``parameq()``.

Hugepage parameters follow ``mm/hugetlb.c``: ``hugepagesz=`` and
``default_hugepagesz=`` select (and register) a page size, and ``hugepages=``
applies to the most recently selected size, or to the default size when no
size was selected yet (that request has ``size_kib=None``: resolve it with
``default_hugepagesz=`` or meminfo's ``Hugepagesize``). As in the kernel, a
second ``hugepages=`` for the same size is ignored and the first
``default_hugepagesz=`` wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vrouter_preflight.facts.errors import FactParseError
from vrouter_preflight.facts.lines import parse_count
from vrouter_preflight.facts.sizes import parse_size_kib

INIT_SEPARATOR = "--"


@dataclass(frozen=True)
class HugepageRequest:
    """Boot-time hugepages asked for one page size.

    ``size_kib`` is ``None`` for the default size; ``count`` is the total
    (summed over nodes for the per-node form) and ``None`` when the size was
    only selected (``hugepagesz=1G`` with no ``hugepages=``); ``per_node`` is
    set only for the per-node form ``hugepages=0:2,1:2``.

    >>> HugepageRequest(1048576, 4, {0: 2, 1: 2}).per_node[1]
    2
    """

    size_kib: int | None
    count: int | None
    per_node: Mapping[int, int] | None = None


def _normalise(name: str) -> str:
    return name.replace("-", "_")


@dataclass(frozen=True)
class KernelCmdline:
    """Parameters in order as ``(name, value)`` (value ``None`` for a bare flag) and init arguments.

    >>> cmdline = parse_cmdline("ro console=tty0 console=ttyS0 -- --init-flag\\n")
    >>> cmdline.get("console"), cmdline.get_all("console"), cmdline.get("ro"), cmdline.init_args
    ('ttyS0', ('tty0', 'ttyS0'), None, ('--init-flag',))
    """

    params: tuple[tuple[str, str | None], ...]
    init_args: tuple[str, ...]
    source: str = field(default="/proc/cmdline", compare=False)

    def has(self, name: str) -> bool:
        """True when the parameter is present, with or without a value.

        >>> parse_cmdline("quiet").has("quiet")
        True
        """
        return bool(self.get_all(name))

    def get(self, name: str) -> str | None:
        """The value of the last ``name=`` (last wins); ``None`` when absent or a bare flag.

        >>> parse_cmdline("iommu=pt iommu=off").get("iommu")
        'off'
        """
        values = self.get_all(name)
        return values[-1] if values else None

    def get_all(self, name: str) -> tuple[str | None, ...]:
        """Every value of ``name`` in order (``None`` for bare occurrences).

        >>> parse_cmdline("nohz_full=1-3 nohz-full").get_all("nohz_full")
        ('1-3', None)
        """
        wanted = _normalise(name)
        return tuple(value for key, value in self.params if _normalise(key) == wanted)

    def default_hugepagesz_kib(self) -> int | None:
        """The first ``default_hugepagesz=`` in KiB (the kernel ignores later ones), or ``None``.

        >>> parse_cmdline("default_hugepagesz=1G default_hugepagesz=2M").default_hugepagesz_kib()
        1048576
        """
        values = [value for value in self.get_all("default_hugepagesz") if value is not None]
        return self._size_kib("default_hugepagesz", values[0]) if values else None

    def hugepage_requests(self) -> tuple[HugepageRequest, ...]:
        """One request per page size, in the order sizes are first named.

        >>> cmdline = parse_cmdline("hugepagesz=1G hugepages=0:2,1:2 default_hugepagesz=2M hugepages=64")
        >>> one_g, default = cmdline.hugepage_requests()
        >>> one_g.size_kib, one_g.count, dict(one_g.per_node or {}), default
        (1048576, 4, {0: 2, 1: 2}, HugepageRequest(size_kib=2048, count=64, per_node=None))
        """
        requests: dict[int | None, HugepageRequest] = {}
        selected: int | None = None
        for name, value in self.params:
            key = _normalise(name)
            if key in ("hugepagesz", "default_hugepagesz"):
                selected = self._size_kib(name, value)
                requests.setdefault(selected, HugepageRequest(selected, None))
            elif key == "hugepages":
                count, per_node = self._hugepage_count(value)
                earlier = requests.get(selected)
                if earlier is None or earlier.count is None:
                    requests[selected] = HugepageRequest(selected, count, per_node)
        return tuple(requests.values())

    def _size_kib(self, name: str, value: str | None) -> int:
        try:
            return parse_size_kib(value or "")
        except ValueError:
            raise FactParseError(self.source, 1, f"{name}= is not a size: {value!r}") from None

    def _hugepage_count(self, value: str | None) -> tuple[int, Mapping[int, int] | None]:
        """``N`` or the per-node form ``node:N,node:N``."""
        text = value or ""
        if ":" not in text:
            return parse_count(text, self.source, 1, None, "hugepages="), None
        per_node: dict[int, int] = {}
        for part in text.split(","):
            node_text, _, count_text = part.partition(":")
            node = parse_count(node_text, self.source, 1, None, "hugepages= node")
            if node in per_node:
                raise FactParseError(self.source, 1, f"hugepages= names node {node} twice: {text!r}")
            per_node[node] = parse_count(count_text, self.source, 1, None, "hugepages= count")
        return sum(per_node.values()), MappingProxyType(per_node)


def _raw_args(text: str, source: str) -> Iterator[str]:
    """Split like the kernel's ``next_arg()``: whitespace outside double quotes."""
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        start, in_quote = position, False
        while position < len(text) and (in_quote or not text[position].isspace()):
            if text[position] == '"':
                in_quote = not in_quote
            position += 1
        if in_quote:
            raise FactParseError(source, 1, f"unterminated double quote in {text[start:position]!r}")
        yield text[start:position]


def _unquote(arg: str) -> tuple[str, str | None]:
    """``(name, value)`` of one argument, dropping the quotes ``next_arg()`` drops."""
    if arg.startswith('"'):
        arg = arg[1:-1] if arg.endswith('"') and len(arg) > 1 else arg[1:]
    name, equals, value = arg.partition("=")
    if not equals:
        return name, None
    if value.startswith('"'):
        value = value[1:-1] if value.endswith('"') and len(value) > 1 else value[1:]
    return name, value


def parse_cmdline(text: str, source: str = "/proc/cmdline") -> KernelCmdline:
    """Parse ``/proc/cmdline`` (one line; the final newline is optional).

    >>> parse_cmdline('root=LABEL=/ dyndbg="file x.c +p" quiet').params
    (('root', 'LABEL=/'), ('dyndbg', 'file x.c +p'), ('quiet', None))
    """
    lines = text.splitlines()
    if len(lines) > 1:
        raise FactParseError(source, 2, "the kernel command line is one line", lines[1])
    args = list(_raw_args(lines[0] if lines else "", source))
    kernel_args, init_args = args, []
    if INIT_SEPARATOR in args:
        cut = args.index(INIT_SEPARATOR)
        kernel_args, init_args = args[:cut], args[cut + 1 :]
    init_params = (_unquote(arg) for arg in init_args)
    return KernelCmdline(
        tuple(_unquote(arg) for arg in kernel_args),
        tuple(name if value is None else f"{name}={value}" for name, value in init_params),
        source,
    )
