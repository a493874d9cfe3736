"""Hostile documents, each read in a child process the kernel bounds (``confined.py``: RLIMIT_CPU,
RLIMIT_AS): every one must end with its expected outcome — never killed, never a MemoryError,
never an exception. No clock is read: a reader that loops or balloons ends in another outcome.

The corpus: the Validator's hostile cases (``tests/validation/test_hostile.py``, reused as they
are), more of the same kind (bidi controls, overlong UTF-8, DTD variants, wide documents), forged
XML-DSig structures, JWS and PDF oddities made here, and the public signature material in ``../shared/corpora`` (its
outcomes under the gateway's policy are checked in detail in-process by ``tests/signing`` and
``tests/pdf``; here each file runs bounded, and must not pass).
"""

import base64
from collections.abc import Iterator
from dataclasses import dataclass
import json
from pathlib import Path
import subprocess
import sys

import pytest

from tests.signing.conftest import CORPORA
from tests.validation import test_hostile

CONFINED = Path(__file__).with_name("confined.py")
CPU_SECONDS = 20  # CPU time, not wall clock: the busy CI machine does not count against it
MEMORY_MB = 384  # beyond the address space mapped at fork (the imported readers)


@dataclass(frozen=True)
class Hostile:
    name: str
    reader: str  # see confined.readers()
    data: bytes | Path
    expected: str  # the outcome, or its prefix ending in ":" (a verdict whatever the reason)


class Harness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process = subprocess.Popen([sys.executable, str(CONFINED)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def run(self, case: Hostile, cpu_seconds: int = CPU_SECONDS) -> dict[str, object]:
        path = case.data if isinstance(case.data, Path) else self.directory / "input"
        if not isinstance(case.data, Path):
            path.write_bytes(case.data)
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"reader": case.reader, "path": str(path), "cpu_seconds": cpu_seconds,
                                             "memory_mb": MEMORY_MB}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    running = Harness(tmp_path_factory.mktemp("confined"))
    yield running
    assert running.process.stdin
    running.process.stdin.close()
    running.process.wait(timeout=60)


def _validator_cases() -> list[Hostile]:
    cases = []
    for case in test_hostile.CASES:
        data = case.data.replace(test_hostile.XXE_PORT_PLACEHOLDER, b"9")  # discard port: nothing may be fetched
        cases.append(Hostile(case.name, f"validate-{case.encoding}", data, case.rule or "valid"))
    return cases


XML, JSON = test_hostile.XML, test_hostile.JSON
RLO = "\u202e".encode()
WIDE = 200_000


def _in_xml(old: bytes, new: bytes) -> bytes:
    assert old in XML
    return XML.replace(old, new, 1)


MORE_VALIDATOR_CASES = [
    # Bidi controls spoof what an operator reads: refused by default ([text] bidi), never a crash.
    Hostile("xml-bidi-override-in-text", "validate-xml", _in_xml(b">DVCQG<", b">DV" + RLO + b"CQG<"), "text.bidi"),
    Hostile("json-bidi-override-in-text", "validate-json",
            test_hostile._json_replacing(b'"DVCQG"', b'"DV' + RLO + b'CQG"'), "text.bidi"),
    Hostile("xml-overlong-slash", "validate-xml", _in_xml(b"DVCQG", b"DV\xc0\xafCQG"), "text.not_utf8"),
    Hostile("json-overlong-quote", "validate-json", test_hostile._json_replacing(b'"DVCQG"', b'"DV\xc0\xa2CQG"'),
            "text.not_utf8"),
    Hostile("json-overlong-nul", "validate-json", test_hostile._json_replacing(b'"DVCQG"', b'"DV\xe0\x80\x80CQG"'),
            "text.not_utf8"),
    Hostile("xml-doctype-only", "validate-xml", b"<!DOCTYPE GoiTin>" + test_hostile.BODY_XML, "xml.doctype"),
    Hostile("xml-parameter-entities", "validate-xml", test_hostile._with_doctype(
        b'<!DOCTYPE GoiTin [<!ENTITY % p "<!ENTITY q \'x\'>"> %p;]>', b"&q;"), "xml.doctype"),
    Hostile("xml-many-attributes", "validate-xml",
            _in_xml(b"<GoiTin ", b"<GoiTin " + b"".join(b'a%d="x" ' % i for i in range(WIDE))), "schema.structure"),
    Hostile("xml-many-namespaces", "validate-xml",
            _in_xml(b"<GoiTin ", b"<GoiTin " + b"".join(b'xmlns:n%d="urn:%d" ' % (i, i) for i in range(WIDE // 4))),
            "valid"),
    Hostile("xml-many-siblings", "validate-xml",
            _in_xml(b"<NoiNhan>", b"<x/>" * WIDE + b"<NoiNhan>"), "schema.unknown_field"),
    Hostile("xml-long-element-name", "validate-xml", _in_xml(b"<NoiNhan>", b"<" + b"x" * 1_000_000 + b"/><NoiNhan>"),
            "xml.malformed"),
    Hostile("xml-huge-cdata", "validate-xml", _in_xml(b">DVCQG<", b"><![CDATA[" + b"x" * 3_000_000 + b"]]><"),
            "schema.max_length"),
    Hostile("xml-processing-instructions", "validate-xml", _in_xml(b"<NoiNhan>", b"<?pi x?>" * WIDE + b"<NoiNhan>"),
            "valid"),
    Hostile("json-wide-object", "validate-json",
            b'{"x": {' + b",".join(b'"k%d": 1' % i for i in range(WIDE)) + b"}}", "schema.unknown_field"),
    Hostile("json-wide-array", "validate-json", b'{"x": [' + b"0," * WIDE + b"0]}", "schema.unknown_field"),
    Hostile("json-giant-exponent", "validate-json", test_hostile._json_replacing(b'"Gia": 3000000',
                                                                                b'"Gia": 1e99999999999'),
            "schema.type"),
    Hostile("json-long-zero-fraction", "validate-json",
            test_hostile._json_replacing(b'"Gia": 3000000', b'"Gia": 0.' + b"0" * 100_000 + b"1"), "schema.type"),
]


def _jws(header: bytes | str, payload: bytes | str, signature: str = "AAAA") -> bytes:
    def part(value: bytes | str) -> str:
        raw = value if isinstance(value, bytes) else value.encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{part(header)}.{part(payload)}.{signature}".encode()


CANONICAL = json.dumps(json.loads(JSON), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

# Verdicts in ETSI EN 319 102-1 terms: an algorithm or structure the policy refuses is INDETERMINATE (the
# intake refuses it all the same); FAILED is for a proven break (digest, signature value, format).
JWS_CASES = [
    Hostile("jws-alg-none", "verify-jws", _jws('{"alg":"none"}', CANONICAL, ""),
            "indeterminate:crypto_constraints_failure"),
    Hostile("jws-alg-hmac", "verify-jws", _jws('{"alg":"HS256"}', CANONICAL),
            "indeterminate:crypto_constraints_failure"),
    Hostile("jws-not-base64", "verify-jws", b"!!!.@@@.###", "failed:format_failure"),
    Hostile("jws-huge-header", "verify-jws", _jws('{"alg":"RS256","x":"' + "a" * 2_000_000 + '"}', CANONICAL),
            "failed:"),
    Hostile("jws-deep-header", "verify-jws", _jws("[" * 100_000 + "]" * 100_000, CANONICAL), "failed:format_failure"),
    Hostile("jws-deep-payload", "verify-jws", _jws('{"alg":"RS256"}', '{"a":' * 100_000 + "1" + "}" * 100_000),
            "failed:format_failure"),
    Hostile("jws-duplicate-key-header", "verify-jws", _jws('{"alg":"RS256","alg":"none"}', CANONICAL),
            "failed:format_failure"),
    Hostile("jws-nan-payload", "verify-jws", _jws('{"alg":"RS256"}', '{"a":NaN}'), "failed:format_failure"),
    Hostile("jws-many-signatures", "verify-jws", json.dumps({
        "payload": base64.urlsafe_b64encode(CANONICAL).rstrip(b"=").decode(),
        "signatures": [{"protected": "e30", "signature": "AAAA"}] * 50_000}).encode(), "indeterminate:policy_failure"),
    Hostile("jws-x5c-garbage", "verify-jws",
            _jws(json.dumps({"alg": "RS256", "x5c": ["AAAA" * 1000] * 100}), CANONICAL), "failed:"),
]


def _pdf_base() -> bytes:
    return (CORPORA / "pdf" / "pyhanko" / "coverage-anomalies__base.pdf").read_bytes()


DS = b'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
SHA256 = b'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue>'
ENVELOPED = (b'<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#'
             b'enveloped-signature"/></ds:Transforms>' + SHA256 + b"</ds:Reference>")
XSLT = (b'<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116">'
        b'<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/">'
        b"<xsl:copy-of select=\"document('file:///etc/passwd')\"/></xsl:template></xsl:stylesheet></ds:Transform>"
        b"</ds:Transforms>" + SHA256 + b"</ds:Reference>")


def _signed(references: bytes, after_value: bytes = b"") -> bytes:
    """The packet with a forged enveloped ds:Signature (its value is nonsense: the structure is the attack)."""
    return test_hostile.XML.replace(b"</GoiTin>", b"<ds:Signature " + DS + b"><ds:SignedInfo><ds:CanonicalizationMethod"
                                    b' Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm='
                                    b'"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' + references
                                    + b"</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>" + after_value
                                    + b"</ds:Signature></GoiTin>")


XMLDSIG_CASES = [
    Hostile("xmldsig-10000-references", "verify-xml", _signed(ENVELOPED * 10_000), "indeterminate:policy_failure"),
    Hostile("xmldsig-xslt-reading-a-file", "verify-xml", _signed(XSLT), "indeterminate:policy_failure"),
    Hostile("xmldsig-5000-signatures", "verify-xml",
            test_hostile.XML.replace(b"</GoiTin>", (b"<ds:Signature " + DS + b"/>") * 5000 + b"</GoiTin>"),
            "indeterminate:policy_failure"),
    Hostile("xmldsig-empty-signature", "verify-xml",
            test_hostile.XML.replace(b"</GoiTin>", b"<ds:Signature " + DS + b"/></GoiTin>"), "failed:format_failure"),
    Hostile("xmldsig-3-mb-certificate", "verify-xml", _signed(ENVELOPED, b"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>"
                                                                + b"A" * 3_000_000 + b"</ds:X509Certificate></ds:X509Data>"
                                                                b"</ds:KeyInfo>"), "failed:format_failure"),
    Hostile("xmldsig-xpointer-reference", "verify-xml", _signed(ENVELOPED.replace(b'URI=""', b'URI="#xpointer(/)"')),
            "indeterminate:policy_failure"),
    Hostile("xmldsig-xpath-injection-in-id", "verify-xml",
            _signed(ENVELOPED.replace(b'URI=""', b"URI=\"#a']|//*[@x='\"")), "indeterminate:policy_failure"),
]


def _pdf(pages: bytes = b"/Kids[]/Count 0", trailer: bytes = b"", extra: bytes = b"") -> bytes:
    """A one-catalogue PDF with a correct cross-reference table; ``extra`` is a third object."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages" + pages + b">>"] + ([extra] if extra else [])
    data, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj%s endobj\n" % (number, body)
    start = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer<</Size %d/Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, start)
    return bytes(data)


PDF_CASES = [
    Hostile("pdf-garbage", "verify-pdf", b"\x00\xff" * 1000, "failed:format_failure"),
    Hostile("pdf-header-only", "verify-pdf", b"%PDF-1.7\n%%EOF\n", "failed:format_failure"),
    Hostile("pdf-minimal-unsigned", "verify-pdf", _pdf(), "indeterminate:no_signature"),
    Hostile("pdf-deep-arrays", "verify-pdf", _pdf(b"/Kids[]/Count 0/X" + b"[" * 100_000 + b"]" * 100_000),
            "indeterminate:no_signature"),
    Hostile("pdf-deep-dictionaries", "verify-pdf", _pdf(b"/Kids[]/Count 0/X" + b"<</X" * 50_000 + b" 1" + b">>" * 50_000),
            "indeterminate:no_signature"),
    Hostile("pdf-xref-prev-loop", "verify-pdf", _pdf(trailer=b"/Prev %d" % _pdf().index(b"xref")), "failed:format_failure"),
    Hostile("pdf-huge-length", "verify-pdf", _pdf(extra=b"<</Length 99999999999>>stream\nx\nendstream"), "indeterminate:no_signature"),
    Hostile("pdf-reference-loop", "verify-pdf", _pdf(b"/Kids[2 0 R]/Count 1/Parent 2 0 R"), "indeterminate:no_signature"),
]


def _corpus_cases() -> list[Hostile]:
    if not CORPORA.is_dir():
        return []
    cases = [Hostile(f"interop/{p.relative_to(CORPORA / 'xmldsig-interop')}", "verify-xml", p, "")
             for p in sorted((CORPORA / "xmldsig-interop").rglob("*.xml"))]
    cases += [Hostile(f"xsw/{p.name}", "verify-xml", p, "") for p in sorted((CORPORA / "xsw" / "pysaml2").glob("*.xml"))]
    cases += [Hostile(f"xsw/{p.name}", "verify-xml", base64.b64decode(p.read_bytes()), "")
              for p in sorted((CORPORA / "xsw" / "python3-saml").glob("*.base64"))]
    pdfs = sorted((CORPORA / "pdf" / "pyhanko").glob("*.pdf"))
    cases += [Hostile(f"pdf/{p.name}", "verify-pdf", p, "failed:format_failure" if "coverage-anomalies" in p.name
                      else "failed:" if "sneaky" in p.name else "indeterminate:" if "signed-twice" in p.name else "")
              for p in pdfs]
    base = _pdf_base()
    cases += [Hostile("pdf/base-truncated", "verify-pdf", base[: len(base) // 2], "failed:format_failure"),
              Hostile("pdf/base-doubled", "verify-pdf", base + base, "failed:format_failure")]
    return cases


CASES = _validator_cases() + MORE_VALIDATOR_CASES + XMLDSIG_CASES + JWS_CASES + PDF_CASES + _corpus_cases()


def _matches(outcome: str, expected: str, reader: str) -> bool:
    if reader.startswith("validate-"):
        return expected in outcome.split(",")
    if not expected:  # signature material with no stated outcome: anything but a pass
        return outcome.split(":")[0] in ("failed", "indeterminate")
    return outcome.startswith(expected) if expected.endswith(":") else outcome == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_input_ends_in_its_outcome_within_bounds(harness: Harness, case: Hostile) -> None:
    result = harness.run(case)
    assert result.get("exit") == 0, result  # not killed by SIGXCPU/SIGKILL, no crash of the child
    assert _matches(str(result["outcome"]), case.expected, case.reader), result


def test_the_bounds_hold_a_reader_that_loops_or_balloons(harness: Harness) -> None:
    """The harness itself: without these two, a passing corpus would prove nothing about the bounds."""
    looping = harness.run(Hostile("spin", "spin", b"x", ""), cpu_seconds=1)
    assert looping.get("signal") in ("SIGXCPU", "SIGKILL"), looping
    ballooning = harness.run(Hostile("balloon", "balloon", b"x", ""))
    assert (ballooning["outcome"], ballooning.get("exit")) == ("raised:MemoryError", 0), ballooning
    assert int(ballooning["peak_rss_kb"]) < (MEMORY_MB + 200) * 1024


def test_a_document_wrong_everywhere_gets_a_bounded_report() -> None:
    """200,000 stray attributes (2.6 MB) made 200,000 issues: 3.8 s of CPU and 438 MB peak in the child
    (confined.py's figures); the report now lists the first ones and counts the rest."""
    from gateway.config import Config
    from gateway.validate.pipeline import Validator
    from gateway.validate.schema import MAX_XML_SCHEMA_ISSUES

    case = next(case for case in MORE_VALIDATOR_CASES if case.name == "xml-many-attributes")
    report = Validator(Config.load(None)).validate(case.data, "xml")
    assert len(report.errors) == MAX_XML_SCHEMA_ISSUES + 1
    assert report.errors[-1].message_en.endswith(f"(+{WIDE - MAX_XML_SCHEMA_ISSUES})")
