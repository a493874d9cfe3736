"""PAdES verification cost, measured side by side in one run.

For a small signed PDF (one page), the same PDF signed twice (difference analysis of a later
revision) and a ~1 MB signed PDF, the mean time of:

- ``verify_pdf``: the gateway's full verification (parse, coverage, digest, CMS signature,
  difference analysis, pyhanko's status, chain at the signing time with a warm cache);
- ``pyhanko``: ``async_validate_pdf_signature`` alone with the policy's context (what the library costs);
- ``parse+digest``: opening the file and hashing the byte ranges;
- ``rsa-2048``: one bare RSA-2048/SHA-256 verification;
- ``pdfsig``: poppler's verifier as a process (start-up included), for scale.

    .venv/bin/python bench/pdf_bench.py [--rounds 30]
"""

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature

from signing.pades import verify_pdf
from signing.report import Verdict
from signing.trust import _run
from tests.pdf.helpers import blank_pdf, sign
from tests.signing.pki import TestPKI


def mean_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm-up (imports, chain cache)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.fmean(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp) / "pki")
        policy = pki.policy()
        small = sign(blank_pdf(), pki["signer"], pki)
        twice = sign(small, pki["ec256"], pki, field="Signature2")
        large = sign(blank_pdf("x" * 1_000_000), pki["signer"], pki)
        signer_key = pki["signer"].key
        message = b"m" * 64
        signature = signer_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        public = signer_key.public_key()

        print(f"{'document':<12} {'bytes':>9} {'verify_pdf':>11} {'pyhanko':>9} {'parse+digest':>13} "
              f"{'rsa-2048':>9} {'pdfsig':>8}  full/pyhanko")
        for name, data in (("one page", small), ("signed twice", twice), ("~1 MB", large)):
            assert verify_pdf(data, policy).verdict is Verdict.PASSED

            def library() -> None:
                reader = PdfFileReader(BytesIO(data))  # noqa: B023 - timed within this iteration
                for embedded in reader.embedded_signatures:
                    _run(async_validate_pdf_signature(embedded, signer_validation_context=policy.validation_context()))

            def parse_digest() -> None:
                for embedded in PdfFileReader(BytesIO(data)).embedded_signatures:  # noqa: B023 - timed within this iteration
                    embedded.compute_digest()

            full = mean_ms(lambda: verify_pdf(data, policy), rounds)  # noqa: B023 - timed within this iteration
            bare = mean_ms(library, rounds)
            digest = mean_ms(parse_digest, rounds)
            rsa = mean_ms(lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256()), rounds * 10)
            poppler = float("nan")
            if shutil.which("pdfsig"):
                path = Path(tmp) / "doc.pdf"
                path.write_bytes(data)
                poppler = mean_ms(lambda: subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True),  # noqa: B023 - timed within this iteration
                                  max(3, rounds // 3))
            print(f"{name:<12} {len(data):>9} {full:>9.2f}ms {bare:>7.2f}ms {digest:>11.2f}ms {rsa:>7.3f}ms "
                  f"{poppler:>6.1f}ms  {full / bare:.2f}×")


if __name__ == "__main__":
    main()
