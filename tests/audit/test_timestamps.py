"""Checkpoints timestamped by the test TSA over real HTTP: each checkpoint's token proves its own JWS
(a token moved onto another checkpoint is refused with that checkpoint named), an evidence bundle's
timestamp verifies offline in a subprocess with only the TSA's root, and a TSA that is down costs the
token, never the checkpoint."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import shutil
import socket

from cryptography.hazmat.primitives import serialization
import pytest
import sqlalchemy as sa

from gateway.audit.service import checkpoint_now
from gateway.audit.verify import verify_store
from gateway.evidence.export import export_bundle
from gateway.receipt.build import Tsa
from gateway.store import Store
from gateway.store.tables import audit_checkpoints
from signing.signer import KeySigner
from signing.trust import TrustPolicy
from signing.tsa_server import TSA, self_contained, serve_tsa
from tests.audit.conftest import history
from tests.audit.test_cli import gateway
from tests.audit.test_evidence import DOSSIER, offline_verify


@pytest.fixture(scope="module")
def tsa_root() -> Iterator[tuple[TSA, bytes]]:
    """The test TSA serving over HTTP, and its root certificate (PEM) — what a verifier trusts."""
    root, keys = self_contained()
    with serve_tsa(keys) as served:
        yield served, root.public_bytes(serialization.Encoding.PEM)


def trust_of(pem: bytes, folder: Path) -> TrustPolicy:
    (folder / "tsa-root.pem").write_bytes(pem)
    return TrustPolicy.from_directory(folder / "tsa-root.pem", "tsa")


def test_a_checkpoint_is_timestamped_and_its_time_proven(store: Store, signer: KeySigner,
                                                         tsa_root: tuple[TSA, bytes], tmp_path: Path) -> None:
    served, pem = tsa_root
    history(store)
    made = checkpoint_now(store, signer, Tsa(served.url))
    assert made is not None and made.jws and made.timestamp_token
    report = verify_store(store, [signer.certificate], trust_of(pem, tmp_path))
    assert report.ok
    (verdict,) = report.checkpoints
    assert verdict.timestamp == "passed"
    assert verdict.proven_at is not None and verdict.proven_at.utcoffset() == timedelta(hours=7)
    made_at = datetime.strptime(made.at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert made_at - timedelta(seconds=1) <= verdict.proven_at <= datetime.now(UTC)  # the TSA's time, not ours
    # without a trust for TSAs the token is reported, not judged
    assert verify_store(store, [signer.certificate]).checkpoints[0].timestamp == "not checked"
    # a TSA the verifier does not trust: the timestamp fails, at that checkpoint
    other_root, _ = self_contained("Other TSA")
    broken = verify_store(store, [signer.certificate],
                          trust_of(other_root.public_bytes(serialization.Encoding.PEM), tmp_path)).broken
    assert broken is not None and (broken.n, broken.kind) == (made.n, "checkpoint")
    assert "not trusted" in broken.message_en


def test_a_token_over_another_checkpoint_is_refused_and_named(store: Store, signer: KeySigner,
                                                              tsa_root: tuple[TSA, bytes], tmp_path: Path) -> None:
    served, pem = tsa_root
    tsa = Tsa(served.url)
    history(store, count=1)
    first = checkpoint_now(store, signer, tsa)
    store.audit("auditor", "lookup", DOSSIER, {"reason": "kiểm tra"})
    second = checkpoint_now(store, signer, tsa)
    assert first and second and first.n < second.n
    with store.engine.begin() as connection:
        connection.execute(sa.update(audit_checkpoints).where(audit_checkpoints.c.n == second.n)
                           .values(timestamp_token=first.timestamp_token))
    report = verify_store(store, [signer.certificate], trust_of(pem, tmp_path))
    assert [v.timestamp for v in report.checkpoints][0] == "passed"
    assert report.checkpoints[1].timestamp.startswith("failed")
    assert report.broken is not None and (report.broken.n, report.broken.kind) == (second.n, "checkpoint")
    assert "timestamp" in report.broken.message_en and "imprint" in report.broken.message_en


def test_a_bundle_timestamp_verifies_offline_with_the_tsa_root(store: Store, signer: KeySigner,
                                                               tsa_root: tuple[TSA, bytes], tmp_path: Path) -> None:
    served, pem = tsa_root
    history(store)
    made = tmp_path / "export" / "evidence.zip"
    made.parent.mkdir()
    export_bundle(store, DOSSIER, made, signer=signer, actor="auditor", tsa=Tsa(served.url))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(made, elsewhere / "evidence.zip")
    (elsewhere / "gateway.pem").write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    (elsewhere / "tsa-root.pem").write_bytes(pem)

    done = offline_verify(elsewhere / "evidence.zip", "--cert", "gateway.pem", "--tsa-trust", "tsa-root.pem")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "timestamp holds, it existed at: 20" in done.stdout and "+07:00" in done.stdout

    unchecked = offline_verify(elsewhere / "evidence.zip", "--cert", "gateway.pem")
    assert unchecked.returncode == 0 and "not checked" in unchecked.stdout

    other_root, _ = self_contained("Other TSA")
    (elsewhere / "other-root.pem").write_bytes(other_root.public_bytes(serialization.Encoding.PEM))
    refused = offline_verify(elsewhere / "evidence.zip", "--cert", "gateway.pem", "--tsa-trust", "other-root.pem")
    assert refused.returncode == 1
    assert "audit/checkpoint.json" in refused.stdout and "timestamp does not hold" in refused.stdout


def test_a_tsa_that_is_down_costs_the_token_not_the_checkpoint(store: Store, signer: KeySigner,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/tsa"
    history(store, count=1)
    with caplog.at_level(logging.WARNING, logger="gateway.audit.checkpoint"):
        made = checkpoint_now(store, signer, Tsa(down, timeout=2))
    assert made is not None and made.jws and made.timestamp_token is None
    assert store.audit_checkpoints()[-1] == made
    assert any("not timestamped" in r.getMessage() and "unreachable" in r.getMessage() for r in caplog.records)
    assert verify_store(store, [signer.certificate]).ok


def test_the_command_line_timestamps_and_checks_with_the_configured_tsa(
        store: Store, store_url: str, signer: KeySigner, tsa_root: tuple[TSA, bytes], tmp_path: Path) -> None:
    served, pem = tsa_root
    (tmp_path / "tsa-root.pem").write_bytes(pem)
    key, cert = tmp_path / "gateway-key.pem", tmp_path / "gateway-cert.pem"  # written by the signer fixture
    config = tmp_path / "site.toml"
    signing = f'[signing]\nkey = "{key}"\ncert = "{cert}"\ntsa_url = "{served.url}"\n'
    config.write_text(f'[store]\nurl = "{store_url}"\n{signing}', encoding="utf-8")
    history(store)
    made = gateway("audit", "checkpoint", config=config)
    assert made.returncode == 0 and "timestamped" in made.stdout, made.stdout + made.stderr
    unchecked = gateway("audit", "verify", config=config)
    assert unchecked.returncode == 0 and "1 chưa kiểm tra" in unchecked.stdout, unchecked.stdout
    given = gateway("audit", "verify", "--tsa-trust", str(tmp_path / "tsa-root.pem"), config=config)
    assert given.returncode == 0 and "1 hợp lệ / hold" in given.stdout and "+0700" in given.stdout, given.stdout + given.stderr
    config.write_text(f'[store]\nurl = "{store_url}"\n{signing}tsa_trust = "{tmp_path / "tsa-root.pem"}"\n',
                      encoding="utf-8")
    configured = gateway("audit", "verify", config=config)
    assert configured.returncode == 0 and "1 hợp lệ / hold" in configured.stdout, configured.stdout + configured.stderr
