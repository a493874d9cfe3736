"""``gateway verify`` on PDFs, as operators run it: a real subprocess with a trust directory."""

import json
import subprocess
import sys
from pathlib import Path

from tests.pdf.helpers import replace_page_text, sign
from tests.signing.pki import TestPKI

GATEWAY = Path(sys.executable).with_name("gateway")


def verify(path: Path, pki: TestPKI, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GATEWAY), "verify", str(path), "--trust", str(pki.trust_dir), "--purpose", "citizen",
                           *options], capture_output=True, text=True, timeout=120)


def test_signed_pdf_exits_0_and_changed_pdf_exits_1(pki: TestPKI, document: bytes, tmp_path: Path) -> None:
    signed = tmp_path / "ket-qua.pdf"
    signed.write_bytes(sign(document, pki["signer"], pki))
    done = verify(signed, pki, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "passed" and report["format"] == "pades"
    assert report["signatures"][0]["signer"].endswith("UID=0010****1234")

    tampered = tmp_path / "ket-qua-sua.pdf"
    tampered.write_bytes(replace_page_text(signed.read_bytes(), "Giay to GIA MAO"))
    done = verify(tampered, pki, "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["signatures"][0]["reason"] == "MODIFIED_AFTER_SIGNING"
    human = verify(tampered, pki)
    assert human.returncode == 1
    assert "tài liệu bị sửa sau khi ký — modified after signing" in human.stdout
    assert "001099001234" not in human.stdout + human.stderr
