"""Shared fixtures: one test PKI per session (key generation is the slow part)."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # so that ``tests.signing.pki`` imports under --import-mode=importlib
    sys.path.insert(0, str(REPO))

from tests.signing.pki import TestPKI  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))
