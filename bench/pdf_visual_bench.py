"""The visible-change check of a PDF signed again (a later revision), per page, next to pyhanko's own
validation of the same file — medians and ranges of repeated runs, interleaved in one run.

For documents of 1, 5 and 20 pages, signed and then signed again (so the first signature has a later
revision to compare with), the time of:

- ``pyhanko``: ``async_validate_pdf_signature`` of every signature with the policy's context
  (the library's own validation, difference analysis included);
- ``visible``: ``signing.pdf_visual.compare`` of the first signature's revision with the final file
  (pdftoppm and pdftotext as processes: both documents rendered and read; hidden-annotation renders
  only where the rendering differs, as in the verifier), also given per page;
- ``verify_pdf``: the gateway's whole verification, both checks included.

    .venv/bin/python bench/pdf_visual_bench.py [--rounds 7]
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature

from signing import pdf_visual
from signing.pades import verify_pdf
from signing.report import Verdict
from signing.trust import _run
from tests.pdf.helpers import blank_pdf, sign
from tests.signing.pki import TestPKI


def timings(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per action, the actions interleaved round by round (the machine's load hits all alike)."""
    for action in actions.values():
        action()  # warm-up (imports, chain cache, page cache)
    measured: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            measured[name].append((time.perf_counter() - start) * 1000)
    return measured


def figure(values: list[float], divisor: int = 1) -> str:
    scaled = [value / divisor for value in values]
    return f"{statistics.median(scaled):7.1f} ({min(scaled):.1f}–{max(scaled):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    logging.disable(logging.CRITICAL)
    if not pdf_visual.available():
        sys.exit("pdftoppm/pdftotext not installed (scripts/system-deps installs poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp) / "pki")
        policy = pki.policy()
        print(f"{'pages':>5}  {'pyhanko ms':>22}  {'visible ms':>22}  {'visible ms/page':>20}  {'verify_pdf ms':>22}")
        for pages in (1, 5, 20):
            once = sign(blank_pdf(pages=pages), pki["signer"], pki)
            twice = sign(once, pki["ec256"], pki, field="Signature2")
            assert verify_pdf(twice, policy).verdict is Verdict.PASSED
            first = PdfFileReader(BytesIO(twice)).embedded_signatures[0]
            ranges = list(first.byte_range)
            revision = twice[:ranges[2] + ranges[3]]

            def library(data: bytes = twice) -> None:
                for embedded in PdfFileReader(BytesIO(data)).embedded_signatures:
                    _run(async_validate_pdf_signature(embedded, signer_validation_context=policy.validation_context()))

            measured = timings({"pyhanko": library,
                                "visible": lambda r=revision, d=twice: pdf_visual.compare(r, d),
                                "verify_pdf": lambda d=twice: verify_pdf(d, policy)}, rounds)
            print(f"{pages:>5}  {figure(measured['pyhanko']):>22}  {figure(measured['visible']):>22}  "
                  f"{figure(measured['visible'], pages):>20}  {figure(measured['verify_pdf']):>22}")


if __name__ == "__main__":
    main()
