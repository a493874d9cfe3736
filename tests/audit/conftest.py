"""A gateway key made at test time, and a store holding a little history of two dossiers."""

from datetime import UTC, datetime
import hashlib
from pathlib import Path
import uuid

import pytest

from gateway.store import AttemptRecord, NewPacket, Store
from signing.signer import KeySigner
from tests.receive.test_signed_receipts import gateway_key


@pytest.fixture
def signer(tmp_path: Path) -> KeySigner:
    key, cert = gateway_key(tmp_path)
    return KeySigner.from_pem(key, cert)


def packet(dossier: str, status: int | None = None) -> NewPacket:
    """A packet as the intake stores it: the verdicts of a real validation and signature check."""
    packet_id = str(uuid.uuid4())
    raw = (f"<GoiTin><MaGoiTin>{packet_id}</MaGoiTin><LoaiGoiTin>TienDoXuLy</LoaiGoiTin>"
           f"<NoiDung><HoSo><MaHoSo>{dossier}</MaHoSo><ChuHoSo>Trần Thị Bình</ChuHoSo>"
           f"<SoCMND>001099001234</SoCMND></HoSo></NoiDung></GoiTin>").encode()
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "xml", "mot_cua_tinh", datetime.now(UTC),
                     "TienDoXuLy", dossier, {"validation": {"valid": True, "warnings": [{"rule": "status.transition"}]},
                                             "signature": {"verdict": "passed", "format": "xmldsig"}},
                     "000.00.01.H22", status)


def history(store: Store, dossier: str = "000.00.01.H22-241203-0001", other: str = "000.00.01.H22-241203-0002",
            count: int = 3) -> list[NewPacket]:
    """``count`` packets of ``dossier`` and of ``other`` accepted, the first of each delivered, the second
    retried: accepted, settled and operator entries in the chain. Returns ``dossier``'s packets."""
    ours = [packet(dossier, status) for status in range(1, count + 1)]
    theirs = [packet(other) for _ in range(count)]
    for mine, its in zip(ours, theirs):
        store.accept_many([(mine, ["postal"]), (its, ["postal"])])
    now = datetime.now(UTC)
    for _ in range(2):
        for batch in store.claim("postal", "w1", limit=10, max_batch=1, lease_seconds=30, now=now):
            job = batch[0]
            if job.packet_id in (ours[0].packet_id, theirs[0].packet_id):
                assert store.complete(job.job_id, "w1", AttemptRecord(now, 12, "delivered", "200", "ok"))
            elif job.packet_id in (ours[1].packet_id, theirs[1].packet_id):
                assert store.retry_later(job.job_id, "w1", AttemptRecord(now, 30, "transient", "503", "busy"), now)
            else:
                store.release([job.job_id], "w1")
    store.set_paused("postal", True, "operator", "bảo trì / maintenance")
    return ours
