"""The classic adapter protocol, as the portal answers it: login → session; one integration and one
share address; the service named in the JSON body with ``session`` and ``madonvi``; ``dstcode`` header."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from connectors.national_portal.inbound import normalise
from connectors.national_portal.simulator import validation
from connectors.national_portal.simulator.faults import FaultPlayer
from connectors.national_portal.simulator.portal import (
    BAD_ENVELOPE,
    BAD_LOGIN,
    INVALID,
    NOT_FOUND,
    REFUSED,
    SESSION_REFUSED,
    UNKNOWN_SERVICE,
    Simulation,
    items,
    read_json,
)
from connectors.national_portal.simulator.state import DossierRecord


def add_routes(app: FastAPI, sim: Simulation, player: FaultPlayer) -> None:
    settings, state, faults = sim.settings, sim.state, sim.faults
    answer, ok, invalid = sim.answer, sim.ok, sim.invalid
    fault = player.before
    known = sim.known_procedures
    procedures = sim.procedures

    @app.post(settings.auth_endpoint)
    async def login(request: Request) -> Response:
        if (failed := await fault("login")) is not None:
            return failed
        if request.headers.get("dstcode") != settings.dstcode:
            return answer("login", BAD_ENVELOPE, "dstcode không hợp lệ")
        try:
            body = await read_json(request)
        except ValueError as exc:
            return answer("login", INVALID, str(exc))
        if not isinstance(body, dict) or body.get("username") != settings.username \
                or body.get("password") != settings.password:
            return answer("login", BAD_LOGIN, "Tên đăng nhập hoặc mật khẩu không đúng")
        return answer("login", 0, "Thành công", session=state.open_session())  # clients read it as the integer 0

    async def classic(request: Request, share: bool) -> Response:
        try:
            body, unreadable = await read_json(request), ""
        except ValueError as exc:
            body, unreadable = None, str(exc)
        service = str(body.get("service", "?")) if isinstance(body, dict) else "?"
        if (failed := await fault(service)) is not None:
            return failed
        if unreadable:
            return answer(service, INVALID, unreadable)
        if not isinstance(body, dict):
            return answer(service, INVALID, "Nội dung phải là đối tượng JSON")
        if request.headers.get("dstcode") != settings.dstcode:
            return answer(service, BAD_ENVELOPE, "dstcode không hợp lệ")
        if not state.session_valid(body.get("session")):
            return answer(service, SESSION_REFUSED, "Session không hợp lệ hoặc đã hết hạn")
        if body.get("madonvi") != settings.madonvi:
            return answer(service, BAD_ENVELOPE, "madonvi không hợp lệ")
        handler = (SHARE if share else INTEGRATION).get(service)
        if handler is None:
            return answer(service, UNKNOWN_SERVICE, f"Dịch vụ {service} không được hỗ trợ tại địa chỉ này")
        answered = handler(service, body)
        return await player.lose_answer(service) or answered

    def sync_dossiers(service: str, body: dict[str, Any]) -> Response:
        updating = body.get("isUpdating")
        if updating not in ("True", "False"):
            return invalid(service, ['isUpdating: phải là "True" hoặc "False"'])
        data = items(body)
        if isinstance(data, str):
            return invalid(service, [data])
        data = read_as_portal("DongBoHoSoMC", data)
        errors = [e for n, item in enumerate(data) for e in
                  validation.dossier_errors(item, f"data[{n}]", settings.field_limits, known)]
        if errors:
            return invalid(service, errors)
        for item in data:
            if item["MaHoSo"] in faults.refuse:
                return answer(service, REFUSED, faults.refuse[item["MaHoSo"]])
            if updating == "False" and item["MaHoSo"] in state.dossiers:
                return answer(service, faults.exists_code, f"Hồ sơ {item['MaHoSo']} đã tồn tại trên hệ thống")
        for item in data:
            record = state.dossiers.get(item["MaHoSo"])
            if record is None:
                state.dossiers[item["MaHoSo"]] = DossierRecord(item, "classic")
            else:
                record.data, record.updates = item, record.updates + 1
            state.dossiers[item["MaHoSo"]].follow_dossier()
        return ok(service)

    def add_progress(service: str, body: dict[str, Any]) -> Response:
        data = items(body)
        if isinstance(data, str):
            return invalid(service, [data])
        data = read_as_portal("CapNhatTienDoHoSoMC", data)
        errors = [e for n, item in enumerate(data) for e in
                  validation.progress_errors(item, f"data[{n}]", settings.field_limits)]
        if errors:
            return invalid(service, errors)
        for n, item in enumerate(data):
            record = state.dossiers.get(item["MaHoSo"])
            if record is None:
                return answer(service, NOT_FOUND, f"Không tìm thấy hồ sơ {item['MaHoSo']}")
            if item["MaHoSo"] in faults.refuse:
                return answer(service, REFUSED, faults.refuse[item["MaHoSo"]])
            if record.ended is not None and str(item.get("ThoiDiemXuLy", "")) > record.ended:
                return invalid(service, [f"data[{n}].ThoiDiemXuLy: sau khi hồ sơ đã kết thúc xử lý"])
        for item in data:
            state.add_progress(item["MaHoSo"], item)
        return ok(service)

    def find_dossier(service: str, body: dict[str, Any]) -> Response:
        code = body.get("mahoso")  # the portal's key, in lower case
        if not isinstance(code, str) or not code:
            return invalid(service, ["mahoso: bắt buộc"])
        record = state.dossiers.get(code)
        return ok(service, result=[record.data] if record else [])

    def get_procedure(service: str, body: dict[str, Any]) -> Response:
        code = body.get("maTTHC")
        if not isinstance(code, str) or not code:
            return invalid(service, ["maTTHC: bắt buộc"])
        return ok(service, result=upper_keys([p for p in procedures if p["MaTTHC"] == code]))

    def list_procedures(service: str, body: dict[str, Any]) -> Response:
        page, size = body.get("page", 1), body.get("pageSize", 50)
        if not (isinstance(page, int) and page >= 1 and isinstance(size, int) and 1 <= size <= 500):
            return invalid(service, ["page, pageSize: số nguyên dương (pageSize ≤ 500)"])
        return ok(service, result=upper_keys(procedures[(page - 1) * size:page * size]), total=len(procedures))

    INTEGRATION = {"DongBoHoSoMC": sync_dossiers, "CapNhatTienDoHoSoMC": add_progress, "TraCuuHoSo": find_dossier,
                   "LayThuTuc": get_procedure}
    SHARE = {"LayThuTuc": get_procedure, "LayDanhSachTTHC": list_procedures, "TraCuuHoSo": find_dossier}

    @app.post(settings.integration_endpoint)
    async def integration(request: Request) -> Response:
        return await classic(request, share=False)

    @app.post(settings.share_endpoint)
    async def share(request: Request) -> Response:
        return await classic(request, share=True)


def read_as_portal(service: str, data: list[Any]) -> list[Any]:
    """What real clients send, read as the portal does: numbers and codes as text, "True"/"False",
    "" / null / [] for absent values. A value that is none of these is left for the checks to refuse."""
    return [normalise(service, item) if isinstance(item, dict) else item for item in data]


def upper_keys(value: Any) -> Any:
    """The catalogue in the portal's own key spelling (``TENTTHC``, ``LINHVUCTHUCHIEN[0].MALINHVUC``)."""
    if isinstance(value, list):
        return [upper_keys(item) for item in value]
    if isinstance(value, dict):
        return {key.upper(): upper_keys(item) for key, item in value.items()}
    return value
