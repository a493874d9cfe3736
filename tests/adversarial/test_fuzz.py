"""Property fuzzing (hypothesis, bounded and derandomised so CI stays fast and repeatable) of what
``tests/validation/test_hostile.py`` does not already fuzz: the hardened readers on their own, the
three signature verifiers, and the classic endpoint's normaliser. Every input ends in a result or
the documented error type (``wellformed.Unreadable``), never another exception; a verifier acts
only on exactly what was signed. ``fuzz_atheris.py`` runs the same targets coverage-guided, by command.
"""

from datetime import datetime
import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
import pytest

from connectors.national_portal import inbound
from gateway.validate import wellformed
from signing.jws import looks_like_jws, payload_of, sign_jws, verify_jws
from signing.pades import verify_pdf
from signing.report import Verdict
from signing.trust import TrustPolicy
from signing.xmldsig import verify_xml
from tests.signing.conftest import CORPORA
from tests.signing.pki import TestPKI
from signing.xml_sign import sign_xml
from tests.signing.xmltools import packet_bytes
from tests.validation.strategies import VALID_HO_SO

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])
SLOW = settings(BOUNDED, max_examples=40)

TOKENS = [b"<", b">", b"</", b"/>", b'"', b"=", b"&amp;", b"&#0;", b"<!DOCTYPE a>", b"<!--", b"]]>", b"\xff", b"\x00",
          b"\xef\xbb\xbf", b"\xc0\xaf", b"xmlns=\"\"", b"Id=\"x\"", b"URI=\"#x\"", b".", b"=", b"{", b"}", b"[", b"]",
          b"NaN", b"9" * 30, b"\\u0000", b"\\ud800", b"obj", b"endobj", b"stream", b"endstream", b"<<", b">>",
          b"/ByteRange", b"xref", b"%%EOF", b"\n"]


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` cut, spliced with hostile tokens or random bytes at a few places, or truncated."""
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            cut = draw(st.integers(0, 16))
            data[at:at + cut] = draw(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)))
        if draw(st.integers(0, 4)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)
    return build()


# --- the hardened readers alone --------------------------------------------------------------------

@BOUNDED
@given(mutated(packet_bytes()) | st.binary(max_size=200))
def test_the_xml_reader_raises_only_unreadable(data: bytes) -> None:
    try:
        wellformed.parse_any_xml(data)
    except wellformed.Unreadable as exc:
        assert exc.issue.rule and exc.issue.message_vi and exc.issue.message_en


@BOUNDED
@given(mutated(json.dumps(VALID_HO_SO).encode()) | st.binary(max_size=200))
def test_the_json_reader_raises_only_unreadable(data: bytes) -> None:
    try:
        wellformed.parse_json_document(wellformed.decode_utf8(data))
    except wellformed.Unreadable as exc:
        assert exc.issue.rule and exc.issue.message_vi and exc.issue.message_en


# --- signature verifiers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("fuzz-pki"))


@pytest.fixture(scope="module")
def signed_xml(pki: TestPKI) -> bytes:
    return sign_xml(packet_bytes(), pki.signer())


@pytest.fixture(scope="module")
def signed_jws(pki: TestPKI) -> bytes:
    return sign_jws(VALID_HO_SO, pki.signer()).encode()


def _without_signatures(element: etree._Element) -> bytes:
    copy = etree.fromstring(etree.tostring(element))
    for signature in copy.findall(".//{http://www.w3.org/2000/09/xmldsig#}Signature"):
        signature.getparent().remove(signature)
    return etree.tostring(copy, method="c14n")


def test_the_unmutated_seeds_pass(pki: TestPKI, signed_xml: bytes, signed_jws: bytes) -> None:
    """The fuzzing below starts from documents that do verify: a mutation is what breaks them."""
    assert verify_xml(signed_xml, pki.policy())[0].verdict is Verdict.PASSED
    assert verify_jws(signed_jws, pki.policy())[0].verdict is Verdict.PASSED


@BOUNDED
@given(data=st.data())
def test_xmldsig_acts_only_on_what_was_signed(pki: TestPKI, signed_xml: bytes, data: st.DataObject) -> None:
    raw = data.draw(mutated(signed_xml))
    report, element = verify_xml(raw, pki.policy())
    json.dumps(report.to_dict(), ensure_ascii=False)
    if report.verdict is Verdict.PASSED:  # only a mutation C14N cannot see (spacing inside a tag, the declaration)
        assert element is not None
        assert _without_signatures(element) == _without_signatures(etree.fromstring(signed_xml))


@BOUNDED
@given(data=st.data())
def test_jws_acts_only_on_what_was_signed(pki: TestPKI, signed_jws: bytes, data: st.DataObject) -> None:
    raw = data.draw(mutated(signed_jws) | st.builds(lambda parts: b".".join(parts),
                                                    st.lists(st.binary(max_size=20), min_size=1, max_size=5)))
    report, packet = verify_jws(raw, pki.policy())
    json.dumps(report.to_dict(), ensure_ascii=False)
    looks_like_jws(raw)
    payload_of(raw)
    if packet is not None:  # every signature intact: then the packet is the one signed
        assert packet == VALID_HO_SO


PDF_SEED = CORPORA / "pdf" / "pyhanko" / "minimal-signed-twice-both-created.pdf"


@pytest.mark.skipif(not PDF_SEED.is_file(), reason=f"corpus not found at {PDF_SEED}")
@SLOW
@given(data=st.data())
def test_pades_reports_every_mutation(data: st.DataObject) -> None:
    report = verify_pdf(data.draw(mutated(PDF_SEED.read_bytes())), TrustPolicy("fuzz"))
    assert report.verdict is not Verdict.PASSED  # no anchor: nothing can pass
    assert report.signatures
    json.dumps(report.to_dict(), ensure_ascii=False)


# --- the classic endpoint's normaliser -----------------------------------------------------------

FIELDS = sorted({*inbound.HoSo.model_fields, *inbound.TienDoXuLy.model_fields})
NUMBERS = sorted(name for model in inbound.SERVICES.values() for name, field in model.model_fields.items()
                 if inbound._unwrap(field.annotation) is int)  # where the normaliser reads text as numbers
KEYS = st.sampled_from(NUMBERS) | st.sampled_from(FIELDS) | st.text(max_size=4)
RULES = {"null", "empty_text", "empty_list", "text_number", "text_boolean", "nfc"}
SENT_TEXT = (st.sampled_from(["4", " 4 ", "-1", "007", "True", "false", " FALSE ", "", "  ", "e\u0302\u0301", "9" * 4301,
                              "9" * 4300, "1e3", "٣", "0x10", "\u202e"])
             | st.text(string.digits + " -", max_size=8) | st.text(max_size=12))
LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | SENT_TEXT


def _values(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4)


ITEMS = st.dictionaries(KEYS, SENT_TEXT | st.recursive(LEAVES, _values, max_leaves=8),
                        max_size=12)


@BOUNDED
@given(service=st.sampled_from(sorted(inbound.SERVICES)), item=ITEMS)
def test_the_classic_normaliser_reads_any_item_and_is_idempotent(service: str, item: dict[str, Any]) -> None:
    body, changes = inbound.normalised(service, item)
    assert {change.rule for change in changes} <= RULES
    for change in changes:
        json.dumps(change.to_dict(), ensure_ascii=False)
    assert inbound.normalised(service, body) == (body, [])  # read once, nothing left to read differently
    packet = inbound.wrap(service, body, inbound.Envelope("client", "000.00.01.H22"), datetime(2024, 12, 10, 8, 0))
    json.dumps(packet, ensure_ascii=False)


def test_a_number_longer_than_python_converts_stays_text_for_the_validator() -> None:
    """Was a ValueError out of the normaliser (int() refuses > 4,300 digits): the classic call failed unhandled."""
    body, changes = inbound.normalised("DongBoHoSoMC", {"TrangThaiHoSo": "9" * 5000,
                                                                 "DanhSachLePhi": [{"Gia": "4"}]})
    assert body == {"TrangThaiHoSo": "9" * 5000, "DanhSachLePhi": [{"Gia": 4}]}
    assert [(change.path, change.rule) for change in changes] == [("DanhSachLePhi[0].Gia", "text_number")]
