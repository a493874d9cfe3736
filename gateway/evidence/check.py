"""``gateway evidence verify FILE``: checks a bundle with nothing but the zip (and, optionally, the
certificate the gateway's key is trusted by) — no store, no network.

It checks every member against the manifest's SHA-256 (and that none is missing or added), the
manifest's signature, the audit chain from the dossier's first entry to the checkpoint and the
checkpoint's signature, that every packet and receipt matches the hash the chain recorded for it, each
signed receipt's signature (against the given certificate when there is one) and, given a trust for TSAs,
each receipt's RFC 3161 timestamp token (without one a token is reported not checked, never passed), and
names the places that do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import base64
import hashlib
import json
from pathlib import Path
from typing import Any
import zipfile
import zlib

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.audit.chain import ChainWalk, Entry
from gateway.audit.checkpoint import LOCAL, Checkpoint, open_jws, verify_checkpoint
from gateway.audit.verify import checkpoint_break
from gateway.evidence import layout
from gateway.messages import line, text
from signing import jws, xmldsig
from signing.jws import verify_jws
from signing.report import Verdict
from signing.timestamps import TimestampError, verify_timestamp
from signing.trust import TrustPolicy
from signing.xmldsig import verify_xml


@dataclass(frozen=True)
class Problem:
    place: str  # a member of the zip, or "audit entry n"
    message_vi: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message_vi} / {self.message_en}"


@dataclass
class BundleReport:
    dossier: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what holds, and what could not be checked
    signer: str | None = None
    timestamp: str = "absent"  # the checkpoint's: absent | passed | not checked | failed: why
    proven_at: str | None = None  # the time a passed timestamp proves
    receipt_timestamps: dict[str, str] = field(default_factory=dict)  # receipt → passed: time | not checked | failed: why

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, place: str, rule: str, /, **fields: Any) -> None:
        """A problem at ``place``, in the catalogue's words (``rule``, gateway.messages)."""
        self.problems.append(Problem(place, *text(rule, **fields)))

    def note(self, rule: str, place: str | None = None, /, **fields: Any) -> None:
        self.notes.append(line(rule, **fields) if place is None else f"{place}: {line(rule, **fields)}")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dossier": self.dossier, "signer": self.signer, "notes": self.notes,
                "timestamp": self.timestamp, "proven_at": self.proven_at, "receipt_timestamps": self.receipt_timestamps,
                "problems": [{"place": p.place, "message_vi": p.message_vi, "message_en": p.message_en}
                             for p in self.problems]}


def _members(path: Path, report: BundleReport) -> dict[str, bytes] | None:
    """Every member's bytes, within bounds; a member that cannot be read is a problem named by its name."""
    try:
        bundle = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add(str(path), "cli.bundle.not_zip", error=exc)
        return None
    members: dict[str, bytes] = {}
    total = 0
    with bundle:
        infos = bundle.infolist()
        if len(infos) > layout.MAX_MEMBERS:
            report.add(str(path), "cli.bundle.too_many", count=len(infos))
            return None
        for info in infos:
            total += info.file_size
            if info.file_size > layout.MAX_MEMBER_BYTES or total > layout.MAX_TOTAL_BYTES:
                report.add(info.filename, "cli.bundle.too_large")
                return None
            if info.filename in members:
                report.add(info.filename, "cli.bundle.twice")
                continue
            try:
                members[info.filename] = bundle.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                report.add(info.filename, "cli.bundle.damaged", error=exc)
    return members


def _json(members: dict[str, bytes], name: str, report: BundleReport) -> Any:
    try:
        return json.loads(members[name])
    except KeyError:
        report.add(name, "cli.bundle.missing")
    except ValueError as exc:
        report.add(name, "cli.bundle.not_json", error=exc)
    return None


def _receipt_hash(data: bytes) -> str | None:
    """BamSHA256 of a receipt: XML (signed or not), JSON, or a JWS over JSON — compact, or flattened (a
    timestamped receipt carries its token in the unprotected header)."""
    text = data.decode("utf-8", "replace").strip()
    if text.count(".") == 2 and not text.startswith(("{", "<")):
        payload = text.split(".")[1]
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace")
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("payload"), str) and "signature" in body:  # flattened JWS
            payload = body["payload"]
            return _receipt_hash(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        found = _find_key(body, "BamSHA256")
        return found if isinstance(found, str) else None
    start = text.find("<BamSHA256>")
    end = text.find("</BamSHA256>", start)
    return text[start + len("<BamSHA256>"):end].strip() if start >= 0 and end > start else None


def _find_key(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for item in value.values():
            if (found := _find_key(item, key)) is not None:
                return found
    return None


def verify_bundle(path: Path, trusted: list[x509.Certificate] | None = None,
                  tsa_trust: TrustPolicy | None = None) -> BundleReport:
    report = BundleReport()
    members = _members(path, report)
    if members is None:
        return report
    manifest = _json(members, layout.MANIFEST, report)
    if not isinstance(manifest, dict) or manifest.get("kind") != layout.KIND:
        if manifest is not None:
            report.add(layout.MANIFEST, "cli.bundle.not_manifest")
        return report
    report.dossier = manifest.get("dossier")
    _check_files(members, manifest, report)
    _check_manifest_signature(members, manifest, trusted, report)
    entries = _check_chain(members, manifest, trusted, tsa_trust, report)
    _check_packets(members, manifest, entries, report, trusted, tsa_trust)
    return report


def _check_files(members: dict[str, bytes], manifest: dict[str, Any], report: BundleReport) -> None:
    listed: dict[str, str] = manifest.get("files") or {}
    for name, digest in sorted(listed.items()):
        if name not in members:
            report.add(name, "cli.bundle.listed_missing")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            report.add(name, "cli.bundle.altered")
    for name in sorted(set(members) - set(listed) - {layout.MANIFEST, layout.MANIFEST_SIGNATURE}):
        report.add(name, "cli.bundle.added")


def _check_manifest_signature(members: dict[str, bytes], manifest: dict[str, Any],
                              trusted: list[x509.Certificate] | None, report: BundleReport) -> None:
    signature = members.get(layout.MANIFEST_SIGNATURE)
    if signature is None:
        report.note("cli.bundle.manifest_unsigned")
        if trusted:
            report.add(layout.MANIFEST_SIGNATURE, "cli.bundle.signature_missing")
        return
    opened = open_jws(signature.decode("ascii", "replace"), trusted)
    report.signer = opened.signer
    if opened.problem is not None:
        report.problems.append(Problem(layout.MANIFEST_SIGNATURE, opened.problem, opened.problem))
    elif opened.claims != manifest:
        report.add(layout.MANIFEST, "cli.bundle.not_as_signed")
    elif opened.trusted is False:
        report.add(layout.MANIFEST_SIGNATURE, "cli.bundle.signer_untrusted", signer=opened.signer)
    elif opened.trusted is None:
        report.note("cli.bundle.signer_unchecked", signer=opened.signer)


def _check_chain(members: dict[str, bytes], manifest: dict[str, Any], trusted: list[x509.Certificate] | None,
                 tsa_trust: TrustPolicy | None, report: BundleReport) -> dict[int, Entry]:
    audit = manifest.get("audit") or {}
    raw_checkpoint = _json(members, layout.CHECKPOINT, report)
    if raw_checkpoint is None or layout.ENTRIES not in members:
        if layout.ENTRIES not in members:
            report.add(layout.ENTRIES, "cli.bundle.missing")
        return {}
    try:
        checkpoint = Checkpoint.from_dict(raw_checkpoint)
        rows = [Entry.from_dict(json.loads(line)) for line in members[layout.ENTRIES].splitlines() if line.strip()]
        first, previous = int(audit["first"]), str(audit["previous_hash"])
    except (KeyError, ValueError, TypeError) as exc:
        report.add(layout.ENTRIES, "cli.bundle.unreadable", error=exc)
        return {}
    verdict = verify_checkpoint(checkpoint, trusted, tsa_trust)
    report.timestamp, report.proven_at = verdict.timestamp, (
        verdict.proven_at.isoformat() if verdict.proven_at is not None else None)
    problem = checkpoint_break(verdict)
    if problem is not None:
        report.problems.append(Problem(layout.CHECKPOINT, problem.message_vi, problem.message_en))
    elif not verdict.signed:
        report.note("cli.bundle.checkpoint_unsigned")
    if verdict.timestamp == "passed":
        report.note("cli.bundle.timestamp_holds", at=report.proven_at)
    elif verdict.timestamp == "not checked":
        report.note("cli.bundle.timestamp_unchecked")
    walk = ChainWalk(first, previous, {checkpoint.n: checkpoint.hash})
    walk.feed(rows)
    broken = walk.finish()
    if broken is None and walk.last != checkpoint.n:
        report.add(layout.ENTRIES, "cli.bundle.beyond_checkpoint", n=checkpoint.n)
    if broken is not None:
        report.problems.append(Problem(f"{layout.ENTRIES} ({line('cli.entry', n=broken.n)})", broken.message_vi,
                                       broken.message_en))
    whole = {entry.n: entry for entry in rows if entry.content}
    for n in audit.get("entries") or []:
        if n not in whole:
            report.add(f"{layout.ENTRIES} ({line('cli.entry', n=n)})", "cli.bundle.entry_withheld")
    return whole


def _signed(data: bytes) -> bool:
    text = data.lstrip()[:4096].decode("utf-8", "replace")
    if text.startswith("<"):
        return "Signature" in data.decode("utf-8", "replace")
    if text.startswith("{"):
        return '"signature' in text or '"protected"' in text
    return text.count(".") >= 2


def _check_receipt_timestamps(name: str, data: bytes, tsa_trust: TrustPolicy | None, report: BundleReport) -> None:
    """Each RFC 3161 token of a signed receipt, as ``signing.timestamps`` judges a signature's: its imprint over
    the signature value as signed, the TSA's signature, its chain to ``tsa_trust`` at genTime."""
    try:
        tokens = xmldsig.timestamp_tokens(data) if data.lstrip().startswith(b"<") else jws.timestamp_tokens(
            data.decode("ascii"))
    except Exception:  # noqa: BLE001 - an unreadable receipt was named by the signature check already
        return
    for index, (token, covered) in enumerate(tokens, 1):
        place = f"{name} ({' / '.join(text('evidence.receipt_tst', index=index))})"
        if tsa_trust is None:
            report.receipt_timestamps[place] = "not checked"
            report.note("evidence.receipt_tst_unchecked", place)
            continue
        try:
            proven = verify_timestamp(base64.b64decode("".join(token.split()), validate=True), covered, tsa_trust)
        except (TimestampError, ValueError) as exc:
            report.receipt_timestamps[place] = f"failed: {exc}"
            report.add(place, "evidence.receipt_tst_failed", why=str(exc)[:300])
            continue
        at = proven.astimezone(LOCAL).isoformat()
        report.receipt_timestamps[place] = f"passed: {at}"
        report.note("evidence.receipt_tst_passed", place, at=at)


def _check_receipt(name: str, data: bytes, origin: str | None, trusted: list[x509.Certificate] | None,
                   report: BundleReport) -> None:
    """A signed receipt's signature: broken is a problem; a chain not judged (no --cert, an expired key)
    is a note. The gateway's certificate is trusted as given (pinned), offline."""
    if not _signed(data):
        report.note("cli.bundle.receipt_unsigned", name, origin=origin or "reissued")
        return
    pinned = tuple(asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in trusted or ())
    policy = TrustPolicy("evidence-receipt", pinned=pinned)
    try:
        result = verify_xml(data, policy) if data.lstrip().startswith(b"<") else verify_jws(data, policy)
        verification = result[0]
    except Exception as exc:  # noqa: BLE001 - an unreadable receipt is a problem named, not a crash
        report.add(name, "cli.bundle.receipt_unchecked", error=type(exc).__name__)
        return
    if verification.verdict is Verdict.FAILED:
        reason = "; ".join(f"{s.reason.value}" for s in verification.signatures)
        report.add(name, "cli.bundle.receipt_fails", reason=reason)
    elif verification.verdict is Verdict.PASSED:
        report.note("cli.bundle.receipt_holds", name, origin=origin)
    else:
        reason = "; ".join(f"{s.reason.value}" for s in verification.signatures)
        report.note("cli.bundle.receipt_signer_unconfirmed", name, reason=reason + ("" if trusted else ", no --cert"),
                    origin=origin)


def _check_packets(members: dict[str, bytes], manifest: dict[str, Any], entries: dict[int, Entry],
                   report: BundleReport, trusted: list[x509.Certificate] | None = None,
                   tsa_trust: TrustPolicy | None = None) -> None:
    """Each packet's bytes match the SHA-256 its accepting audit entry recorded, and so does its receipt."""
    recorded = {item.get("packet_id"): item.get("sha256") for entry in entries.values()
                for item in entry.accepted() if item.get("dossier") == manifest.get("dossier")}
    for packet in manifest.get("packets") or []:
        packet_id, sha256, raw = packet.get("packet_id"), packet.get("sha256"), packet.get("raw")
        if packet_id not in recorded:
            report.note("cli.bundle.no_acceptance", f"{packet.get('stem')}")
        elif recorded[packet_id] != sha256:
            report.add(f"{packet.get('stem')}", "cli.bundle.packet_not_logged")
        if raw is not None and raw in members and hashlib.sha256(members[raw]).hexdigest() != sha256:
            report.add(raw, "cli.bundle.raw_differs")
        receipt = next((name for name in members if name.startswith("receipts/")
                        and name.rsplit(".", 1)[0] == str(packet.get("stem")).replace("packets/", "receipts/", 1)),
                       None)
        if receipt is not None and _receipt_hash(members[receipt]) != sha256:
            report.add(receipt, "cli.bundle.receipt_other_hash")
        elif receipt is not None:
            _check_receipt(receipt, members[receipt], packet.get("receipt"), trusted, report)
            if _signed(members[receipt]):
                _check_receipt_timestamps(receipt, members[receipt], tsa_trust, report)
