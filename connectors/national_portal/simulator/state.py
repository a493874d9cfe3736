"""The simulated portal's memory: sessions, and every dossier and progress step in the order received."""

from dataclasses import dataclass, field
import itertools
import json
import secrets
import time
from typing import Any
import uuid

TERMINAL = (3, 7, 8, 10)  # statuses after which nothing follows but the dossier's own history


@dataclass
class DossierRecord:
    data: dict[str, Any]
    protocol: str
    portal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    updates: int = 0
    progress: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set, repr=False)  # fingerprints of the steps received
    status: int | None = None  # the dossier's status now (its sync, or a later step)
    ended: str | None = None  # when a terminal status ended it; earlier steps are its history, later refused

    def follow_dossier(self) -> None:
        self.status = self.data.get("TrangThaiHoSo")
        ends = [str(self.data[name]) for name in ("NgayTra", "NgayKetThucXuLy", "NgayTuChoi") if self.data.get(name)]
        self.ended = max(ends) if self.status in TERMINAL and ends else None

    def follow_step(self, step: dict[str, Any]) -> None:
        if self.ended is not None:  # history of a finished dossier: its status stays
            return
        self.status = step.get("TrangThai")
        if self.status in TERMINAL:
            self.ended = str(step.get("ThoiDiemXuLy") or "") or None

    def to_dict(self) -> dict[str, Any]:
        return {"dossier": self.data, "protocol": self.protocol, "IdHoSo": self.portal_id, "updates": self.updates,
                "progress": self.progress, "status": self.status, "ended": self.ended}


@dataclass
class PortalState:
    session_ttl: float
    sessions: dict[str, float] = field(default_factory=dict)  # token → monotonic expiry
    dossiers: dict[str, DossierRecord] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)  # "service → answer" counters
    logins: int = 0
    sequence: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))  # order steps were accepted

    def open_session(self) -> str:
        token = secrets.token_urlsafe(24)
        self.sessions[token] = time.monotonic() + self.session_ttl
        self.logins += 1
        return token

    def session_valid(self, token: object) -> bool:
        expiry = self.sessions.get(token) if isinstance(token, str) else None
        if expiry is None:
            return False
        if time.monotonic() >= expiry:
            del self.sessions[token]  # type: ignore[arg-type]  # a str: its expiry was found
            return False
        return True

    def revoke_sessions(self) -> int:
        count = len(self.sessions)
        self.sessions.clear()
        return count

    def count(self, service: str, outcome: str) -> None:
        key = f"{service} → {outcome}"
        self.calls[key] = self.calls.get(key, 0) + 1

    def add_progress(self, code: str, step: dict[str, Any]) -> None:
        """Appends the step; one identical to a step already recorded is kept too (the portal has no
        idempotency key for steps) but marked, so a run can show whether anything arrived twice."""
        record = self.dossiers[code]
        fingerprint = json.dumps(step, sort_keys=True, ensure_ascii=False)
        repeated = fingerprint in record.seen
        record.seen.add(fingerprint)
        record.progress.append({"seq": next(self.sequence), **step, **({"repeat": True} if repeated else {})})
        record.follow_step(step)

    def record(self) -> dict[str, Any]:
        return {"dossiers": {code: record.to_dict() for code, record in self.dossiers.items()},
                "dossier_count": len(self.dossiers),
                "progress_count": sum(len(r.progress) for r in self.dossiers.values()),
                "repeated_steps": sum(1 for r in self.dossiers.values() for step in r.progress if step.get("repeat"))}
