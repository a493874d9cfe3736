"""Classic accounts' passwords: kept as a salted, memory-hard scrypt hash (``scrypt$n$r$p$salt$hash``);
legacy unsalted SHA-256 entries (64 hex digits) are still accepted, and re-hashed at a good login."""

import base64
import hashlib
import hmac
import re
import secrets

# 2^15 × 8 × 128 bytes = 32 MiB and ~0.1 s a check: a guess costs an attacker as much. (OWASP: n ≥ 2^17 at
# r=8 for interactive logins of people; these are systems logging in every half hour, off the event loop.)
N, R, P = 2 ** 15, 8, 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * n * r * p,
                          dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def is_legacy(stored: str) -> bool:
    return bool(_HEX64.match(stored))


def is_hash(stored: str) -> bool:
    """A well-formed ``scrypt$…`` entry with sane costs (a configuration check)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        return 2 ** 14 <= n <= 2 ** 20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 4 \
            and len(_unb64(parts[4])) >= 16 and len(_unb64(parts[5])) == 32
    except ValueError:
        return False


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored entry (scrypt, or a legacy SHA-256); compared in constant time."""
    if is_legacy(stored):
        return hmac.compare_digest(hashlib.sha256(password.encode("utf-8")).hexdigest(), stored)
    if not is_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    return hmac.compare_digest(_scrypt(password, _unb64(salt), int(n), int(r), int(p)), _unb64(digest))


# An unknown username costs as much as a known one: timing does not tell which usernames exist.
_DUMMY = hash_password(secrets.token_hex(16))


def waste_time(password: str) -> bool:
    verify_password(password, _DUMMY)
    return False
