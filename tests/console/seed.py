"""A store holding what operators look at: dossiers of two agencies, delivered, retrying and dead jobs.

Packets are the bundled example HoSo (personal data included) with their ids, dossier and agency
changed; jobs go through the store's own claim / complete / retry / dead-letter, as the engine does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path

from gateway.store import AttemptRecord, NewPacket, Store

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "HoSo.json").read_text("utf-8"))
CITIZEN = EXAMPLE["NoiDung"]["HoSo"]["ChuHoSo"]
AGENCY_A, AGENCY_B = "000.00.01.H22", "000.00.02.H22"
DESTINATIONS = ["national_portal", "postal"]
REFUSAL = "permanent: MaTTHC 1.005129 không có trong danh mục / not in the catalogue"


@dataclass
class Seeded:
    dossiers: dict[str, str] = field(default_factory=dict)  # dossier → agency
    dead: list[str] = field(default_factory=list)  # job ids
    delivered: int = 0
    packets: int = 0


def packet(n: int, dossier: str, agency: str, at: datetime) -> NewPacket:
    body = json.loads(json.dumps(EXAMPLE))
    body["MaGoiTin"], body["NoiGui"] = f"pkt-{n:07d}", agency
    body["NoiDung"]["HoSo"]["MaHoSo"] = dossier
    raw = json.dumps(body, ensure_ascii=False).encode()
    return NewPacket(body["MaGoiTin"], hashlib.sha256(raw).hexdigest(), raw, "json", "motcua-" + agency[7:9],
                     at, "HoSo", dossier, {"validation": {"valid": True, "encoding": "json", "errors": []},
                                           "signature": {"status": "unsigned"}}, agency=agency, status=1)


def seed(store: Store, dossiers: int = 12, now: datetime | None = None) -> Seeded:
    """``dossiers`` dossiers, alternately of agency A and B, two packets each, over the last hours;
    most delivered, every fifth dossier's national_portal job dead, one retrying."""
    now = now or datetime.now(UTC)
    seeded, n = Seeded(), 0
    for d in range(dossiers):
        agency = AGENCY_A if d % 2 == 0 else AGENCY_B
        code = f"{agency}-261203-{d:04d}"
        seeded.dossiers[code] = agency
        for step in range(2):
            n += 1
            at = now - timedelta(minutes=10 * (dossiers - d) + 5 - step)
            store.accept(packet(n, code, agency, at), DESTINATIONS)
            seeded.packets += 1
    for destination in DESTINATIONS:
        while batches := store.claim(destination, "seed", limit=50, max_batch=1, lease_seconds=30, now=now,
                                     on_dead="skip"):
            for (job,) in batches:
                index = int(job.ordering_key.rsplit("-", 1)[1])
                attempt = AttemptRecord(now - timedelta(minutes=1), 120, "delivered", "200", "OK")
                if destination == "national_portal" and index % 5 == 0:
                    store.dead_letter(job.job_id, "seed", AttemptRecord(now - timedelta(minutes=1), 80, "permanent",
                                                                        "422", REFUSAL), REFUSAL)
                    seeded.dead.append(job.job_id)
                elif destination == "postal" and index == 1:
                    store.retry_later(job.job_id, "seed", AttemptRecord(now - timedelta(minutes=2), 5000, "transient",
                                                                        "503", "timeout"), now + timedelta(hours=1))
                else:
                    store.complete(job.job_id, "seed", attempt)
                    seeded.delivered += 1
    return seeded
