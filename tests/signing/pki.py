"""A throw-away test PKI, generated at test time with ``cryptography`` (no key is ever committed).

root CA → intermediate CA → end entities: a good RSA-2048 signer, ECDSA P-256 and P-384
signers, an expired one, a not-yet-valid one, a revoked one (listed in the intermediate's
CRL), one with the wrong key usage, an RSA-1024 one, one whose certificate is SHA-1-signed, a P-521 one, a self-signed one;
a rogue root with the *same subject* as the trusted root, with its own signer; and a
certificate naming the trusted intermediate as issuer but signed by another key.

Usable by any test: ``TestPKI.create(directory)`` writes PEM/PKCS#12 files and a trust
directory (``anchors/``, ``intermediates/``, ``crls/``) and offers ``policy()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.signer import KeySigner
from signing.trust import TrustPolicy

PASSWORD = b"test-password"  # PKCS#12 files of the test PKI only


@dataclass
class Issued:
    """A key and its certificate, with the files they were written to."""

    name: str
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    key_path: Path
    cert_path: Path
    p12_path: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def _name(common_name: str, organisation: str = "Cổng kết nối — PKI thử nghiệm", uid: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                  x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if uid:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attributes)


_KEY_USAGE_SIGN = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                encipher_only=False, decipher_only=False)
_KEY_USAGE_CA = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False)
_KEY_USAGE_ENCRYPT_ONLY = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                        data_encipherment=True, key_agreement=False, key_cert_sign=False,
                                        crl_sign=False, encipher_only=False, decipher_only=False)


def _resign_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """cryptography no longer signs certificates with SHA-1; real CAs did, so rebuild one by hand."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"].copy()
    tbs["signature"] = {"algorithm": "sha1_rsa"}
    signature = issuer_key.sign(tbs.dump(force=True), padding.PKCS1v15(), hashes.SHA1())
    rebuilt = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": {"algorithm": "sha1_rsa"},
                                     "signature_value": signature})
    return x509.load_der_x509_certificate(rebuilt.dump(force=True))


@dataclass
class TestPKI:
    __test__ = False  # not a pytest class

    directory: Path
    now: datetime
    issued: dict[str, Issued] = field(default_factory=dict)
    crl_path: Path | None = None
    root_crl_path: Path | None = None
    trust_dir: Path | None = None

    def __getitem__(self, name: str) -> Issued:
        return self.issued[name]

    # -- generation --

    def _issue(self, name: str, subject: x509.Name, key, issuer: Issued | None, *, ca: bool,
               not_before: datetime, not_after: datetime, key_usage: x509.KeyUsage | None = None,
               hash_algorithm: hashes.HashAlgorithm = hashes.SHA256(), path_length: int | None = None,  # noqa: B008 - an immutable algorithm object
               serial: int | None = None, ocsp_url: str | None = None) -> Issued:
        issuer_name = issuer.cert.subject if issuer else subject
        issuer_key = issuer.key if issuer else key
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
                   .add_extension(key_usage or (_KEY_USAGE_CA if ca else _KEY_USAGE_SIGN), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        if ocsp_url:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]),
                critical=False)
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                                   ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                            critical=False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        if isinstance(hash_algorithm, hashes.SHA1):
            cert = _resign_sha1(cert, issuer_key)
        key_path = self.directory / f"{name}.key.pem"
        cert_path = self.directory / f"{name}.cert.pem"
        p12_path = self.directory / f"{name}.p12"
        issued = Issued(name, key, cert, key_path, cert_path, p12_path)
        key_path.write_bytes(issued.key_pem)
        cert_path.write_bytes(issued.cert_pem)
        chain = [i.cert for i in (issuer,) if i and i.cert.subject != i.cert.issuer]
        p12_path.write_bytes(pkcs12.serialize_key_and_certificates(
            name.encode(), key, cert, chain or None, serialization.BestAvailableEncryption(PASSWORD)))
        self.issued[name] = issued
        return issued

    @classmethod
    def create(cls, directory: Path, now: datetime | None = None) -> TestPKI:
        directory.mkdir(parents=True, exist_ok=True)
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        pki = cls(directory, now)
        day = timedelta(days=1)

        def rsa2048() -> rsa.RSAPrivateKey:
            return rsa.generate_private_key(65537, 2048)

        valid = dict(not_before=now - 30 * day, not_after=now + 365 * day)

        root = pki._issue("root", _name("Test Root CA"), rsa2048(), None, ca=True,
                          not_before=now - 3650 * day, not_after=now + 3650 * day)
        inter = pki._issue("intermediate", _name("Test Intermediate CA"), rsa2048(), root, ca=True,
                           path_length=0, not_before=now - 365 * day, not_after=now + 1825 * day)
        pki._issue("signer", _name("Nguyễn Văn An", "Công dân", uid="001099001234"), rsa2048(), inter, ca=False, **valid)
        pki._issue("ec256", _name("Bank Signer P-256", "Ngân hàng thử nghiệm"), ec.generate_private_key(ec.SECP256R1()),
                   inter, ca=False, **valid)
        pki._issue("ec384", _name("Partner Signer P-384", "Hệ thống đối tác"), ec.generate_private_key(ec.SECP384R1()),
                   inter, ca=False, **valid)
        pki._issue("expired", _name("Expired Signer"), rsa2048(), inter, ca=False,
                   not_before=now - 400 * day, not_after=now - 10 * day)
        pki._issue("not_yet_valid", _name("Future Signer"), rsa2048(), inter, ca=False,
                   not_before=now + 10 * day, not_after=now + 400 * day)
        revoked = pki._issue("revoked", _name("Revoked Signer"), rsa2048(), inter, ca=False, **valid)
        pki._issue("wrong_usage", _name("Encryption Only"), rsa2048(), inter, ca=False,
                   key_usage=_KEY_USAGE_ENCRYPT_ONLY, **valid)
        pki._issue("rsa1024", _name("Weak RSA-1024 Signer"), rsa.generate_private_key(65537, 1024), inter, ca=False,
                   **valid)
        pki._issue("sha1", _name("SHA-1 Certified Signer"), rsa2048(), inter, ca=False,
                   hash_algorithm=hashes.SHA1(), **valid)
        pki._issue("ec521", _name("Signer P-521"), ec.generate_private_key(ec.SECP521R1()), inter, ca=False, **valid)
        pki._issue("self_signed", _name("Nguyễn Văn An", "Công dân", uid="001099001234"), rsa2048(), None, ca=False,
                   **valid)
        rogue_root = pki._issue("rogue_root", _name("Test Root CA"), rsa2048(), None, ca=True,
                                not_before=now - 3650 * day, not_after=now + 3650 * day)
        pki._issue("rogue_signer", _name("Nguyễn Văn An", "Công dân", uid="001099001234"), rsa2048(), rogue_root,
                   ca=False, **valid)
        # Names the trusted intermediate as issuer, but signed by the rogue root's key.
        forger = Issued("forger", rogue_root.key, inter.cert, rogue_root.key_path, rogue_root.cert_path,
                        rogue_root.p12_path)
        pki._issue("forged_issuer", _name("Forged Issuer Signer"), rsa2048(), forger, ca=False, **valid)

        # The intermediate's CRL: "revoked" was revoked a day ago.
        crl = (x509.CertificateRevocationListBuilder().issuer_name(inter.cert.subject)
               .last_update(now - day).next_update(now + 30 * day)
               .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(revoked.cert.serial_number)
                                        .revocation_date(now - day).build())
               .add_extension(x509.CRLNumber(1), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter.key.public_key()),
                              critical=False)
               .sign(inter.key, hashes.SHA256()))
        pki.crl_path = directory / "intermediate.crl"
        pki.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
        # The root's CRL (nothing revoked) speaks for the intermediate.
        root_crl = (x509.CertificateRevocationListBuilder().issuer_name(root.cert.subject)
                    .last_update(now - day).next_update(now + 30 * day)
                    .add_extension(x509.CRLNumber(1), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
                                   critical=False)
                    .sign(root.key, hashes.SHA256()))
        pki.root_crl_path = directory / "root.crl"
        pki.root_crl_path.write_bytes(root_crl.public_bytes(serialization.Encoding.PEM))

        trust = directory / "trust"
        for sub, files in (("anchors", [root.cert_path]), ("intermediates", [inter.cert_path]),
                           ("crls", [pki.crl_path, pki.root_crl_path])):
            (trust / sub).mkdir(parents=True, exist_ok=True)
            for file in files:
                (trust / sub / file.name).write_bytes(file.read_bytes())
        pki.trust_dir = trust
        return pki

    # -- use --

    def issue_signer(self, name: str, *, ocsp_url: str | None = None) -> Issued:
        """A further RSA-2048 end entity under the intermediate (e.g. naming an OCSP responder)."""
        return self._issue(name, _name(name), rsa.generate_private_key(65537, 2048), self["intermediate"], ca=False,
                           not_before=self.now - timedelta(days=30), not_after=self.now + timedelta(days=365),
                           ocsp_url=ocsp_url)

    def signer(self, name: str = "signer", *, chain: bool = True) -> KeySigner:
        """A ``KeySigner`` for an issued end entity, sending the intermediate along by default."""
        issued = self[name]
        return KeySigner(issued.key, issued.cert, (self["intermediate"].cert,) if chain else ())

    def policy(self, purpose: str = "test", *, with_crl: bool = True, **options) -> TrustPolicy:
        """Trusts the test root, knows the intermediate, and (by default) has the intermediate's CRL."""
        return TrustPolicy.from_paths(purpose, anchors=[self["root"].cert_path],
                                      intermediates=[self["intermediate"].cert_path],
                                      crls=[self.crl_path, self.root_crl_path] if with_crl else [], **options)
