"""Shared fixtures. ``store`` runs a test against SQLite (a tmp file) and PostgreSQL (a fresh
schema with a unique name, dropped afterwards, so concurrent runs never collide)."""

from collections.abc import Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import sys
from typing import TYPE_CHECKING
import uuid

import pytest

if TYPE_CHECKING:  # imported by the fixtures themselves, when used
    from gateway.store import Store
    from tests.signing.pki import TestPKI

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # so that ``tests.signing.pki`` imports under --import-mode=importlib
    sys.path.insert(0, str(REPO))

POSTGRES_URL = os.environ.get("GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_unreachable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable ({exc.__class__.__name__}: {str(exc).strip()[:200]})"


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """The test PostgreSQL; skips when unreachable, fails instead when GATEWAY_REQUIRE_POSTGRES=1."""
    problem = _postgres_unreachable()
    if problem:
        if os.environ.get("GATEWAY_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem + " and GATEWAY_REQUIRE_POSTGRES=1")
        pytest.skip(problem + "; set GATEWAY_TEST_POSTGRES or start it to run these tests")
    return POSTGRES_URL


@contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema of their own, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    with fresh_schema(postgres_base_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: "os.PathLike[str]") -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/gateway.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator["Store"]:
    from gateway.store import open_store

    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> "TestPKI":
    """One throw-away test PKI per session (tests/signing/pki.py), for every suite that signs."""
    from tests.signing.pki import TestPKI

    return TestPKI.create(tmp_path_factory.mktemp("pki"))
