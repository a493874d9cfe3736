"""What the parts of the simulated portal share: settings, memory, faults, catalogue, answer helpers."""

from dataclasses import dataclass, field
import itertools
import json
import random
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from connectors.national_portal.simulator.settings import Faults, SimulatorSettings
from connectors.national_portal.simulator.state import PortalState

# The simulated portal's error codes (the real ones are not published; these are plausible).
SESSION_REFUSED, INVALID, NOT_FOUND, UNKNOWN_SERVICE, BAD_ENVELOPE, BAD_LOGIN, REFUSED = -1, 1, 2, 4, 5, 6, 9
MAX_ITEMS = 100


@dataclass
class Simulation:
    settings: SimulatorSettings
    procedures: list[dict[str, Any]]
    state: PortalState
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=random.Random)
    success_codes: "itertools.cycle[int | str]" = field(default_factory=lambda: itertools.cycle([0, "0", "00"]))

    @property
    def known_procedures(self) -> set[str] | None:
        """MaTTHC a dossier may name; None when any national code is accepted."""
        return {p["MaTTHC"] for p in self.procedures} if self.settings.require_known_procedure else None

    def answer(self, service: str, code: int | str, message: str, **extra: Any) -> JSONResponse:
        self.state.count(service, "0" if code == 0 else str(code))
        return JSONResponse({"error_code": code, "message": message, **extra})

    def ok(self, service: str, **extra: Any) -> JSONResponse:
        """Success, in the three spellings real portals use, in turn."""
        self.state.count(service, "0")
        return JSONResponse({"error_code": next(self.success_codes), "message": "Thành công", **extra})

    def invalid(self, service: str, errors: list[str]) -> JSONResponse:
        shown = "; ".join(errors[:10]) + (f"; … (+{len(errors) - 10})" if len(errors) > 10 else "")
        return self.answer(service, INVALID, f"Dữ liệu không hợp lệ: {shown}")


async def read_json(request: Request) -> Any:
    if not request.headers.get("content-type", "").lower().startswith("application/json"):
        raise ValueError("Content-Type phải là application/json")
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("Nội dung không phải JSON hợp lệ") from None


def items(body: dict[str, Any]) -> list[Any] | str:
    """The ``data`` array of a classic call, or why it is not usable."""
    data = body.get("data")
    if not isinstance(data, list) or not data:
        return "Thiếu data (mảng không rỗng)"
    if len(data) > MAX_ITEMS:
        return f"data vượt quá {MAX_ITEMS} phần tử"
    return data
