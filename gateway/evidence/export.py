"""``gateway evidence MAHOSO``: a dossier's evidence bundle.

The zip holds every packet of the dossier exactly as received (``packets/``), with its validation and
signature reports; every delivery job with each attempt and the peer's answer (``deliveries/``); the
receipts exactly as the gateway answered them (``receipts/``; one kept before receipts were kept, or lost
with a process that died before writing it, is re-issued from the stored facts — same receipt id, hash and
received time — signed now, and the manifest says which); the audit chain from the dossier's first
entry to a checkpoint made for the bundle — the dossier's entries whole (the batch entries that accepted
its packets with the other dossiers' items by their hash), the others by digest only —
and that checkpoint (``audit/``); and a manifest of every file's SHA-256, signed with the gateway's key
when one is configured (``manifest.jws``). The export itself is audited first, so the bundle shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import io
import json
from pathlib import Path
from typing import IO, Any, Literal
import uuid
import zipfile

from gateway.audit.chain import GENESIS, Entry
from gateway.audit.service import checkpoint_now
from gateway.evidence import layout
from gateway.packets import json_codec, xml_codec
from gateway.receipt.biennhan import ACCEPTED, issue_receipt, sign_receipt
from gateway.receipt.build import RECEIPT_NAMESPACE, Tsa, receipt_note
from gateway.store.api import JobFilter, PacketView, Store
from signing.jws import sign_jws
from signing.signer import Signer

PAGE = 5000


class NoSuchDossier(LookupError):
    pass


@dataclass(frozen=True)
class Exported:
    dossier: str
    packets: int
    jobs: int
    entries: int  # of the dossier
    checkpoint: int  # the chain position it covers
    signed: bool


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode("utf-8")


def _packet_report(packet: PacketView) -> dict[str, Any]:
    return {"packet_id": packet.packet_id, "sha256": packet.sha256, "encoding": packet.encoding,
            "sender": packet.sender, "agency": packet.agency, "received_at": packet.received_at.isoformat(),
            "type": packet.packet_type, "dossier": packet.dossier, "destinations": packet.destinations,
            "verdicts": packet.verdicts, "purged_at": packet.purged_at and packet.purged_at.isoformat()}


def _receipt(packet: PacketView, signer: Signer | None, agency: str | None) -> bytes | None:
    """The acceptance receipt as ``gateway.receipt`` builds it, from what the store kept."""
    if packet.raw is None:
        return None
    signature = packet.verdicts.get("signature") or {}
    routes = ", ".join(packet.destinations) or "—"
    try:
        receipt = issue_receipt(
            packet.raw, packet.packet_id, sender=agency or "", recipient=agency or "", result=ACCEPTED,
            signature_verdict=signature.get("verdict", "unsigned") if isinstance(signature, dict) else "unsigned",
            received_at=packet.received_at, receipt_id=str(uuid.uuid5(RECEIPT_NAMESPACE, packet.packet_id)),
            note=receipt_note(routes))
    except ValueError:  # an id no receipt can carry (stored before ids were checked): none re-issued
        return None
    encoding: Literal["xml", "json"] = "xml" if packet.encoding == "xml" else "json"
    if signer is not None:
        return sign_receipt(receipt, signer, encoding)
    return (xml_codec.encode if encoding == "xml" else json_codec.encode)(receipt)


def _segment(store: Store, dossier: str, first: int, last: int, about: set[int]) -> tuple[str, list[dict[str, Any]]]:
    """The hash before entry ``first``, and entries ``first``…``last``: those in ``about`` whole (a batch
    entry with only the dossier's items in clear), the rest by digest (other dossiers' business)."""
    before = store.audit_entries(after=first - 2, until=first - 1, limit=1) if first > 1 else []
    previous = before[0].hash if before else GENESIS
    rows, after = [], first - 1
    while after < last:
        page = store.audit_entries(after=after, until=last, limit=PAGE)
        if not page:
            break
        rows += [entry.shown_to(dossier).to_dict() if entry.n in about else Entry(entry.n, entry.digest, entry.hash,
                                                                 content=False).to_dict() for entry in page]
        after = page[-1].n
    return previous, rows


def export_bundle(store: Store, dossier: str, out: IO[bytes] | Path, *, signer: Signer | None,
                  actor: str, tsa: Tsa | None = None) -> Exported:
    packets = store.dossier_packets(dossier)
    if not packets:
        raise NoSuchDossier(dossier)
    jobs = []
    offset = 0
    while True:
        page = store.find_jobs(JobFilter(dossier=dossier, limit=1000, offset=offset))
        jobs += page
        offset += len(page)
        if len(page) < 1000:
            break
    store.audit(actor, "evidence.export", dossier, {"packets": len(packets), "jobs": len(jobs)}, dossier=dossier)
    checkpoint = checkpoint_now(store, signer, tsa)
    assert checkpoint is not None  # the export's own entry is in the chain  # noqa: S101 - narrows the type
    subjects = [p.packet_id for p in packets] + [job.job_id for job in jobs]
    about = [entry for entry in store.audit_about(dossier, subjects) if entry.n <= checkpoint.n]
    previous, segment = _segment(store, dossier, about[0].n, checkpoint.n, {entry.n for entry in about})

    files: dict[str, bytes] = {}
    listed_packets = []
    for index, packet in enumerate(packets, 1):
        stem = f"packets/{index:04d}-{layout.safe_name(packet.packet_id)}"
        extension = "xml" if packet.encoding == "xml" else "json"
        files[f"{stem}.report.json"] = _json(_packet_report(packet))
        if packet.raw is not None:
            files[f"{stem}.{extension}"] = packet.raw
        receipt, origin = store.receipt_of(packet.packet_id), "original"
        if receipt is None:
            receipt, origin = _receipt(packet, signer, packet.agency), "reissued"
        if receipt is not None:
            files[f"receipts/{index:04d}-{layout.safe_name(packet.packet_id)}.{extension}"] = receipt
        listed_packets.append({"packet_id": packet.packet_id, "sha256": packet.sha256, "stem": stem,
                               "raw": f"{stem}.{extension}" if packet.raw is not None else None,
                               "purged": packet.purged_at is not None,
                               "receipt": origin if receipt is not None else None})
    attempts = store.attempts_of([job.job_id for job in jobs])
    for job in jobs:
        files[f"deliveries/{layout.safe_name(job.job_id)}.json"] = _json({
            "job_id": job.job_id, "packet_id": job.packet_id, "destination": job.destination,
            "state": job.state.value, "attempts": job.attempts, "last_error": job.last_error,
            "created_at": job.created_at.isoformat(), "delivered_at": job.delivered_at and job.delivered_at.isoformat(),
            "attempt_log": [{"n": a.n, "started_at": a.started_at.isoformat(), "duration_ms": a.duration_ms,
                             "outcome": a.outcome, "peer_status": a.peer_status, "message": a.message,
                             "transform": a.transform} for a in attempts[job.job_id]]})
    files[layout.ENTRIES] = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
                                    for row in segment).encode("utf-8")
    files[layout.CHECKPOINT] = _json(checkpoint.to_dict())
    manifest = {
        "kind": layout.KIND, "dossier": dossier, "created_at": datetime.now(UTC).isoformat(), "created_by": actor,
        "packets": listed_packets, "jobs": [job.job_id for job in jobs],
        "audit": {"first": about[0].n, "previous_hash": previous, "checkpoint": checkpoint.n,
                  "entries": [entry.n for entry in about]},
        "receipts": "original: the bytes answered at acceptance; reissued: made at export from the stored facts "
                    "(receipt id, SHA-256, received time) — per packet in packets[].receipt",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files[layout.MANIFEST] = _json(manifest)
    if signer is not None:
        files[layout.MANIFEST_SIGNATURE] = sign_jws(manifest, signer).encode("ascii")
    target: IO[bytes] = out.open("wb") if isinstance(out, Path) else out
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name, data in files.items():
                bundle.writestr(name, data)
    finally:
        if isinstance(out, Path):
            target.close()
    return Exported(dossier, len(packets), len(jobs), len(about), checkpoint.n, signer is not None)


def export_bytes(store: Store, dossier: str, *, signer: Signer | None, actor: str,
                 tsa: Tsa | None = None) -> tuple[bytes, Exported]:
    buffer = io.BytesIO()
    exported = export_bundle(store, dossier, buffer, signer=signer, actor=actor, tsa=tsa)
    return buffer.getvalue(), exported
