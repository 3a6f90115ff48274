"""Private keys for SSH login: key files (encrypted or not) and what the agent holds.

A key file is read like every local file the suite needs
(:mod:`vrouter_preflight.transport.local_files`: a regular file, at most
:data:`KEY_FILE_LIMIT`), decrypted with the passphrase from the environment
variable the inventory names (``identity_passphrase_env``), and kept for the
rest of the run (one decryption per key, not per host). An encrypted key
without its passphrase, or with a wrong one, is not an error by itself: its
public half (in the file's own header, or the ``.pub`` beside it) tells which
ssh-agent key is the same key, and that one is used instead, as OpenSSH does.

The passphrase is only ever handed to the key decoder: it is not part of any
message, log record, exception or dataclass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import struct
import threading
from dataclasses import dataclass

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from vrouter_preflight.errors import HostError
from vrouter_preflight.inventory import HostSpec
from vrouter_preflight.transport.local_files import KIB, LocalFileError, read_local_file, read_regular_file

#: The largest key file read: an RSA-16384 private key is about 12 KiB.
KEY_FILE_LIMIT = 64 * KIB
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
_OPENSSH_ARMOR = re.compile(rb"-----BEGIN OPENSSH PRIVATE KEY-----(.*?)-----END OPENSSH PRIVATE KEY-----", re.DOTALL)


class KeyUnusable(Exception):
    """A key file that holds no usable private key; the message says why (never a secret)."""


class KeyLocked(KeyUnusable):
    """An encrypted key file that could not be decrypted; ``public_blob`` finds its agent twin."""

    def __init__(self, reason: str, public_blob: bytes | None) -> None:
        super().__init__(reason)
        self.public_blob = public_blob


def identity_passphrase(spec: HostSpec) -> str | None:
    """The key passphrase from the environment variable the inventory names, or None.

    This is the one place that reads ``identity_passphrase_env``. A named
    variable that is unset is an error for the host; the message names the
    variable only when the value looks like a variable name (a passphrase
    pasted in by mistake is not echoed).

    >>> identity_passphrase(HostSpec(name="c0")) is None
    True
    """
    env_name = spec.identity_passphrase_env
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if value is None:
        named = f"names {env_name}, which" if _ENV_NAME.fullmatch(env_name) else "names a variable that"
        cause = f"identity_passphrase_env {named} is not set in the environment"
        raise HostError(spec.name, spec.display_address, cause)
    return value


@dataclass(frozen=True)
class _CacheKey:
    path: str
    file: tuple[int, int, int, int]
    passphrase_digest: bytes


class KeyFiles:
    """This process's decrypted key files, each loaded once per file version and passphrase.

    >>> KeyFiles().load("/nonexistent/id_ed25519", None)
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/id_ed25519'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[_CacheKey, paramiko.PKey | KeyUnusable] = {}
        self.decoded = 0

    def load(self, path: str, passphrase: str | None) -> paramiko.PKey:
        """The private key in ``path``.

        Raises FileNotFoundError, :class:`~vrouter_preflight.transport.local_files.LocalFileError`
        (not a regular file, too large), :class:`KeyLocked` (encrypted, no or a wrong
        passphrase) or :class:`KeyUnusable` (not a private key paramiko can use).
        """
        data, info = read_regular_file(path, KEY_FILE_LIMIT, "key file")
        digest = b"" if passphrase is None else hashlib.sha256(passphrase.encode()).digest()
        cache_key = _CacheKey(path, (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns), digest)
        with self._lock:
            cached = self._keys.get(cache_key)
        if cached is None:
            try:
                cached = decode_private_key(data, passphrase, path)
                _attach_certificate(cached, path)
            except KeyUnusable as exc:  # remembered too: a wrong passphrase costs one key derivation per run
                cached = exc
            with self._lock:
                self._keys[cache_key] = cached
                self.decoded += 1
        if isinstance(cached, KeyUnusable):
            raise cached.with_traceback(None)
        return cached


KEY_FILES = KeyFiles()
"""The key files this process has loaded."""


def decode_private_key(data: bytes, passphrase: str | None, path: str = "") -> paramiko.PKey:
    """A paramiko key from private key file contents (OpenSSH or PEM format, encrypted or not).

    ``path`` is used to find the ``.pub`` beside an encrypted legacy PEM key.

    >>> decode_private_key(b"not a key", None)
    Traceback (most recent call last):
    ...
    vrouter_preflight.transport.identities.KeyUnusable: not a private key file
    """
    loaded = _load(data, None)
    if loaded is None:  # encrypted
        if passphrase is None:
            locked = "encrypted: set identity_passphrase_env or load it into ssh-agent"
            raise KeyLocked(locked, _public_blob(data, path))
        try:
            loaded = _load(data, passphrase.encode())
        except KeyUnusable:
            loaded = None
        if loaded is None:
            wrong = "encrypted: the passphrase from identity_passphrase_env does not open it"
            raise KeyLocked(wrong, _public_blob(data, path))
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class: type[paramiko.PKey] = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise KeyUnusable(f"unsupported key type {type(loaded).__name__}")
    clear = loaded.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    try:
        return key_class.from_private_key(io.StringIO(clear.decode("ascii")))
    except (paramiko.SSHException, ValueError) as exc:
        raise KeyUnusable(f"paramiko cannot use it: {exc}") from None


def _load(data: bytes, password: bytes | None) -> object | None:
    """The cryptography key object; None when the key is encrypted and no password was given."""
    try:
        try:
            return serialization.load_ssh_private_key(data, password)
        except ValueError:
            if _OPENSSH_ARMOR.search(data):
                raise
            return serialization.load_pem_private_key(data, password)
    except TypeError:  # "Key is password-protected" (a password is only given for encrypted keys)
        return None
    except (ValueError, UnsupportedAlgorithm) as exc:
        if password is not None:
            raise KeyUnusable("wrong passphrase") from None
        if isinstance(exc, UnsupportedAlgorithm):
            raise KeyUnusable("unsupported key type or cipher") from None
        raise KeyUnusable("not a private key file") from None


def _public_blob(data: bytes, path: str) -> bytes | None:
    """The public key of an encrypted key file: from its OpenSSH header, else from ``path.pub``.

    >>> _public_blob(b"junk", "/nonexistent/id") is None
    True
    """
    armored = _OPENSSH_ARMOR.search(data)
    if armored is not None:
        try:
            return _openssh_public_blob(base64.b64decode(b"".join(armored.group(1).split())))
        except (binascii.Error, ValueError, struct.error):
            return None
    try:
        text = read_local_file(path + ".pub", KEY_FILE_LIMIT, "public key file").decode("ascii", "replace")
        return base64.b64decode(text.split()[1], validate=True)
    except (OSError, LocalFileError, IndexError, binascii.Error, ValueError):
        return None


def _openssh_public_blob(raw: bytes) -> bytes:
    """The first public key of an ``openssh-key-v1`` container (stored in clear before the encrypted part).

    >>> blob = b"\\x00\\x00\\x00\\x03pub"
    >>> body = b"openssh-key-v1\\x00" + b"\\x00\\x00\\x00\\x04none" * 2 + struct.pack(">II", 0, 1)
    >>> _openssh_public_blob(body + struct.pack(">I", len(blob)) + blob)
    b'\\x00\\x00\\x00\\x03pub'
    """
    if not raw.startswith(_OPENSSH_MAGIC):
        raise ValueError("not an openssh-key-v1 container")
    offset = len(_OPENSSH_MAGIC)
    for _ in range(3):  # cipher name, KDF name, KDF options
        (size,) = struct.unpack_from(">I", raw, offset)
        offset += 4 + size
    (count,) = struct.unpack_from(">I", raw, offset)
    if count < 1:
        raise ValueError("no key in the container")
    (size,) = struct.unpack_from(">I", raw, offset + 4)
    blob = raw[offset + 8 : offset + 8 + size]
    if len(blob) != size:
        raise ValueError("truncated public key")
    return blob


def _attach_certificate(key: paramiko.PKey, path: str) -> None:
    """Use ``path-cert.pub`` beside the key when there is one (as paramiko's ``from_path`` did)."""
    cert_path = path + "-cert.pub"
    try:
        text = read_local_file(cert_path, KEY_FILE_LIMIT, "certificate file").decode("ascii", "replace")
    except FileNotFoundError:
        return
    except LocalFileError as exc:
        raise KeyUnusable(str(exc)) from None
    try:
        key.load_certificate(text.strip())
    except (ValueError, paramiko.SSHException) as exc:
        raise KeyUnusable(f"its certificate {cert_path} does not fit: {exc}") from None
