"""The gateway's own signing key, behind a small interface.

``Signer`` is all that XML-DSig, JWS and receipt signing need: the certificate chain and
a ``sign(data)`` that returns the signature value as both XML-DSig and JWS encode it
(PKCS#1 v1.5 for RSA, raw ``r || s`` for ECDSA). ``KeySigner`` holds a key in memory,
loaded from PEM or PKCS#12; an HSM (PKCS#11) signer would implement the same protocol.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12


class SignerError(ValueError):
    """A key or certificate that cannot be used for signing; the message says which and why."""


class Signer(Protocol):
    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Intermediate certificates to send along (not the anchor)."""

    @property
    def algorithm(self) -> str:
        """``rsa-sha256`` | ``ecdsa-sha256`` | ``ecdsa-sha384`` | ``ecdsa-sha512`` (P-521)."""

    def sign(self, data: bytes) -> bytes:
        """The signature value over ``data`` with ``algorithm``."""


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sha384": hashes.SHA384,
                                                          "sha512": hashes.SHA512}


@dataclass(frozen=True)
class KeySigner:
    """A private key held in memory (PEM or PKCS#12 file)."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise SignerError("only RSA and ECDSA keys can sign")
        public = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        if public != self.certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo):
            raise SignerError("the private key does not belong to the certificate")

    @property
    def algorithm(self) -> str:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "rsa-sha256"
        return {256: "ecdsa-sha256", 384: "ecdsa-sha384"}.get(self.key.curve.key_size, "ecdsa-sha512")

    def sign(self, data: bytes) -> bytes:
        hash_algorithm = _HASHES[self.algorithm.rpartition("-")[2]]()
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hash_algorithm)
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hash_algorithm)))
        size = (self.key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    @classmethod
    def from_pem(cls, key_path: str | Path, cert_path: str | Path, password: bytes | None = None) -> KeySigner:
        """A PEM private key, and a PEM file whose first certificate is the signer's (the rest: chain)."""
        try:
            key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password)
            certs = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise SignerError(f"cannot load signing key {key_path} / certificate {cert_path}: {exc}") from exc
        return cls(key, certs[0], tuple(certs[1:]))  # type: ignore[arg-type]  # RSA or EC: __post_init__ refuses any other key

    @classmethod
    def from_pkcs12(cls, path: str | Path, password: bytes | None) -> KeySigner:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
        except (OSError, ValueError, TypeError) as exc:
            raise SignerError(f"cannot load PKCS#12 file {path}: {exc}") from exc
        if key is None or cert is None:
            raise SignerError(f"PKCS#12 file {path} holds no key and certificate")
        return cls(key, cert, tuple(extra or ()))  # type: ignore[arg-type]  # RSA or EC: __post_init__ refuses any other key

    @classmethod
    def from_config(cls, config: Any) -> KeySigner:
        """``[signing] key/cert`` (PEM) or ``pkcs12`` with the password in ``$pkcs12_password_env``."""
        section = config.section("signing")
        if section.get("pkcs12"):
            password = os.environ.get(str(section.get("pkcs12_password_env", "GATEWAY_SIGNING_PASSWORD")))
            return cls.from_pkcs12(section["pkcs12"], password.encode() if password else None)
        if section.get("key") and section.get("cert"):
            return cls.from_pem(section["key"], section["cert"])
        raise SignerError("no signing key configured: set [signing] key and cert, or pkcs12")


def load_signer(key: str | Path, cert: str | Path | None = None, password: bytes | None = None) -> KeySigner:
    """PKCS#12 when ``key`` ends in .p12/.pfx (certificate inside), else PEM key + certificate."""
    if Path(key).suffix.lower() in (".p12", ".pfx"):
        return KeySigner.from_pkcs12(key, password)
    if cert is None:
        raise SignerError("a PEM key needs its certificate (--cert)")
    return KeySigner.from_pem(key, cert, password)
