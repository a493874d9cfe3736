"""Switchable faults (POST /_admin/faults): every API call meets them before it is handled."""

import asyncio
from dataclasses import asdict, dataclass, field, fields
import random
from typing import Any

from fastapi.responses import JSONResponse, Response


@dataclass
class Faults:
    error_rate: float = 0.0  # HTTP 500
    timeout_rate: float = 0.0  # hang for hang_seconds, then 504
    throttle_rate: float = 0.0  # 429 with Retry-After
    malformed_rate: float = 0.0  # a 200 answer that is not JSON
    lost_answer_rate: float = 0.0  # the call is applied, then the answer is lost (hang, 504)
    latency_ms: int = 0
    hang_seconds: float = 2.0
    maintenance: bool = False  # 503 with Retry-After
    maintenance_retry_after: int = 5
    http_status: int = 0  # every call answered with this status
    business_status: int = 0  # orders answered 200 {Status: this} (e.g. 110 busy)
    calls: list[str] = field(default_factory=list)  # "orders", "cancel", "tracking"; empty: all
    seed: int = 1

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(self, name, type(getattr(self, name))(value) if name != "calls" else list(value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlayer:
    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self.faults, self.rng = faults, rng

    def _applies(self, call: str) -> bool:
        return not self.faults.calls or call in self.faults.calls

    async def before(self, call: str) -> Response | None:
        faults = self.faults
        if not self._applies(call):
            return None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.maintenance:
            return JSONResponse({"Status": 503, "Message": "Hệ thống đang bảo trì"}, status_code=503,
                                headers={"Retry-After": str(faults.maintenance_retry_after)})
        if faults.http_status:
            return JSONResponse({"Status": faults.http_status, "Message": "Lỗi hệ thống"}, status_code=faults.http_status)
        draw = self.rng.random()
        for rate, name in ((faults.throttle_rate, "throttle"), (faults.error_rate, "error"),
                           (faults.timeout_rate, "timeout"), (faults.malformed_rate, "malformed")):
            if draw < rate:
                if name == "throttle":
                    return JSONResponse({"Message": "Too many requests"}, status_code=429, headers={"Retry-After": "1"})
                if name == "error":
                    return Response("Internal Server Error", status_code=500, media_type="text/plain")
                if name == "timeout":
                    await asyncio.sleep(faults.hang_seconds)
                    return Response("Gateway Timeout", status_code=504, media_type="text/plain")
                return Response(b'{"Status": 100, "Mess', media_type="application/json")
            draw -= rate
        return None

    async def lose_answer(self, call: str) -> Response | None:
        if self._applies(call) and self.faults.lost_answer_rate and self.rng.random() < self.faults.lost_answer_rate:
            await asyncio.sleep(self.faults.hang_seconds)
            return Response("Gateway Timeout", status_code=504, media_type="text/plain")
        return None
