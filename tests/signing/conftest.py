"""Signing-suite helpers; the session's test PKI fixture (``pki``) lives in tests/conftest.py."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # so that ``tests.signing.pki`` imports under --import-mode=importlib
    sys.path.insert(0, str(REPO))

CORPORA = REPO.parent / "shared" / "corpora"
