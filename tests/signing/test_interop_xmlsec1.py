"""Interoperability with xmlsec1, the C reference implementation (Debian package ``xmlsec1``), run
as a real subprocess: what the gateway signs, xmlsec1 verifies (with the chain to the test root);
what xmlsec1 signs from a template, the gateway verifies."""

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from signing.report import Verdict
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml
from tests.signing.pki import TestPKI
from tests.signing.xmltools import DS, NS, packet_bytes

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (scripts/system-deps installs it)")


def xmlsec1(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XMLSEC1, *map(str, args)], capture_output=True, text=True, timeout=60)


def xmlsec1_verify(pki: TestPKI, path: Path) -> subprocess.CompletedProcess[str]:
    return xmlsec1("--verify", "--enabled-key-data", "x509", "--trusted-pem", pki["root"].cert_path,
                   "--untrusted-pem", pki["intermediate"].cert_path, "--id-attr:Id", f"{NS}:NoiDung", path)


@pytest.mark.parametrize("cover", ["packet", "body"])
@pytest.mark.parametrize("name", ["signer", "ec256", "ec384"])
def test_gateway_signature_verifies_with_xmlsec1(pki: TestPKI, tmp_path: Path, name: str, cover: str) -> None:
    path = tmp_path / "signed.xml"
    path.write_bytes(sign_xml(packet_bytes(), pki.signer(name), cover=cover))
    result = xmlsec1_verify(pki, path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr


def test_xmlsec1_rejects_what_the_gateway_rejects(pki: TestPKI, tmp_path: Path) -> None:
    tampered = sign_xml(packet_bytes(), pki.signer()).replace(b"1.005129", b"1.005130")
    path = tmp_path / "tampered.xml"
    path.write_bytes(tampered)
    assert xmlsec1_verify(pki, path).returncode != 0
    assert verify_xml(tampered, pki.policy())[0].verdict is Verdict.FAILED
    rogue = tmp_path / "rogue.xml"
    rogue.write_bytes(sign_xml(packet_bytes(), pki.signer("rogue_signer", chain=False)))
    assert xmlsec1_verify(pki, rogue).returncode != 0
    assert verify_xml(rogue.read_bytes(), pki.policy())[0].verdict is Verdict.INDETERMINATE


TEMPLATE = """<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{c14n}"/>
<ds:SignatureMethod Algorithm="{method}"/>
<ds:Reference URI="{uri}"><ds:Transforms>{enveloped}<ds:Transform Algorithm="{c14n}"/></ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"""
ENVELOPED = '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'


@pytest.mark.parametrize(("name", "method", "c14n", "cover"), [
    ("signer", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/10/xml-exc-c14n#", "packet"),
    ("signer", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
     "body"),
    ("ec256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "http://www.w3.org/2006/12/xml-c14n11", "packet"),
    ("ec384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/10/xml-exc-c14n#", "body"),
])
def test_xmlsec1_signature_verifies_with_the_gateway(pki: TestPKI, tmp_path: Path, name: str, method: str,
                                                     c14n: str, cover: str) -> None:
    root = etree.fromstring(packet_bytes())
    if cover == "body":
        root.find(f"{{{NS}}}NoiDung").set("Id", "noi-dung")
    root.append(etree.fromstring(TEMPLATE.format(ds=DS, c14n=c14n, method=method,
                                                 uri="#noi-dung" if cover == "body" else "",
                                                 enveloped="" if cover == "body" else ENVELOPED)))
    template = tmp_path / "template.xml"
    template.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    out = tmp_path / "signed.xml"
    issued = pki[name]
    result = xmlsec1("--sign", "--privkey-pem", f"{issued.key_path},{issued.cert_path}",
                     "--id-attr:Id", f"{NS}:NoiDung", "--output", out, template)
    assert result.returncode == 0, result.stderr
    report, element = verify_xml(out.read_bytes(), pki.policy())
    assert report.verdict is Verdict.PASSED, report.to_dict()
    assert element.tag == f"{{{NS}}}{'NoiDung' if cover == 'body' else 'GoiTin'}"


def test_xmlsec1_pkcs12_signature_verifies(pki: TestPKI, tmp_path: Path) -> None:
    root = etree.fromstring(packet_bytes())
    root.append(etree.fromstring(TEMPLATE.format(ds=DS, c14n="http://www.w3.org/2001/10/xml-exc-c14n#",
                                                 method="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                                 uri="", enveloped=ENVELOPED)))
    template = tmp_path / "template.xml"
    template.write_bytes(etree.tostring(root))
    out = tmp_path / "signed.xml"
    result = xmlsec1("--sign", "--pkcs12", pki["signer"].p12_path, "--pwd", "test-password", "--output", out, template)
    assert result.returncode == 0, result.stderr
    report, _ = verify_xml(out.read_bytes(), pki.policy())
    assert report.verdict is Verdict.PASSED, report.to_dict()
