"""``gateway audit checkpoint|verify`` and ``gateway evidence MAHOSO`` as an operator runs them."""

from pathlib import Path
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
import sqlalchemy as sa

from gateway.evidence.check import verify_bundle
from gateway.store import Store
from gateway.store.tables import audit
from signing.signer import KeySigner
from tests.audit.conftest import history

GATEWAY = str(Path(sys.executable).with_name("gateway"))


def gateway(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GATEWAY, *args, "--config", str(config)], capture_output=True, text=True, timeout=120)


def test_checkpoint_verify_and_export_from_the_command_line(store: Store, store_url: str, signer: KeySigner,
                                                             tmp_path: Path) -> None:
    key, cert = tmp_path / "gateway-key.pem", tmp_path / "gateway-cert.pem"  # written by the signer fixture
    config = tmp_path / "site.toml"
    config.write_text(f'[store]\nurl = "{store_url}"\n[signing]\nkey = "{key}"\ncert = "{cert}"\n', encoding="utf-8")
    history(store)
    made = gateway("audit", "checkpoint", config=config)
    assert made.returncode == 0 and "signed" in made.stdout, made.stdout + made.stderr
    intact = gateway("audit", "verify", config=config)
    assert intact.returncode == 0 and "intact" in intact.stdout, intact.stdout + intact.stderr
    bundle = tmp_path / "bundle.zip"
    exported = gateway("evidence", "000.00.01.H22-241203-0001", "--out", str(bundle), config=config)
    assert exported.returncode == 0 and "3 gói tin / packets" in exported.stdout, exported.stdout + exported.stderr
    assert verify_bundle(bundle, [signer.certificate]).ok
    with store.engine.begin() as connection:
        connection.execute(sa.update(audit).where(audit.c.n == 2).values(subject="someone else's"))
    broken = gateway("audit", "verify", config=config)
    assert broken.returncode == 1 and "entry 2" in broken.stdout, broken.stdout + broken.stderr
    assert signer.certificate.public_bytes(serialization.Encoding.PEM) == cert.read_bytes()
