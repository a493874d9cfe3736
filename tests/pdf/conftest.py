"""Fixtures of the PAdES tests: one test PKI, a TSA served over HTTP, NSS databases for pdfsig."""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # so that ``tests.*`` helpers import under --import-mode=importlib
    sys.path.insert(0, str(REPO))

from signing.trust import TrustPolicy  # noqa: E402 - after the sys.path line
from tests.pdf.helpers import TSA, TSAKeys, blank_pdf, issue_tsa, nss_database, serve_tsa  # noqa: E402 - after the sys.path line
from tests.signing.pki import TestPKI  # noqa: E402 - after the sys.path line

CORPUS = REPO.parent / "shared" / "corpora" / "pdf" / "pyhanko"


def require_tools(*names: str) -> None:
    """The Debian tools the interop tests compare with (``./test`` installs them via scripts/system-deps)."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/system-deps installs poppler-utils, libnss3-tools)")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pdf-pki"))


@pytest.fixture(scope="session")
def policy(pki: TestPKI) -> TrustPolicy:
    return pki.policy()


@pytest.fixture(scope="session")
def document() -> bytes:
    return blank_pdf()


@pytest.fixture(scope="session")
def tsa_keys(pki: TestPKI) -> TSAKeys:
    return issue_tsa(pki)


@pytest.fixture(scope="session")
def tsa(tsa_keys: TSAKeys) -> Iterator[TSA]:
    """A timestamp authority under the test intermediate, answering over HTTP."""
    with serve_tsa(tsa_keys) as served:
        yield served


@pytest.fixture(scope="session")
def nss(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NSS database that trusts the test root and holds the signer's key (for ``pdfsig -add-signature``)."""
    require_tools("pdfsig", "certutil", "pk12util")
    return nss_database(tmp_path_factory.mktemp("nss"), pki, pki["signer"])
