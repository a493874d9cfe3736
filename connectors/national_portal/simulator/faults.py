"""Playing the switched-on faults: every protocol call meets them before it is handled."""

import asyncio
import time

from fastapi.responses import JSONResponse, Response

from connectors.national_portal.simulator.portal import Simulation


class RateLimiter:
    """A token bucket holding one second of calls."""

    def __init__(self) -> None:
        self.tokens = 0.0
        self.stamp = time.monotonic()
        self.rate = 0.0

    def allow(self, rate: float) -> bool:
        now = time.monotonic()
        if rate != self.rate:
            self.rate, self.tokens = rate, rate
        self.tokens = min(max(rate, 1.0), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FaultPlayer:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.limiter = RateLimiter()

    def _applies(self, service: str) -> bool:
        return not self.sim.faults.services or service in self.sim.faults.services

    async def before(self, service: str) -> Response | None:
        """The fault this call meets, if any; a faulted call changes nothing."""
        faults, state = self.sim.faults, self.sim.state
        if not self._applies(service):
            return None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.maintenance:
            state.count(service, "HTTP 503")
            return JSONResponse({"message": "Hệ thống đang bảo trì / under maintenance"}, status_code=503,
                                headers={"Retry-After": str(faults.maintenance_retry_after)})
        if faults.rate_limit and not self.limiter.allow(faults.rate_limit):
            state.count(service, "HTTP 429")
            return JSONResponse({"message": "Vượt quá số lượt gọi cho phép / too many requests"}, status_code=429,
                                headers={"Retry-After": "1"})
        if faults.http_status:
            state.count(service, f"HTTP {faults.http_status}")
            return JSONResponse({"message": "Lỗi hệ thống / system error"}, status_code=faults.http_status)
        draw = self.sim.rng.random()
        for rate, name in ((faults.throttle_rate, "throttle"), (faults.error_rate, "error"),
                           (faults.timeout_rate, "timeout"), (faults.malformed_rate, "malformed")):
            if draw < rate:
                state.count(service, name)
                if name == "throttle":
                    return JSONResponse({"message": "Too many requests"}, status_code=429, headers={"Retry-After": "1"})
                if name == "error":
                    return Response("Internal Server Error", status_code=500, media_type="text/plain")
                if name == "timeout":
                    await asyncio.sleep(faults.hang_seconds)
                    return Response("Gateway Timeout", status_code=504, media_type="text/plain")
                return Response(b'{"error_code": 0, "message": "Th', media_type="application/json")
            draw -= rate
        return None

    async def lose_answer(self, service: str) -> Response | None:
        """After the call was applied: its answer lost (hang past the client's patience, then 504)."""
        faults = self.sim.faults
        if faults.lost_answer_rate and self._applies(service) and self.sim.rng.random() < faults.lost_answer_rate:
            self.sim.state.count(service, "lost answer")
            await asyncio.sleep(faults.hang_seconds)
            return Response("Gateway Timeout", status_code=504, media_type="text/plain")
        return None
