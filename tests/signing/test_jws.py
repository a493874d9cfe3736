"""JWS over JSON packets: both serialisations, RS/PS/ES algorithms, x5c chains, canonical payloads,
header policy, and the same certificate outcomes as XML-DSig."""

import base64
import json
from datetime import timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from gateway.config import Config
from gateway.validate.pipeline import Validator
from signing.jws import b64url, looks_like_jws, sign_jws, verify_jws
from signing.report import Reason, Verdict, verdict_for
from tests.signing.pki import TestPKI
from tests.signing.xmltools import REPO

PACKET = json.loads((REPO / "examples" / "HoSo.json").read_text(encoding="utf-8"))


def handmade(pki: TestPKI, header: dict, payload: bytes | None = None, *, name: str = "signer",
             pss: bool = False) -> str:
    """A compact JWS built by hand (so tests can make the ones ``sign_jws`` never would)."""
    protected = b64url(json.dumps(header).encode())
    body = b64url(payload if payload is not None else rfc8785.dumps(PACKET))
    data = f"{protected}.{body}".encode()
    key = pki[name].key
    alg = header.get("alg", "RS256")
    hash_algorithm = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(alg[2:], hashes.SHA256())
    pad = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size) if pss \
        else padding.PKCS1v15()
    return f"{protected}.{body}.{b64url(key.sign(data, pad, hash_algorithm))}"


def x5c(pki: TestPKI, name: str = "signer") -> list[str]:
    from cryptography.hazmat.primitives import serialization
    return [base64.b64encode(pki[n].cert.public_bytes(serialization.Encoding.DER)).decode() for n in (name, "intermediate")]


@pytest.mark.parametrize("form", ["compact", "json"])
@pytest.mark.parametrize(("name", "alg"), [("signer", "RS256"), ("ec256", "ES256"), ("ec384", "ES384")])
def test_sign_and_verify(pki: TestPKI, name: str, alg: str, form: str) -> None:
    token = sign_jws(PACKET, pki.signer(name), serialization_form=form)
    assert looks_like_jws(token.encode())
    report, packet = verify_jws(token, pki.policy())
    assert report.verdict is Verdict.PASSED, report.to_dict()
    assert report.signatures[0].algorithms["signature"] == alg
    assert packet == PACKET


def test_verified_payload_is_a_valid_packet(pki: TestPKI) -> None:
    _, packet = verify_jws(sign_jws(PACKET, pki.signer()), pki.policy())
    report = Validator(Config.load()).validate(json.dumps(packet, ensure_ascii=False).encode(), "json")
    assert report.valid, [issue.message_en for issue in report.errors]


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS384", "PS512"])
def test_other_rsa_algorithms(pki: TestPKI, alg: str) -> None:
    token = handmade(pki, {"alg": alg, "x5c": x5c(pki)}, pss=alg.startswith("PS"))
    report, _ = verify_jws(token, pki.policy())
    assert report.verdict is Verdict.PASSED, report.to_dict()


def test_general_serialisation_and_signature_limit(pki: TestPKI) -> None:
    first = json.loads(sign_jws(PACKET, pki.signer(), serialization_form="json"))
    second = json.loads(sign_jws(PACKET, pki.signer("ec256"), serialization_form="json"))
    general = json.dumps({"payload": first["payload"], "signatures": [
        {"protected": first["protected"], "signature": first["signature"]},
        {"protected": second["protected"], "signature": second["signature"]}]})
    report, _ = verify_jws(general, pki.policy())
    assert report.signatures[0].reason is Reason.POLICY_FAILURE
    report, packet = verify_jws(general, pki.policy(max_signatures=2))
    assert report.verdict is Verdict.PASSED and len(report.signatures) == 2 and packet == PACKET


@pytest.mark.parametrize(("name", "verdict", "reason"), [
    ("expired", Verdict.INDETERMINATE, Reason.EXPIRED),
    ("revoked", Verdict.INDETERMINATE, Reason.REVOKED),
    ("wrong_usage", Verdict.INDETERMINATE, Reason.KEY_USAGE_FAILURE),
    ("rsa1024", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ("rogue_signer", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),
])
def test_certificate_outcomes(pki: TestPKI, name: str, verdict: Verdict, reason: Reason) -> None:
    report, _ = verify_jws(sign_jws(PACKET, pki.signer(name, chain=name != "rogue_signer")), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (verdict, reason), report.to_dict()


def test_p521_signer_cannot_make_an_accepted_jws(pki: TestPKI) -> None:
    with pytest.raises(ValueError, match="cannot make a JWS"):
        sign_jws(PACKET, pki.signer("ec521"))


def test_changed_payload_fails(pki: TestPKI) -> None:
    protected, payload, signature = sign_jws(PACKET, pki.signer()).split(".")
    changed = dict(PACKET, NoiNhan="KHAC")
    report, packet = verify_jws(f"{protected}.{b64url(rfc8785.dumps(changed))}.{signature}", pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE)
    assert packet is None


def test_swapped_x5c_fails(pki: TestPKI) -> None:
    token = handmade(pki, {"alg": "RS256", "x5c": x5c(pki, "revoked")}, name="signer")
    report, packet = verify_jws(token, pki.policy())
    assert report.signatures[0].reason is Reason.SIG_CRYPTO_FAILURE and packet is None


def test_non_canonical_payload_refused(pki: TestPKI) -> None:
    pretty = json.dumps(PACKET, indent=2, ensure_ascii=False).encode()
    report, packet = verify_jws(handmade(pki, {"alg": "RS256", "x5c": x5c(pki)}, pretty), pki.policy())
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE and "8785" in report.signatures[0].detail
    assert packet is None


def test_duplicate_keys_in_payload_refused(pki: TestPKI) -> None:
    duplicated = b'{"MaGoiTin":"a","MaGoiTin":"b"}'
    report, _ = verify_jws(handmade(pki, {"alg": "RS256", "x5c": x5c(pki)}, duplicated), pki.policy())
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE


@pytest.mark.parametrize(("header", "reason"), [
    ({"alg": "none", "x5c": None}, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ({"alg": "HS256", "x5c": None}, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ({"alg": "RS256"}, Reason.FORMAT_FAILURE),
    ({"alg": "RS256", "x5c": None, "jku": "http://127.0.0.1:9/keys"}, Reason.POLICY_FAILURE),
    ({"alg": "RS256", "x5c": None, "x5u": "http://127.0.0.1:9/cert"}, Reason.POLICY_FAILURE),
    ({"alg": "RS256", "x5c": None, "jwk": {"kty": "RSA"}}, Reason.POLICY_FAILURE),
    ({"alg": "RS256", "x5c": None, "crit": ["exp"], "exp": 1}, Reason.FORMAT_FAILURE),
    ({"alg": "RS256", "x5c": None, "b64": False, "crit": ["b64"]}, Reason.FORMAT_FAILURE),
    ({"alg": "RS256", "x5c": None, "x5t#S256": "AAAA"}, Reason.FORMAT_FAILURE),
])
def test_header_policy(pki: TestPKI, header: dict, reason: Reason) -> None:
    header = {k: (x5c(pki) if k == "x5c" else v) for k, v in header.items()}
    report, packet = verify_jws(handmade(pki, header), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (verdict_for(reason), reason), report.to_dict()
    assert packet is None


def test_alg_and_x5c_only_trusted_from_the_protected_header(pki: TestPKI) -> None:
    flattened = json.loads(sign_jws(PACKET, pki.signer(), serialization_form="json"))
    flattened["header"] = {"alg": "none"}
    report, _ = verify_jws(json.dumps(flattened), pki.policy())
    assert report.signatures[0].reason is Reason.POLICY_FAILURE


def test_es256_with_p384_certificate_refused(pki: TestPKI) -> None:
    token = sign_jws(PACKET, pki.signer("ec384"))
    protected, payload, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(protected + "=="))
    header["alg"] = "ES256"
    forged = f"{b64url(json.dumps(header).encode())}.{payload}.{signature}"
    report, _ = verify_jws(forged, pki.policy())
    assert report.signatures[0].reason is Reason.SIG_CRYPTO_FAILURE


def test_plain_packet_is_unsigned(pki: TestPKI) -> None:
    report, packet = verify_jws(json.dumps(PACKET), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.NO_SIGNATURE)
    assert packet is None


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c.d", "!!.??.**", '{"payload": 1}', '{"signature": "x"}',
                                  "{not json"])
def test_garbage_is_a_format_failure(pki: TestPKI, text: str) -> None:
    report, packet = verify_jws(text, pki.policy())
    assert report.verdict is Verdict.FAILED and report.signatures[0].reason is Reason.FORMAT_FAILURE
    assert packet is None


def test_claimed_time_from_packet(pki: TestPKI) -> None:
    from datetime import datetime
    from signing.trust import ZONE
    claimed = datetime(2024, 12, 16, 15, 30, 5, tzinfo=ZONE)
    report, _ = verify_jws(sign_jws(PACKET, pki.signer()), pki.policy(), now=claimed + timedelta(minutes=1))
    assert report.signatures[0].signing_time_source == "claimed"
    assert report.signatures[0].reason is Reason.NOT_YET_VALID  # the test signer did not exist in 2024


@pytest.mark.skipif(__import__("shutil").which("openssl") is None, reason="openssl command not installed")
@pytest.mark.parametrize("name", ["signer", "ec256", "ec384"])
def test_jws_signature_verifies_with_openssl(pki: TestPKI, tmp_path, name: str) -> None:
    """An independent check of the signature bytes: openssl dgst over the JWS signing input."""
    import subprocess
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    protected, payload, signature = sign_jws(PACKET, pki.signer(name)).split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    if name != "signer":  # JWS carries ECDSA as r || s; openssl wants DER
        half = len(raw) // 2
        raw = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    (tmp_path / "input").write_bytes(f"{protected}.{payload}".encode())
    (tmp_path / "signature").write_bytes(raw)
    digest = "-sha384" if name == "ec384" else "-sha256"
    public = tmp_path / "public.pem"  # openssl dgst -verify takes a public key, not a certificate
    subprocess.run(["openssl", "x509", "-in", str(pki[name].cert_path), "-pubkey", "-noout", "-out", str(public)],
                   check=True, timeout=30)
    result = subprocess.run(["openssl", "dgst", digest, "-verify", str(public), "-signature",
                             str(tmp_path / "signature"), str(tmp_path / "input")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "Verified OK" in result.stdout, result.stdout + result.stderr
