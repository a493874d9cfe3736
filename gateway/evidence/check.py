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
from gateway.messages import text
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

    def add(self, place: str, vi: str, en: str) -> None:
        self.problems.append(Problem(place, vi, en))

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
        report.add(str(path), f"không phải tệp zip đọc được ({exc})", f"not a readable zip file ({exc})")
        return None
    members: dict[str, bytes] = {}
    total = 0
    with bundle:
        infos = bundle.infolist()
        if len(infos) > layout.MAX_MEMBERS:
            report.add(str(path), "quá nhiều tệp", f"too many members ({len(infos)})")
            return None
        for info in infos:
            total += info.file_size
            if info.file_size > layout.MAX_MEMBER_BYTES or total > layout.MAX_TOTAL_BYTES:
                report.add(info.filename, "tệp quá lớn", "member too large")
                return None
            if info.filename in members:
                report.add(info.filename, "tên tệp bị lặp trong zip", "the name appears twice in the zip")
                continue
            try:
                members[info.filename] = bundle.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                report.add(info.filename, f"tệp bị hỏng hoặc bị sửa ({exc})", f"damaged or altered ({exc})")
    return members


def _json(members: dict[str, bytes], name: str, report: BundleReport) -> Any:
    try:
        return json.loads(members[name])
    except KeyError:
        report.add(name, "thiếu tệp", "missing")
    except ValueError as exc:
        report.add(name, f"không đọc được JSON ({exc})", f"not readable JSON ({exc})")
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
            report.add(layout.MANIFEST, "không phải bản kê của gói bằng chứng", "not an evidence bundle manifest")
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
            report.add(name, "thiếu tệp có trong bản kê", "listed in the manifest but missing")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            report.add(name, "nội dung khác với mã băm trong bản kê (đã bị sửa)",
                       "content differs from the manifest's SHA-256 (altered)")
    for name in sorted(set(members) - set(listed) - {layout.MANIFEST, layout.MANIFEST_SIGNATURE}):
        report.add(name, "tệp không có trong bản kê (bị thêm vào)", "not listed in the manifest (added)")


def _check_manifest_signature(members: dict[str, bytes], manifest: dict[str, Any],
                              trusted: list[x509.Certificate] | None, report: BundleReport) -> None:
    signature = members.get(layout.MANIFEST_SIGNATURE)
    if signature is None:
        report.notes.append("bản kê không được ký (cổng chưa cấu hình khoá ký) / the manifest is unsigned "
                            "(no signing key was configured): hashes prove consistency, not origin")
        if trusted:
            report.add(layout.MANIFEST_SIGNATURE, "thiếu chữ ký của bản kê", "the manifest's signature is missing")
        return
    opened = open_jws(signature.decode("ascii", "replace"), trusted)
    report.signer = opened.signer
    if opened.problem is not None:
        report.add(layout.MANIFEST_SIGNATURE, opened.problem, opened.problem)
    elif opened.claims != manifest:
        report.add(layout.MANIFEST, "khác với bản kê đã ký", "differs from the signed manifest")
    elif opened.trusted is False:
        report.add(layout.MANIFEST_SIGNATURE, f"người ký không được tin cậy: {opened.signer}",
                   f"signer not trusted: {opened.signer}")
    elif opened.trusted is None:
        report.notes.append(f"chữ ký đúng, người ký {opened.signer}; chưa đối chiếu chứng thư tin cậy (--cert) / "
                            f"signature holds, signer {opened.signer}; no trusted certificate given (--cert)")


def _check_chain(members: dict[str, bytes], manifest: dict[str, Any], trusted: list[x509.Certificate] | None,
                 tsa_trust: TrustPolicy | None, report: BundleReport) -> dict[int, Entry]:
    audit = manifest.get("audit") or {}
    raw_checkpoint = _json(members, layout.CHECKPOINT, report)
    if raw_checkpoint is None or layout.ENTRIES not in members:
        if layout.ENTRIES not in members:
            report.add(layout.ENTRIES, "thiếu tệp", "missing")
        return {}
    try:
        checkpoint = Checkpoint.from_dict(raw_checkpoint)
        rows = [Entry.from_dict(json.loads(line)) for line in members[layout.ENTRIES].splitlines() if line.strip()]
        first, previous = int(audit["first"]), str(audit["previous_hash"])
    except (KeyError, ValueError, TypeError) as exc:
        report.add(layout.ENTRIES, f"không đọc được ({exc})", f"not readable ({exc})")
        return {}
    verdict = verify_checkpoint(checkpoint, trusted, tsa_trust)
    report.timestamp, report.proven_at = verdict.timestamp, (
        verdict.proven_at.isoformat() if verdict.proven_at is not None else None)
    problem = checkpoint_break(verdict)
    if problem is not None:
        report.add(layout.CHECKPOINT, problem.message_vi, problem.message_en)
    elif not verdict.signed:
        report.notes.append("điểm chốt không được ký / the checkpoint is unsigned")
    if verdict.timestamp == "passed":
        report.notes.append(f"dấu thời gian của điểm chốt hợp lệ, điểm chốt có từ / the checkpoint's timestamp "
                            f"holds, it existed at: {report.proven_at}")
    elif verdict.timestamp == "not checked":
        report.notes.append("điểm chốt có dấu thời gian, chưa kiểm tra (--tsa-trust) / the checkpoint has a "
                            "timestamp, not checked (no --tsa-trust given)")
    walk = ChainWalk(first, previous, {checkpoint.n: checkpoint.hash})
    walk.feed(rows)
    broken = walk.finish()
    if broken is None and walk.last != checkpoint.n:
        report.add(layout.ENTRIES, "có mục sau điểm chốt", f"entries beyond the checkpoint (entry {checkpoint.n})")
    if broken is not None:
        report.add(f"{layout.ENTRIES} (mục / entry {broken.n})", broken.message_vi, broken.message_en)
    whole = {entry.n: entry for entry in rows if entry.content}
    for n in audit.get("entries") or []:
        if n not in whole:
            report.add(f"{layout.ENTRIES} (mục / entry {n})", "thiếu nội dung mục của hồ sơ",
                       "the dossier's entry is missing or withheld")
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
            report.notes.append(f"{place}: " + " / ".join(text("evidence.receipt_tst_unchecked")))
            continue
        try:
            proven = verify_timestamp(base64.b64decode("".join(token.split()), validate=True), covered, tsa_trust)
        except (TimestampError, ValueError) as exc:
            report.receipt_timestamps[place] = f"failed: {exc}"
            report.add(place, *text("evidence.receipt_tst_failed", why=str(exc)[:300]))
            continue
        at = proven.astimezone(LOCAL).isoformat()
        report.receipt_timestamps[place] = f"passed: {at}"
        report.notes.append(f"{place}: " + " / ".join(text("evidence.receipt_tst_passed", at=at)))


def _check_receipt(name: str, data: bytes, origin: str | None, trusted: list[x509.Certificate] | None,
                   report: BundleReport) -> None:
    """A signed receipt's signature: broken is a problem; a chain not judged (no --cert, an expired key)
    is a note. The gateway's certificate is trusted as given (pinned), offline."""
    if not _signed(data):
        report.notes.append(f"{name}: biên nhận không ký / unsigned receipt ({origin or 'reissued'})")
        return
    pinned = tuple(asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in trusted or ())
    policy = TrustPolicy("evidence-receipt", pinned=pinned)
    try:
        result = verify_xml(data, policy) if data.lstrip().startswith(b"<") else verify_jws(data, policy)
        verification = result[0]
    except Exception as exc:  # noqa: BLE001 - an unreadable receipt is a problem named, not a crash
        report.add(name, f"không kiểm tra được chữ ký biên nhận ({type(exc).__name__})",
                   f"the receipt's signature could not be checked ({type(exc).__name__})")
        return
    if verification.verdict is Verdict.FAILED:
        reason = "; ".join(f"{s.reason.value}" for s in verification.signatures)
        report.add(name, f"chữ ký biên nhận không đúng ({reason})", f"the receipt's signature fails ({reason})")
    elif verification.verdict is Verdict.PASSED:
        report.notes.append(f"{name}: chữ ký biên nhận hợp lệ / the receipt's signature holds ({origin})")
    else:
        reason = "; ".join(f"{s.reason.value}" for s in verification.signatures)
        report.notes.append(f"{name}: chữ ký biên nhận nguyên vẹn, chưa xác nhận người ký / the receipt's "
                            f"signer not confirmed ({reason}{'' if trusted else ', no --cert'}) ({origin})")


def _check_packets(members: dict[str, bytes], manifest: dict[str, Any], entries: dict[int, Entry],
                   report: BundleReport, trusted: list[x509.Certificate] | None = None,
                   tsa_trust: TrustPolicy | None = None) -> None:
    """Each packet's bytes match the SHA-256 its accepting audit entry recorded, and so does its receipt."""
    recorded = {item.get("packet_id"): item.get("sha256") for entry in entries.values()
                for item in entry.accepted() if item.get("dossier") == manifest.get("dossier")}
    for packet in manifest.get("packets") or []:
        packet_id, sha256, raw = packet.get("packet_id"), packet.get("sha256"), packet.get("raw")
        if packet_id not in recorded:
            report.notes.append(f"{packet.get('stem')}: không có mục tiếp nhận trong nhật ký (tiếp nhận trước khi có "
                                f"chuỗi kiểm toán) / no acceptance entry (accepted before the audit chain existed)")
        elif recorded[packet_id] != sha256:
            report.add(f"{packet.get('stem')}", "mã băm không khớp với nhật ký kiểm toán (hoặc thiếu mục tiếp nhận)",
                       "its SHA-256 does not match the audit log's (or its acceptance entry is missing)")
        if raw is not None and raw in members and hashlib.sha256(members[raw]).hexdigest() != sha256:
            report.add(raw, "khác với gói tin đã tiếp nhận (mã băm)", "differs from the packet accepted (SHA-256)")
        receipt = next((name for name in members if name.startswith("receipts/")
                        and name.rsplit(".", 1)[0] == str(packet.get("stem")).replace("packets/", "receipts/", 1)),
                       None)
        if receipt is not None and _receipt_hash(members[receipt]) != sha256:
            report.add(receipt, "biên nhận không nói đúng mã băm của gói tin", "the receipt names another SHA-256")
        elif receipt is not None:
            _check_receipt(receipt, members[receipt], packet.get("receipt"), trusted, report)
            if _signed(members[receipt]):
                _check_receipt_timestamps(receipt, members[receipt], tsa_trust, report)
