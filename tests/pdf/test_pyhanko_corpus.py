"""pyHanko's published anomalous PDFs (../shared/corpora/pdf/pyhanko, MIT) with the outcomes
their README gives: coverage anomalies and sneaky form updates rejected; the legitimately
twice-signed files intact, so "indeterminate: no chain" (they chain to pyHanko's test CA,
not to our anchors) — never "failed: modified"."""

from datetime import datetime, UTC
from pathlib import Path

import pytest

from signing.pades import verify_pdf
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy
from tests.pdf.conftest import CORPUS

# Within every corpus certificate's validity (pyHanko's test "Alice" expired on 2022-01-01, before
# some of these files were made): checked later, an expired signer is failed before any chain.
AT = datetime(2021, 6, 1, tzinfo=UTC)

if not CORPUS.is_dir():
    pytest.skip(f"public corpus not found at {CORPUS}", allow_module_level=True)


def corpus(pattern: str) -> list[Path]:
    files = sorted(CORPUS.glob(pattern))
    assert files, f"no {pattern} in {CORPUS}"
    return files


@pytest.mark.parametrize("path", corpus("coverage-anomalies__*.pdf"), ids=lambda p: p.name)
def test_coverage_anomalies_are_rejected(path: Path, policy: TrustPolicy) -> None:
    report = verify_pdf(path.read_bytes(), policy, at=AT)
    assert [(s.verdict, s.reason) for s in report.signatures] == [(Verdict.FAILED, Reason.FORMAT_FAILURE)]
    detail = report.signatures[0].detail
    if path.name.endswith("base.pdf"):  # the starting point: a reserved /Contents with no CMS in it
        assert detail.startswith("chữ ký — signature 'Sig1': không đọc được — unreadable")
    else:
        assert "byte ranges do not cover a whole revision" in detail


@pytest.mark.parametrize("path", corpus("form-update-*sneaky*.pdf"), ids=lambda p: p.name)
def test_sneaky_form_updates_are_modifications(path: Path, policy: TrustPolicy) -> None:
    report = verify_pdf(path.read_bytes(), policy, at=AT)
    assert report.verdict is Verdict.FAILED
    by_field = {s.detail.split("'")[1]: s for s in report.signatures}
    assert (by_field["Sig1"].verdict, by_field["Sig1"].reason) == (Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)
    # The later signature covers the whole file and is intact; only its chain is unknown here.
    assert (by_field["Sig2"].verdict, by_field["Sig2"].reason) == (Verdict.INDETERMINATE,
                                                                     Reason.NO_CERTIFICATE_CHAIN_FOUND)
    assert by_field["Sig2"].covered.endswith("(whole file)")


@pytest.mark.parametrize("path", corpus("minimal*signed-twice*.pdf"), ids=lambda p: p.name)
def test_twice_signed_files_are_intact_but_untrusted(path: Path, policy: TrustPolicy) -> None:
    report = verify_pdf(path.read_bytes(), policy, at=AT)
    assert report.verdict is Verdict.INDETERMINATE
    assert [(s.verdict, s.reason) for s in report.signatures] == \
        [(Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND)] * 2
    earlier = [s for s in report.signatures if not s.covered.endswith("(whole file)")]
    assert len(earlier) == 1 and "signatures added or form fields filled" in earlier[0].covered
