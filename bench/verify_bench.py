"""Benchmark: XML-DSig verification of signed ~6 KB packets, measured side by side in one run.

    .venv/bin/python bench/verify_bench.py [--seconds 2] [--json]

Rows (all on the same signed packet, RSA-2048 / SHA-256 / exclusive C14N, enveloped URI=""):
- gateway verify_xml: parse (hardened) + policy + reference + digest + signature + chain (warm cache)
- python-xmlsec: parse + libxmlsec1 verify with the certificate's bare public key (no policy, no chain)
- signxml: XMLVerifier.verify with the certificate pinned (no chain to an anchor)
- bare RSA-2048 verification of the SignedInfo bytes (cryptography)
- bare exclusive C14N of the parsed packet (lxml/libxml2)
- gateway verify_jws of the same packet as a compact JWS (RS256, RFC 8785 payload)
Ratios are against python-xmlsec measured in the same run; the target is gateway ≤ 2×.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import XMLVerifier

from signing.jws import sign_jws, verify_jws
from signing.report import Verdict
from signing.xml_sign import sign_xml
from signing.xmldsig import DS, verify_xml
from tests.signing.pki import TestPKI


def calibrate(function: Callable[[], object], target: float) -> int:
    """Calls per round so that one round lasts about ``target`` seconds."""
    function()  # warm-up (and the chain cache)
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= target / 4:
            return max(1, int(calls * target / max(elapsed, 1e-9)))
        calls *= 2


def measure(rows: dict[str, Callable[[], object]], seconds: float, rounds: int = 7) -> dict[str, float]:
    """Median seconds per call of each row. Rounds interleave the rows, so load on this shared
    machine hits them alike and the ratios stay fair."""
    calls = {name: calibrate(function, seconds / rounds) for name, function in rows.items()}
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, function in rows.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                function()
            samples[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def python_xmlsec_verifier(signed: bytes, cert: x509.Certificate) -> Callable[[], None]:
    """The peer: python-xmlsec's parse + libxmlsec1 verify of ``signed``, no policy, no chain — with the
    certificate's bare public key, as the gateway gives libxmlsec1 (a key carrying its certificate is copied
    into every context)."""
    key = xmlsec.Key.from_memory(cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), xmlsec.constants.KeyDataFormatPem)

    def verify() -> None:
        root = etree.fromstring(signed)
        context = xmlsec.SignatureContext()
        context.key = key
        context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))

    return verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measured row")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        pki = TestPKI.create(Path(directory))
        policy = pki.policy()
        issued = pki["signer"]
        packet = (REPO / "examples" / "HoSo.xml").read_bytes()
        signed = sign_xml(packet, pki.signer())
        report, _ = verify_xml(signed, policy)
        assert report.verdict is Verdict.PASSED, report.to_dict()

        python_xmlsec = python_xmlsec_verifier(signed, issued.cert)
        cert_pem = issued.cert_pem.decode()

        def signxml_verify() -> None:
            XMLVerifier().verify(signed, x509_cert=cert_pem)

        root = etree.fromstring(signed)
        signed_info = etree.tostring(root.find(f".//{{{DS}}}SignedInfo"), method="c14n", exclusive=True)
        signature_value = __import__("base64").b64decode(root.findtext(f".//{{{DS}}}SignatureValue"))
        public_key = issued.cert.public_key()

        def bare_rsa() -> None:
            public_key.verify(signature_value, signed_info, padding.PKCS1v15(), hashes.SHA256())

        unsigned_root = etree.fromstring(packet)

        def bare_c14n() -> None:
            etree.tostring(unsigned_root, method="c14n", exclusive=True)

        token = sign_jws(json.loads((REPO / "examples" / "HoSo.json").read_text(encoding="utf-8")), pki.signer())
        assert verify_jws(token, policy)[0].verdict is Verdict.PASSED

        rows = {
            "gateway verify_xml (full, warm chain cache)": lambda: verify_xml(signed, policy),
            "python-xmlsec (parse + verify, no chain)": python_xmlsec,
            "signxml (verify, certificate pinned)": signxml_verify,
            "bare RSA-2048 verification (SignedInfo)": bare_rsa,
            "bare exclusive C14N of the packet": bare_c14n,
            "gateway verify_jws (full, warm chain cache)": lambda: verify_jws(token, policy),
        }
        figures = measure(rows, args.seconds)

    reference = figures["python-xmlsec (parse + verify, no chain)"]
    result = {"packet_bytes": len(packet), "signed_bytes": len(signed), "jws_bytes": len(token),
              "rows": {name: {"ms": round(seconds * 1000, 4), "per_second": round(1 / seconds),
                              "x_python_xmlsec": round(seconds / reference, 2)} for name, seconds in figures.items()}}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"packet {len(packet)} B, signed XML {len(signed)} B, JWS {len(token)} B "
          f"(RSA-2048, SHA-256, exc-C14N, x5c/X509Data with intermediate)")
    print(f"{'':48} {'ms/op':>9} {'ops/s':>9} {'× xmlsec':>9}")
    for name, row in result["rows"].items():
        print(f"{name:48} {row['ms']:9.4f} {row['per_second']:9d} {row['x_python_xmlsec']:9.2f}")


if __name__ == "__main__":
    main()
