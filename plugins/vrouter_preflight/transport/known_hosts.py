"""OpenSSH known_hosts text, parsed once into an index (pure: no file I/O here).

A known_hosts line is ``[marker] hosts key-type base64 [comment]``. ``hosts``
is a comma-separated list of names and patterns (``*`` and ``?`` wildcards,
``!`` negation, ``[host]:port``), or one hashed name ``|1|salt|hmac``
(``HashKnownHosts yes``). What OpenSSH cannot use it skips, and so does this
parser: a junk line, a key type it does not know, a base64 blob whose own type
differs from the line's, a malformed hash, an unknown marker. Marker
``@revoked`` is kept (the key is refused for the hosts it names);
``@cert-authority`` is skipped (the suite does not check host certificates).
Keys are kept as their wire blobs: comparing a server's key is comparing bytes,
and a key type paramiko cannot load (``sk-ssh-ed25519@openssh.com``) costs
nothing.

:class:`KnownHostsIndex` answers "which lines name this host" with a dict for
plain names, one match per wildcard line, and one HMAC-SHA1 per hashed line
(each has its own salt, so that part is per line); answers are remembered per
name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

#: Plain (non-certificate) key types OpenSSH 9 reads from known_hosts (XMSS is left out, as in default builds).
KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
REVOKED = "@revoked"
_HASH_MAGIC = "|1|"
_SHA1_SIZE = 20
_SHA1_BLOCK = 64


@dataclass(frozen=True)
class KnownHostsLine:
    """One usable known_hosts line: where it is, its key, and its marker (None or ``@revoked``).

    >>> line = KnownHostsLine("kh", 3, "ssh-ed25519", b"blob")
    >>> line.where
    'kh line 3'
    """

    path: str
    lineno: int
    key_type: str
    blob: bytes
    marker: str | None = None

    @property
    def where(self) -> str:
        """``path line N``, for messages."""
        return f"{self.path} line {self.lineno}"


@dataclass(frozen=True)
class HostPatterns:
    """A line's host patterns: it names a host when one positive pattern matches and no negated one does.

    >>> p = HostPatterns.parse("*.lab,!bad.lab")
    >>> p.matches("c0.lab"), p.matches("bad.lab"), p.matches("c0.prod")
    (True, False, False)
    """

    literal: tuple[str, ...] = ()
    wildcard: tuple[re.Pattern[str], ...] = ()
    negated: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, field_text: str) -> HostPatterns:
        """Split a comma-separated host field (lower-cased, as OpenSSH compares)."""
        literal: list[str] = []
        wildcard: list[re.Pattern[str]] = []
        negated: list[re.Pattern[str]] = []
        for raw in field_text.lower().split(","):
            if raw.startswith("!"):
                if raw[1:]:
                    negated.append(_glob(raw[1:]))
            elif any(ch in raw for ch in "*?"):
                wildcard.append(_glob(raw))
            elif raw:
                literal.append(raw)
        return cls(tuple(literal), tuple(wildcard), tuple(negated))

    @property
    def plain(self) -> bool:
        """True when the line is only literal names (then a dict answers for it)."""
        return not self.wildcard and not self.negated

    def matches(self, name: str) -> bool:
        """OpenSSH's ``match_hostname`` for a lower-cased ``name``."""
        if any(p.fullmatch(name) for p in self.negated):
            return False
        return name in self.literal or any(p.fullmatch(name) for p in self.wildcard)


def _glob(pattern: str) -> re.Pattern[str]:
    """OpenSSH host pattern: only ``*`` and ``?`` are special (``[host]:port`` is literal).

    >>> bool(_glob("[127.0.0.1]:2222").fullmatch("[127.0.0.1]:2222")), bool(_glob("c?.lab").fullmatch("c1.lab"))
    (True, True)
    """
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), re.DOTALL)


@dataclass(frozen=True)
class HashedName:
    """A ``|1|salt|hmac`` host field: HMAC-SHA1 of the name keyed with the salt.

    >>> h = HashedName.parse("|1|AAECAwQFBgcICQoLDA0ODxAREhM=|VABW/swdBkyrjlPVEv2j1at0yDU=")
    >>> h.matches("192.168.1.61"), h.matches("192.168.1.62")
    (True, False)
    """

    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, field_text: str) -> HashedName | None:
        """The hashed name, or None when the field is not a well-formed ``|1|`` hash."""
        if not field_text.startswith(_HASH_MAGIC):
            return None
        salt_text, sep, digest_text = field_text[len(_HASH_MAGIC) :].partition("|")
        if not sep:
            return None
        try:
            salt = base64.b64decode(salt_text, validate=True)
            digest = base64.b64decode(digest_text, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(salt) != _SHA1_SIZE or len(digest) != _SHA1_SIZE:
            return None
        return cls(salt, digest)

    def matches(self, name: str) -> bool:
        """True when ``name`` hashes to this field (one HMAC-SHA1)."""
        return self.matches_encoded(name.encode())

    def matches_encoded(self, name: bytes) -> bool:
        """:meth:`matches` for a name already encoded.

        The HMAC's keyed inner and outer SHA-1 states are made once per line
        and copied per name: half the cost of ``hmac.digest`` per call.
        """
        inner, outer = self._keyed_states
        hashed = inner.copy()
        hashed.update(name)
        final = outer.copy()
        final.update(hashed.digest())
        return final.digest() == self.digest

    @cached_property
    def _keyed_states(self) -> tuple[hashlib._Hash, hashlib._Hash]:
        key = self.salt.ljust(_SHA1_BLOCK, b"\0")  # the salt (20 bytes) is shorter than a block
        return hashlib.sha1(bytes(b ^ 0x36 for b in key)), hashlib.sha1(bytes(b ^ 0x5C for b in key))


@dataclass(frozen=True)
class SkippedLine:
    """A line OpenSSH would not use either, and why (for debug logs).

    >>> SkippedLine(2, "unknown key type 'foo'").reason
    "unknown key type 'foo'"
    """

    lineno: int
    reason: str


@dataclass(frozen=True)
class ParsedLine:
    """One parsed line: the key and how its hosts are named."""

    line: KnownHostsLine
    patterns: HostPatterns | None = None
    hashed: HashedName | None = None

    def matches(self, name: str) -> bool:
        """True when the line names the lower-cased ``name``."""
        if self.hashed is not None:
            return self.hashed.matches(name)
        return self.patterns is not None and self.patterns.matches(name)


def parse_line(path: str, lineno: int, text: str) -> ParsedLine | SkippedLine | None:
    """Parse one known_hosts line: None for a blank line or comment.

    >>> k = "AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
    >>> parse_line("kh", 1, f"[127.0.0.1]:2222,c0 ssh-ed25519 {k} comment").line.key_type
    'ssh-ed25519'
    >>> parse_line("kh", 2, f"@cert-authority *.lab ssh-ed25519 {k}").reason
    'marker @cert-authority is not supported (no host certificates)'
    >>> parse_line("kh", 3, "c1 ssh-rsa not-base64!").reason
    'the key is not valid base64'
    >>> parse_line("kh", 4, "# comment") is None
    True
    """
    fields = text.split()
    if not fields or fields[0].startswith("#"):
        return None
    marker: str | None = None
    if fields[0].startswith("@"):
        marker, fields = fields[0], fields[1:]
        if marker == "@cert-authority":
            return SkippedLine(lineno, "marker @cert-authority is not supported (no host certificates)")
        if marker != REVOKED:
            return SkippedLine(lineno, f"unknown marker {marker[:40]!r}")
    if len(fields) < 3:
        return SkippedLine(lineno, "fewer than three fields (hosts, key type, key)")
    hosts, key_type, key_text = fields[:3]
    if key_type not in KEY_TYPES:
        return SkippedLine(lineno, f"unknown key type {key_type[:60]!r}")
    try:
        blob = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        return SkippedLine(lineno, "the key is not valid base64")
    if _blob_type(blob) != key_type:
        return SkippedLine(lineno, f"the key is not a {key_type} key")
    line = KnownHostsLine(path, lineno, key_type, blob, marker)
    if hosts.startswith("|"):
        hashed = HashedName.parse(hosts)
        if hashed is None:
            return SkippedLine(lineno, "malformed hashed host name")
        return ParsedLine(line, hashed=hashed)
    return ParsedLine(line, patterns=HostPatterns.parse(hosts))


def _blob_type(blob: bytes) -> str | None:
    """The key type a wire-format public key names in its first field.

    >>> _blob_type(b"\\x00\\x00\\x00\\x0bssh-ed25519" + b"\\x00" * 36), _blob_type(b"\\x00")
    ('ssh-ed25519', None)
    """
    if len(blob) < 4:
        return None
    (size,) = struct.unpack(">I", blob[:4])
    if size > 64 or len(blob) < 4 + size:
        return None
    return blob[4 : 4 + size].decode("ascii", "replace")


@dataclass
class KnownHostsIndex:
    """The usable lines of one known_hosts file, indexed for lookups by host name.

    Lines can be added later (:meth:`add_text`, when the file grew); answers
    remembered so far are then dropped. Safe to share between threads.

    >>> k = "AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
    >>> index = KnownHostsIndex("kh")
    >>> index.add_text(f"c0,c1 ssh-ed25519 {k}\\n*.lab,!bad.lab ssh-ed25519 {k}\\njunk\\n")
    >>> [line.lineno for line in index.lookup("C1")], [line.lineno for line in index.lookup("x.lab")]
    ([1], [2])
    >>> index.lookup("bad.lab"), [s.lineno for s in index.skipped]
    ((), [3])
    """

    path: str
    lines: int = 0
    skipped: list[SkippedLine] = field(default_factory=list)
    _by_name: dict[str, list[KnownHostsLine]] = field(default_factory=dict)
    _patterned: list[tuple[HostPatterns, KnownHostsLine]] = field(default_factory=list)
    _hashed: list[tuple[HashedName, KnownHostsLine]] = field(default_factory=list)
    _answers: dict[str, tuple[KnownHostsLine, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def hashed_lines(self) -> int:
        """How many hashed lines a lookup of a new name must HMAC."""
        return len(self._hashed)

    def add_text(self, text: str) -> None:
        """Parse ``text`` (whole lines) as the lines that follow those already indexed."""
        parts = split_lines(text)
        with self._lock:
            for lineno, raw in enumerate(parts, start=self.lines + 1):
                self._add(parse_line(self.path, lineno, raw))
            self.lines += len(parts)
            self._answers.clear()

    def _add(self, parsed: ParsedLine | SkippedLine | None) -> None:
        if parsed is None:
            return
        if isinstance(parsed, SkippedLine):
            self.skipped.append(parsed)
        elif parsed.hashed is not None:
            self._hashed.append((parsed.hashed, parsed.line))
        elif parsed.patterns is not None and parsed.patterns.plain:
            for name in dict.fromkeys(parsed.patterns.literal):
                self._by_name.setdefault(name, []).append(parsed.line)
        elif parsed.patterns is not None:
            self._patterned.append((parsed.patterns, parsed.line))

    def lookup(self, name: str) -> tuple[KnownHostsLine, ...]:
        """Every line that names ``name`` (``host`` or ``[host]:port``), in file order."""
        wanted = name.lower()
        with self._lock:
            answer = self._answers.get(wanted)
            if answer is None:
                answer = self._answers[wanted] = tuple(sorted(self._find(wanted), key=lambda line: line.lineno))
            return answer

    def _find(self, name: str) -> Iterable[KnownHostsLine]:
        yield from self._by_name.get(name, ())
        yield from (line for patterns, line in self._patterned if patterns.matches(name))
        encoded = name.encode()
        yield from (line for hashed, line in self._hashed if hashed.matches_encoded(encoded))


def split_lines(text: str) -> list[str]:
    """Lines as OpenSSH counts them: split at newlines only (a form feed is not a line break).

    >>> split_lines("a\\r\\nb\\x0cc\\n"), split_lines("a\\nb"), split_lines("")
    (['a', 'b\\x0cc'], ['a', 'b'], [])
    """
    parts = [part.rstrip("\r") for part in text.split("\n")]
    if parts[-1] == "":
        parts.pop()
    return parts


def scan_lines(path: str, text: str, name: str) -> list[KnownHostsLine]:
    """The lines naming ``name``, found by parsing and matching every line (no index).

    The plain scan :class:`KnownHostsIndex` must agree with, and the bench's
    baseline (what every lookup cost before the index).

    >>> k = "AAAAC3NzaC1lZDI1NTE5AAAAIPlzk3PTv7mdS9onqgmuj2goIeFMhRPQ761e9DUAUFAw"
    >>> [line.lineno for line in scan_lines("kh", f"a ssh-ed25519 {k}\\nb ssh-ed25519 {k}\\n", "b")]
    [2]
    """
    wanted = name.lower()
    found: list[KnownHostsLine] = []
    for lineno, raw in enumerate(split_lines(text), start=1):
        parsed = parse_line(path, lineno, raw)
        if not isinstance(parsed, ParsedLine):
            continue
        if parsed.matches(wanted):
            found.append(parsed.line)
    return found
