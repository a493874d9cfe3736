"""Checkpoints and receipts timestamped by the test TSA over real HTTP: each checkpoint's token proves its own
JWS (a token moved onto another checkpoint is refused with that checkpoint named), an evidence bundle's
timestamps (its checkpoint's, its receipts') verify offline in a subprocess with only the TSA's root, and a
TSA that is down costs the token, never the checkpoint."""

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import hashlib
import json
import shutil
import socket
import zipfile

from cryptography.hazmat.primitives import serialization
import pytest
import sqlalchemy as sa

from gateway.audit.service import checkpoint_now
from gateway.audit.verify import verify_store
from gateway.evidence.check import verify_bundle
from gateway.evidence.export import export_bundle
from gateway.receipt.build import Tsa
from gateway.store import Store, open_store
from gateway.store.tables import audit_checkpoints
from signing import xmldsig
from signing.signer import KeySigner
from signing.trust import TrustPolicy
from signing.tsa_server import TSA, self_contained, serve_tsa
from tests.audit.conftest import history
from tests.audit.test_cli import gateway
from tests.audit.test_evidence import DOSSIER, offline_verify
from tests.audit.test_receipts_kept import DOSSIER as RECEIPTS_DOSSIER, _accept


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


@pytest.mark.postgres
def test_receipt_timestamps_are_checked_offline_against_the_tsa_trust(store_url: str, tsa_root: tuple[TSA, bytes],
                                                                      tmp_path: Path) -> None:
    """Receipts answered over HTTP with ``[signing] tsa_url`` (XAdES in XML, JAdES-style in JSON): with the TSA's
    root each token is proven; without a trust it is "not checked"; an untrusted TSA, a token moved from another
    receipt and a damaged token are each named at the receipt."""
    served, pem = tsa_root
    answered, signer, cert = _accept(store_url, tmp_path, f'tsa_url = "{served.url}"\n')
    store = open_store(store_url)
    try:
        bundle = tmp_path / "elsewhere" / "evidence.zip"
        bundle.parent.mkdir()
        export_bundle(store, RECEIPTS_DOSSIER, bundle, signer=signer, actor="auditor")
    finally:
        store.close()
    (bundle.parent / "gateway.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (bundle.parent / "tsa-root.pem").write_bytes(pem)
    receipt_names = sorted(n for n in zipfile.ZipFile(bundle).namelist() if n.startswith("receipts/"))
    assert len(receipt_names) == 2

    checked = verify_bundle(bundle, [cert], trust_of(pem, tmp_path))
    assert checked.ok, checked.to_dict()
    assert sorted(place.split(" (")[0] for place in checked.receipt_timestamps) == receipt_names
    assert all(v.startswith("passed: 20") and v.endswith("+07:00") for v in checked.receipt_timestamps.values())
    done = offline_verify(bundle, "--cert", "gateway.pem", "--tsa-trust", "tsa-root.pem")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("the receipt's timestamp holds") == 2

    unchecked = verify_bundle(bundle, [cert])  # no trust for TSAs: reported, never passed
    assert unchecked.ok and set(unchecked.receipt_timestamps.values()) == {"not checked"}
    assert "timestamp token, not checked (no --tsa-trust given)" in offline_verify(bundle, "--cert", "gateway.pem").stdout

    other_root, _ = self_contained("Other TSA")
    (tmp_path / "other").mkdir()
    untrusted = verify_bundle(bundle, [cert], trust_of(other_root.public_bytes(serialization.Encoding.PEM),
                                                        tmp_path / "other"))
    assert sorted(p.place.split(" (")[0] for p in untrusted.problems) == receipt_names
    assert all("not trusted" in p.message_en for p in untrusted.problems)

    # The JSON receipt's token replaced by the XML receipt's, and the XML receipt's token damaged; re-sealed.
    with zipfile.ZipFile(bundle) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    xml_name, json_name = (next(n for n in receipt_names if n.endswith(ext)) for ext in (".xml", ".json"))
    (xml_token, _), = xmldsig.timestamp_tokens(members[xml_name])
    flattened = json.loads(members[json_name])
    flattened["header"]["etsiU"][0]["sigTst"]["tstTokens"][0]["val"] = xml_token
    members[json_name] = json.dumps(flattened).encode()
    der = bytearray(base64.b64decode(xml_token))
    der[len(der) // 2] ^= 0x01
    members[xml_name] = members[xml_name].replace(xml_token.encode(), base64.b64encode(bytes(der)))
    manifest = json.loads(members["manifest.json"])
    for name in (xml_name, json_name):
        manifest["files"][name] = hashlib.sha256(members[name]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(bundle, "w") as resealed:
        for member, data in members.items():
            resealed.writestr(member, data)
    tampered = verify_bundle(bundle, [cert], trust_of(pem, tmp_path))
    failed = {p.place: p.message_en for p in tampered.problems if "timestamp token" in p.place}
    assert sorted(place.split(" (")[0] for place in failed) == sorted([json_name, xml_name])
    assert "imprint" in failed[next(p for p in failed if p.startswith(json_name))]
    answer = offline_verify(bundle, "--cert", "gateway.pem", "--tsa-trust", "tsa-root.pem")
    assert answer.returncode == 1 and f"{json_name} (dấu thời gian 1 / timestamp token 1)" in answer.stdout
