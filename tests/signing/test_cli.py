"""``gateway verify`` and ``gateway sign``, run as real subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signing.pki import PASSWORD, TestPKI
from tests.signing.xmltools import REPO

GATEWAY = Path(sys.executable).with_name("gateway")
pytestmark = pytest.mark.slow  # each call starts the whole CLI (~1–2 s on this machine)


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("GATEWAY_CONFIG", None)
    return subprocess.run([str(GATEWAY), *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=environment, cwd=REPO)


@pytest.fixture(scope="module")
def signed_xml(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "HoSo.signed.xml"
    result = run("sign", REPO / "examples" / "HoSo.xml", "--key", pki["signer"].key_path,
                 "--cert", pki["signer"].cert_path, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_sign_then_verify_xml(pki: TestPKI, signed_xml: Path) -> None:
    result = run("verify", signed_xml, "--trust", pki.trust_dir, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "passed" and report["format"] == "xmldsig"
    assert "001099001234" not in result.stdout and "0010****1234" in report["signatures"][0]["signer"]


def test_human_output_is_bilingual(pki: TestPKI, signed_xml: Path) -> None:
    result = run("verify", signed_xml, "--trust", pki.trust_dir)
    assert result.returncode == 0
    assert "hợp lệ / passed" in result.stdout and "người ký / signer" in result.stdout
    assert "001099001234" not in result.stdout


def test_tampered_and_unsigned_exit_1(pki: TestPKI, signed_xml: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed_xml.read_bytes().replace(b"1.005129", b"1.005130"))
    result = run("verify", tampered, "--trust", pki.trust_dir, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["signatures"][0]["reason"] == "HASH_FAILURE"
    result = run("verify", REPO / "examples" / "HoSo.xml", "--trust", pki.trust_dir, "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["signatures"][0]["reason"] == "NO_SIGNATURE"


def test_untrusted_by_default_purpose_is_indeterminate(signed_xml: Path) -> None:
    # The shipped citizen anchors are the Vietnamese national ones: the test PKI is not among them.
    result = run("verify", signed_xml, "--json")
    assert result.returncode == 1
    signature = json.loads(result.stdout)["signatures"][0]
    assert (signature["verdict"], signature["reason"]) == ("indeterminate", "NO_CERTIFICATE_CHAIN_FOUND")


def test_revoked_with_crl_option(pki: TestPKI, tmp_path: Path) -> None:
    signed = tmp_path / "revoked.xml"
    assert run("sign", REPO / "examples" / "HoSo.xml", "--key", pki["revoked"].p12_path, "--password-env", "P12",
               "--out", signed, env={"P12": PASSWORD.decode()}).returncode == 0
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "root.pem").write_bytes(pki["root"].cert_pem)
    without_crl = run("verify", signed, "--trust", flat, "--json")
    assert without_crl.returncode == 0  # nothing says it is revoked…
    assert any("revocation" in item for item in json.loads(without_crl.stdout)["signatures"][0]["checks_not_done"])
    with_crl = run("verify", signed, "--trust", flat, "--crl", pki.crl_path, "--json")
    assert with_crl.returncode == 1
    assert json.loads(with_crl.stdout)["signatures"][0]["reason"] == "REVOKED"


@pytest.mark.parametrize("form", ["compact", "json"])
def test_sign_then_verify_jws(pki: TestPKI, tmp_path: Path, form: str) -> None:
    out = tmp_path / "HoSo.jws"
    result = run("sign", REPO / "examples" / "HoSo.json", "--key", pki["ec256"].key_path,
                 "--cert", pki["ec256"].cert_path, "--jws", form, "--out", out)
    assert result.returncode == 0, result.stderr
    result = run("verify", out, "--trust", pki.trust_dir, "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["format"] == "jws"


def test_pdf_is_dispatched_to_pades(pki: TestPKI, tmp_path: Path) -> None:
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.7\nnot really a pdf\n%%EOF\n")
    result = run("verify", pdf, "--trust", pki.trust_dir, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["format"] == "pades"


def test_given_time(pki: TestPKI, tmp_path: Path) -> None:
    signed = tmp_path / "expired.xml"
    assert run("sign", REPO / "examples" / "HoSo.xml", "--key", pki["expired"].key_path, "--cert",
               pki["expired"].cert_path, "--out", signed).returncode == 0
    assert run("verify", signed, "--trust", pki.trust_dir).returncode == 1
    at = (pki.now.replace(tzinfo=None) - __import__("datetime").timedelta(days=100)).isoformat()
    assert run("verify", signed, "--trust", pki.trust_dir, "--at", at + "+00:00").returncode == 0


@pytest.mark.parametrize("args", [
    ["verify", "missing.xml"],
    ["verify", "examples/HoSo.xml", "--purpose", "nobody"],
    ["verify", "examples/HoSo.xml", "--at", "yesterday"],
    ["verify", "examples/HoSo.xml", "--trust", "no-such-dir"],
    ["sign", "examples/HoSo.xml", "--key", "examples/HoSo.json"],
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).returncode == 2


def test_sign_refuses_a_signed_file(pki: TestPKI, signed_xml: Path) -> None:
    result = run("sign", signed_xml, "--key", pki["signer"].key_path, "--cert", pki["signer"].cert_path)
    assert result.returncode == 2 and "already signed" in result.stderr


@pytest.mark.parametrize("form", ["flat", "bundle"])
def test_verify_with_a_flat_trust_folder_or_bundle(pki: TestPKI, signed_xml: Path, tmp_path: Path, form: str) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    for name, data in (("root.pem", pki["root"].cert_pem), ("issuing-ca.pem", pki["intermediate"].cert_pem),
                       ("issuing-ca.crl", pki.crl_path.read_bytes())):
        (flat / name).write_bytes(data)
    bundle = tmp_path / "trust.pem"
    bundle.write_bytes(b"".join((flat / name).read_bytes() for name in ("issuing-ca.pem", "root.pem",
                                                                         "issuing-ca.crl")))
    trust = flat if form == "flat" else bundle
    result = run("verify", signed_xml, "--trust", trust, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "passed" and answer["signatures"][0]["indication"] == "TOTAL-PASSED"
    assert len(answer["trust"]["anchors"]) == 1 and len(answer["trust"]["intermediates"]) == 1
    assert "Intermediate" in answer["trust"]["intermediates"][0]
    human = run("verify", signed_xml, "--trust", trust)
    assert human.returncode == 0 and "intermediate" in human.stdout and "anchor" in human.stdout
