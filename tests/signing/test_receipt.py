"""Receipts (BienNhan): built for the exact received bytes, signed as XML-DSig or JWS, verified back."""

import hashlib
from datetime import datetime

import pytest

from gateway.config import Config
from gateway.receipt.biennhan import ACCEPTED, issue_receipt, sign_receipt
from gateway.validate.pipeline import Validator
from signing.jws import verify_jws
from signing.report import Verdict
from signing.signer import KeySigner, SignerError, load_signer
from signing.trust import ZONE
from signing.xmldsig import verify_xml
from tests.signing.pki import PASSWORD, TestPKI
from tests.signing.xmltools import NS, packet_bytes


def receipt(**options):
    received = packet_bytes()
    return received, issue_receipt(received, "3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23", sender="000.00.01.H22",
                                   recipient="000.00.01.H22", result=ACCEPTED, signature_verdict="passed",
                                   received_at=datetime(2024, 12, 16, 15, 30, 6, tzinfo=ZONE),
                                   note="Đã tiếp nhận", **options)


def test_receipt_content() -> None:
    received, packet = receipt()
    body = packet.body
    assert body.BamSHA256 == hashlib.sha256(received).hexdigest()
    assert body.ThoiGianNhan == "20241216153006" and body.KetQuaChuKy == "passed" and body.KetQua == ACCEPTED
    assert packet.MaThamChieu == body.MaGoiTinNhan == "3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23"


@pytest.mark.parametrize("encoding", ["xml", "json"])
def test_signed_receipt_verifies_and_validates(pki: TestPKI, encoding: str) -> None:
    _, packet = receipt()
    signed = sign_receipt(packet, pki.signer(), encoding)
    if encoding == "xml":
        report, element = verify_xml(signed, pki.policy())
        assert element.tag == f"{{{NS}}}GoiTin"
        assert Validator(Config.load()).validate(signed, "xml").valid
    else:
        report, data = verify_jws(signed, pki.policy())
        assert data["NoiDung"]["BienNhan"]["BamSHA256"] == packet.body.BamSHA256
    assert report.verdict is Verdict.PASSED, report.to_dict()


def test_signer_loading(pki: TestPKI) -> None:
    from_pem = load_signer(pki["signer"].key_path, pki["signer"].cert_path)
    from_p12 = load_signer(pki["signer"].p12_path, password=PASSWORD)
    assert from_pem.certificate == from_p12.certificate == pki["signer"].cert
    assert from_p12.chain == (pki["intermediate"].cert,)
    with pytest.raises(SignerError):
        load_signer(pki["signer"].p12_path, password=b"wrong")
    with pytest.raises(SignerError, match="does not belong"):
        KeySigner(pki["ec256"].key, pki["signer"].cert)
    with pytest.raises(SignerError):
        load_signer(pki["signer"].key_path)


def test_signer_from_config(pki: TestPKI, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(f'[signing]\npkcs12 = "{pki["ec384"].p12_path}"\npkcs12_password_env = "TEST_P12"\n')
    monkeypatch.setenv("TEST_P12", PASSWORD.decode())
    signer = KeySigner.from_config(Config.load(config_file))
    assert signer.algorithm == "ecdsa-sha384"
    with pytest.raises(SignerError, match="no signing key"):
        KeySigner.from_config(Config.load())
