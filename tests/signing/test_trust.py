"""Trust configuration: shipped anchors, loading, and certificate path validation at a signing time."""

from datetime import timedelta

import pytest

from signing.report import Reason, Verdict
from signing.trust import (ANCHORS_DIR, TrustError, TrustPolicy, describe_name, fingerprint, load_certificates,
                           load_crls, validate_chain)
from tests.signing.pki import TestPKI
from asn1crypto import pem, x509 as asn1_x509

SHIPPED = {
    "vnrca256.crt": "BA:C8:BF:60:9A:B4:20:A8:EE:17:80:D7:4F:4D:E5:C7:F7:18:49:59:D2:A7:37:5B:0A:75:E4:C2:9F:09:08:E7",
    "vnpt-ca-sha2.crt": "7D:6B:A5:24:53:17:F9:ED:5D:8B:C7:65:A4:63:4D:26:AC:63:40:D3:6B:9F:58:4D:F3:B5:2D:9C:4A:81:A3:06",
    "rootcag2.crt": "F0:4B:A4:B4:59:A7:C9:A1:B9:71:AD:9B:1C:B8:33:E6:95:A8:0C:79:AE:A6:3B:17:4B:66:A7:0E:DF:E2:FD:B8",
    "cpcag2.crt": "D8:CA:B7:A4:AE:F9:2E:6B:B2:50:9D:7C:61:CE:E7:B4:4F:37:31:B2:D2:10:74:96:35:30:27:7B:36:6F:AE:4B",
}


def cert_of(issued) -> asn1_x509.Certificate:
    return load_certificates(issued.cert_pem)[0]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_anchor_fingerprints(name: str) -> None:
    certs = load_certificates((ANCHORS_DIR / name).read_bytes())
    assert len(certs) == 1
    assert fingerprint(certs[0]) == SHIPPED[name]


def test_vnpt_ca_chains_to_the_national_root() -> None:
    policy = TrustPolicy.from_paths("citizen", anchors=["vnrca256.crt"])
    vnpt = load_certificates((ANCHORS_DIR / "vnpt-ca-sha2.crt").read_bytes())[0]
    at = vnpt["tbs_certificate"]["validity"]["not_before"].native + timedelta(days=30)
    result = validate_chain(policy, vnpt, at=at)
    # VNPT-CA is a CA certificate (keyCertSign), so as a *signer* it fails key usage — after the path held.
    assert result.reason in (Reason.KEY_USAGE_FAILURE, Reason.OK)
    assert len(result.path) == 2


def test_government_ca_chains_to_its_root() -> None:
    policy = TrustPolicy.from_paths("partner", anchors=["rootcag2.crt"])
    cpca = load_certificates((ANCHORS_DIR / "cpcag2.crt").read_bytes())[0]
    at = cpca["tbs_certificate"]["validity"]["not_before"].native + timedelta(days=30)
    assert len(validate_chain(policy, cpca, at=at).path) == 2


def test_trust_directory_layouts(pki: TestPKI, tmp_path) -> None:
    structured = TrustPolicy.from_directory(pki.trust_dir)
    assert [fingerprint(c) for c in structured.anchors] == [fingerprint(cert_of(pki["root"]))]
    assert len(structured.intermediates) == 1 and len(structured.crls) == 2
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "root.pem").write_bytes(pki["root"].cert_pem)
    (flat / "intermediate.crl").write_bytes(pki.crl_path.read_bytes())
    policy = TrustPolicy.from_directory(flat)
    assert len(policy.anchors) == 1 and len(policy.crls) == 1 and not policy.intermediates
    (flat / "issuing-ca.cer").write_bytes(pki["intermediate"].cert_pem)  # a flat folder as people hand it
    policy = TrustPolicy.from_directory(flat)
    assert [fingerprint(c) for c in policy.anchors] == [fingerprint(cert_of(pki["root"]))]
    assert [fingerprint(c) for c in policy.intermediates] == [fingerprint(cert_of(pki["intermediate"]))]
    described = policy.describe()
    assert "Test Root CA" in described["anchors"][0]
    assert "Intermediate" in described["intermediates"][0] and len(described["crls"]) == 1
    with pytest.raises(TrustError):
        TrustPolicy.from_directory(tmp_path / "missing")
    (flat / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(TrustError, match="broken.pem"):
        TrustPolicy.from_directory(flat)


def test_config_purposes_load_the_shipped_anchors() -> None:
    from gateway.config import Config
    config = Config.load()
    citizen = TrustPolicy.from_config(config, "citizen")
    assert {fingerprint(c) for c in citizen.anchors} == {SHIPPED["vnrca256.crt"]}
    assert {fingerprint(c) for c in citizen.intermediates} == {SHIPPED["vnpt-ca-sha2.crt"]}
    partner = TrustPolicy.from_config(config, "partner")
    assert SHIPPED["rootcag2.crt"] in {fingerprint(c) for c in partner.anchors}
    assert citizen.algorithms.min_rsa_bits == 2048 and "sha1" not in citizen.algorithms.digests
    with pytest.raises(TrustError, match="unknown signing purpose"):
        TrustPolicy.from_config(config, "nobody")


@pytest.mark.parametrize(("name", "verdict", "reason"), [
    ("signer", Verdict.PASSED, Reason.OK),
    ("ec256", Verdict.PASSED, Reason.OK),
    ("ec384", Verdict.PASSED, Reason.OK),
    ("expired", Verdict.INDETERMINATE, Reason.EXPIRED),
    ("not_yet_valid", Verdict.FAILED, Reason.NOT_YET_VALID),
    ("revoked", Verdict.INDETERMINATE, Reason.REVOKED),
    ("wrong_usage", Verdict.INDETERMINATE, Reason.KEY_USAGE_FAILURE),
    ("sha1", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ("rogue_signer", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),
    ("self_signed", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),
])
def test_chain_outcomes(pki: TestPKI, name: str, verdict: Verdict, reason: Reason) -> None:
    result = validate_chain(pki.policy(), cert_of(pki[name]))
    assert (result.verdict, result.reason) == (verdict, reason), result.detail
    assert "001099001234" not in result.detail  # the engine's messages quote subjects: masked


def test_revocation_without_crl_is_reported_not_done(pki: TestPKI) -> None:
    policy = pki.policy(with_crl=False)
    result = validate_chain(policy, cert_of(pki["signer"]))
    assert result.verdict is Verdict.PASSED
    assert any(item.startswith("revocation:") for item in result.checks_not_done)
    # Without the CRL the revoked certificate cannot be caught — and the report says why.
    revoked = validate_chain(policy, cert_of(pki["revoked"]))
    assert any(item.startswith("revocation:") for item in revoked.checks_not_done)
    with_crl = validate_chain(pki.policy(), cert_of(pki["signer"]))
    assert with_crl.checks_not_done == []


def test_revocation_required_makes_missing_crl_indeterminate(pki: TestPKI) -> None:
    result = validate_chain(pki.policy(with_crl=False, revocation_mode="require"), cert_of(pki["signer"]))
    assert result.verdict is Verdict.INDETERMINATE


def test_validation_at_signing_time(pki: TestPKI) -> None:
    policy = pki.policy()
    expired = cert_of(pki["expired"])
    # At a time inside its validity (and after the intermediate's start) the expired signer held.
    assert validate_chain(policy, expired, at=pki.now - timedelta(days=100)).verdict is Verdict.PASSED
    signer = cert_of(pki["signer"])
    assert validate_chain(policy, signer).verdict is Verdict.PASSED
    # The warm cache still re-checks validity at the new time.
    late = validate_chain(policy, signer, at=pki.now + timedelta(days=400))
    assert (late.verdict, late.reason) == (Verdict.INDETERMINATE, Reason.EXPIRED)


def test_revoked_before_revocation_date_passes(pki: TestPKI) -> None:
    # Revoked a day ago: a signature made two days ago is still good (CRL revocation date).
    result = validate_chain(pki.policy(), cert_of(pki["revoked"]), at=pki.now - timedelta(days=2))
    assert result.verdict is Verdict.PASSED, result.detail


def test_cached_pass_in_the_past_does_not_hide_a_later_revocation(pki: TestPKI) -> None:
    policy = pki.policy()
    revoked = cert_of(pki["revoked"])  # revoked a day ago
    assert validate_chain(policy, revoked, at=pki.now - timedelta(days=2)).verdict is Verdict.PASSED
    later = validate_chain(policy, revoked)
    assert (later.verdict, later.reason) == (Verdict.INDETERMINATE, Reason.REVOKED)
    # …while a pass for "now" is reused, for now and for earlier times.
    signer = cert_of(pki["signer"])
    first = validate_chain(policy, signer)
    assert validate_chain(policy, signer) is first
    assert validate_chain(policy, signer, at=pki.now - timedelta(days=1)) is first


def test_signing_time_choice(pki: TestPKI) -> None:
    policy = pki.policy(claimed_time_tolerance=timedelta(minutes=5))
    now = pki.now
    assert policy.signing_time(timestamp=now - timedelta(days=3), now=now) == (now - timedelta(days=3), "timestamp")
    assert policy.signing_time(claimed=now - timedelta(minutes=2), now=now) == (now - timedelta(minutes=2), "claimed")
    assert policy.signing_time(claimed=now - timedelta(days=2), now=now) == (now, "now")
    assert policy.signing_time(now=now) == (now, "now")


def test_subject_identifiers_are_masked(pki: TestPKI) -> None:
    text = describe_name(cert_of(pki["signer"]).subject)
    assert "001099001234" not in text
    assert "0010****1234" in text
    assert "CN=Nguyễn Văn An" in text


def test_no_anchors_is_indeterminate(pki: TestPKI) -> None:
    result = validate_chain(TrustPolicy("empty"), cert_of(pki["signer"]))
    assert (result.verdict, result.reason) == (Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND)


def _flat_and_bundle(pki: TestPKI, tmp_path) -> tuple:
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "root.pem").write_bytes(pki["root"].cert_pem)
    (flat / "issuing-ca.crt").write_bytes(pki["intermediate"].cert_pem)
    crls = [pem.armor("X509 CRL", crl.dump()) for path in (pki.crl_path, pki.root_crl_path)
            for crl in load_crls(path.read_bytes())]
    (flat / "issuing-ca.crl").write_bytes(crls[0])
    (flat / "root.crl").write_bytes(crls[1])
    bundle = tmp_path / "bundle.pem"  # intermediate first: the order must not matter
    bundle.write_bytes(pki["intermediate"].cert_pem + pki["root"].cert_pem + b"".join(crls))
    return flat, bundle


@pytest.mark.parametrize("form", ["flat", "bundle"])
def test_flat_folder_and_bundle_validate_like_structured_trust(pki: TestPKI, tmp_path, form: str) -> None:
    """The issue's case: root + issuing CA + the issuing CA's CRL in one folder. Taking every
    certificate as an anchor left the CRL issuer's chain unfound (REVOCATION_UNKNOWN)."""
    flat, bundle = _flat_and_bundle(pki, tmp_path)
    policy = TrustPolicy.from_directory(flat if form == "flat" else bundle, revocation_mode="hard-fail")
    assert len(policy.anchors) == 1 and len(policy.intermediates) == 1 and len(policy.crls) == 2
    good = validate_chain(policy, cert_of(pki["signer"]))
    assert (good.verdict, good.reason) == (Verdict.PASSED, Reason.OK), good.detail
    assert not [note for note in good.checks_not_done if note.startswith("revocation:")]
    revoked = validate_chain(policy, cert_of(pki["revoked"]))
    assert revoked.reason is Reason.REVOKED


# --- ETSI EN 319 102-1: what a proof of existence (a trusted timestamp) changes ----------------------

def _etsi(result) -> tuple[Verdict, str | None]:
    from signing.report import SignatureReport
    report = SignatureReport(result.verdict, result.reason, sub_indication=result.sub_indication)
    return result.verdict, report.to_dict().get("sub_indication")


def test_expired_without_proof_of_time_is_indeterminate(pki: TestPKI) -> None:
    expired = cert_of(pki["expired"])
    # revocation checked up to its expiry (the CRLs say nothing against it): OUT_OF_BOUNDS_NOT_REVOKED
    assert _etsi(validate_chain(pki.policy(), expired)) == (Verdict.INDETERMINATE, "OUT_OF_BOUNDS_NOT_REVOKED")
    # no revocation data: nothing is known beyond the expiry either
    assert _etsi(validate_chain(pki.policy(with_crl=False), expired)) == (Verdict.INDETERMINATE,
                                                                           "OUT_OF_BOUNDS_NO_POE")
    # a timestamp proving the signature was made after the expiry: failed
    assert _etsi(validate_chain(pki.policy(), expired, time_proven=True)) == (Verdict.FAILED, "EXPIRED")


def test_revocation_and_proof_of_time(pki: TestPKI) -> None:
    revoked = cert_of(pki["revoked"])  # revoked a day ago
    assert _etsi(validate_chain(pki.policy(), revoked)) == (Verdict.INDETERMINATE, "REVOKED_NO_POE")
    assert _etsi(validate_chain(pki.policy(), revoked, time_proven=True)) == (Verdict.FAILED, "REVOKED")
    # proven two days ago, before the revocation: passed, with the revocation noted
    before = validate_chain(pki.policy(), revoked, at=pki.now - timedelta(days=2), time_proven=True)
    assert before.verdict is Verdict.PASSED and before.checks_not_done == []
    assert len(before.notes) == 1 and "revoked after the proven signing time" in before.notes[0]
    assert "Revoked Signer" in before.notes[0]
