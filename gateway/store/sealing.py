"""Optional encryption of stored payloads (``packets.raw``): AES-256-GCM under a key ring.

What it protects against: a copy of the database that leaves without its key — a stolen disk or
backup, a dump handed to the wrong person, a database administrator who reads tables but does not
run the gateway. What it does not: anyone who runs the gateway or reads its environment or key
file (they hold the key), the metadata beside the payload (packet ids, dossier codes, agencies,
times, hashes), payloads in memory or on the wire, and what peers keep.

A sealed payload is ``MAGIC | len(key id) | key id | nonce (12) | ciphertext+tag``; the packet id is
the associated data, so a payload moved to another row does not open. A payload that does not start
with ``MAGIC`` is a plain one (stored before encryption was switched on): a received packet never
starts with a NUL byte (XML, JSON and JWS are text). Several keys coexist: the first of the ring
seals, every one opens; ``gateway db rekey`` re-seals the rest under the first.

The ring comes from ``GATEWAY_STORE_KEYS`` (``id:base64key[,id:base64key…]``) or from the file named
by ``GATEWAY_STORE_KEY_FILE`` (the same entries, one per line; ``#`` starts a comment). Keys are 32
random bytes: ``gateway db new-key ID`` prints one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
import os
from pathlib import Path
import re
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_ENV = "GATEWAY_STORE_KEYS"
KEY_FILE_ENV = "GATEWAY_STORE_KEY_FILE"
MAGIC = b"\x00ckn-gcm1"
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class SealingError(ValueError):
    """A key ring that cannot be used, or a payload sealed under a key the ring does not hold."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]  # key id → 32-byte key, in order: the first seals
    current: str

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        for entry in re.split(r"[,\n]", text):
            entry = entry.split("#", 1)[0].strip()
            if not entry:
                continue
            key_id, _, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not _KEY_ID.match(key_id) or key_id in keys:
                raise SealingError(f"store key id {key_id!r}: letters, digits, . _ - (at most 64), each once")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise SealingError(f"store key {key_id}: not base64") from None
            if len(key) != 32:
                raise SealingError(f"store key {key_id}: {len(key)} bytes, 32 needed (AES-256)")
            keys[key_id] = key
        if not keys:
            raise SealingError("the store key ring is empty")
        return cls(keys, next(iter(keys)))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> KeyRing | None:
        """The ring the environment names, or None: payloads are then stored as received."""
        env = os.environ if environ is None else environ
        if env.get(KEYS_ENV, "").strip():
            return cls.parse(env[KEYS_ENV])
        if env.get(KEY_FILE_ENV, "").strip():
            path = Path(env[KEY_FILE_ENV])
            if path.stat().st_mode & 0o077:
                raise SealingError(f"{path}: the store key file must be readable by its owner only (chmod 600)")
            return cls.parse(path.read_text(encoding="utf-8"))
        return None

    def seal(self, packet_id: str, raw: bytes) -> bytes:
        nonce, key_id = secrets.token_bytes(12), self.current.encode("ascii")
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, raw, packet_id.encode("utf-8"))
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed


def key_id_of(blob: bytes) -> str | None:
    """The id of the key a stored payload is sealed under; None for a plain one."""
    if not blob.startswith(MAGIC):
        return None
    length = blob[len(MAGIC)]
    return blob[len(MAGIC) + 1:len(MAGIC) + 1 + length].decode("ascii")


def unseal(ring: KeyRing | None, packet_id: str, blob: bytes) -> bytes:
    """The payload as received: a plain one as it is, a sealed one opened (its key must be in the ring)."""
    key_id = key_id_of(blob)
    if key_id is None:
        return blob
    if ring is None or key_id not in ring.keys:
        raise SealingError(f"packet {packet_id} is sealed under store key {key_id!r}, which is not in the key ring "
                        f"({KEYS_ENV} / {KEY_FILE_ENV})")
    start = len(MAGIC) + 1 + len(key_id)
    nonce, sealed = blob[start:start + 12], blob[start + 12:]
    return AESGCM(ring.keys[key_id]).decrypt(nonce, sealed, packet_id.encode("utf-8"))


def new_key_line(key_id: str) -> str:
    if not _KEY_ID.match(key_id):
        raise SealingError(f"store key id {key_id!r}: letters, digits, . _ - (at most 64)")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}"
