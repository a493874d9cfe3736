"""The newer token protocol: client credentials → bearer token; create a dossier, update its status,
append progress steps. Answers ``{"code", "message", "data"}``; dates ISO-8601 with milliseconds."""

from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from connectors.national_portal.simulator import validation
from connectors.national_portal.simulator.faults import FaultPlayer
from connectors.national_portal.simulator.portal import INVALID, MAX_ITEMS, NOT_FOUND, Simulation, read_json
from connectors.national_portal.simulator.state import DossierRecord


def add_routes(app: FastAPI, sim: Simulation, player: FaultPlayer) -> None:
    settings, state, faults = sim.settings, sim.state, sim.faults
    fault = player.before

    def token_answer(service: str, code: int, message: str, data: Any = None, status: int = 200) -> JSONResponse:
        state.count(service, str(code))
        return JSONResponse({"code": str(code), "message": message, "data": data}, status_code=status)

    @app.post(settings.token_endpoint)
    async def token(request: Request) -> Response:
        if (failed := await fault("token")) is not None:
            return failed
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if form.get("client_id") != [settings.client_id] or form.get("client_secret") != [settings.client_secret]:
            state.count("token", "HTTP 401")
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        state.count("token", "0")
        return JSONResponse({"access_token": state.open_session(), "expires_in": int(settings.session_ttl),
                             "token_type": "Bearer"})

    async def token_call(request: Request, service: str) -> tuple[Any, Response | None]:
        if (failed := await fault(service)) is not None:
            return None, failed
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not state.session_valid(bearer):
            return None, token_answer(service, 401, "Token không hợp lệ hoặc đã hết hạn", status=401)
        try:
            return await read_json(request), None
        except ValueError as exc:
            return None, token_answer(service, INVALID, str(exc), status=400)

    @app.post(settings.token_dossier_endpoint)
    async def token_dossier(request: Request) -> Response:
        service = "TaoHoSo"
        body, failed = await token_call(request, service)
        if failed is not None:
            return failed
        required = ("MaHoSo", "MaTTHC", "LoaiDoiTuong", "MaDonViTiepNhan", "NgayTiepNhan")
        errors = validation.token_errors(body, "", required, ("NgayNop", "NgayTiepNhan"), settings.field_limits)
        if not errors and body["MaDonViTiepNhan"] != settings.madonvi:
            errors.append("MaDonViTiepNhan: không khớp đơn vị đăng ký")
        if errors:
            return token_answer(service, INVALID, "Dữ liệu không hợp lệ: " + "; ".join(errors[:10]))
        if body["MaHoSo"] in state.dossiers:
            return token_answer(service, faults.exists_code, f"Hồ sơ {body['MaHoSo']} đã tồn tại")
        record = DossierRecord(body, "token")
        state.dossiers[body["MaHoSo"]] = record
        return token_answer(service, 0, "Thành công", {"IdHoSo": record.portal_id})

    @app.post(settings.token_progress_endpoint)
    async def token_progress(request: Request) -> Response:
        service = "CapNhatTienDo"
        body, failed = await token_call(request, service)
        if failed is not None:
            return failed
        if not isinstance(body, list) or not body or len(body) > MAX_ITEMS:
            return token_answer(service, INVALID, f"Nội dung phải là mảng 1–{MAX_ITEMS} phần tử")
        errors = [e for n, item in enumerate(body) for e in validation.token_errors(
            item, f"[{n}]", ("MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "TrangThai"),
            ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"), settings.field_limits)]
        if errors:
            return token_answer(service, INVALID, "Dữ liệu không hợp lệ: " + "; ".join(errors[:10]))
        for item in body:
            record = state.dossiers.get(item["MaHoSo"])
            if record is None or item.get("IDHoSo") not in (None, record.portal_id):
                return token_answer(service, NOT_FOUND, f"Không tìm thấy hồ sơ {item['MaHoSo']}")
        for item in body:
            state.add_progress(item["MaHoSo"], item)
        return token_answer(service, 0, "Thành công")

    @app.post(settings.token_status_endpoint)
    async def token_status(request: Request) -> Response:
        service = "CapNhatTrangThai"
        body, failed = await token_call(request, service)
        if failed is not None:
            return failed
        if not isinstance(body, list) or not body or len(body) > MAX_ITEMS:
            return token_answer(service, INVALID, f"Nội dung phải là mảng 1–{MAX_ITEMS} phần tử")
        errors = [e for n, item in enumerate(body)
                  for e in validation.token_errors(item, f"[{n}]", ("MaHoSo", "TrangThai"), (), {})]
        if errors:
            return token_answer(service, INVALID, "Dữ liệu không hợp lệ: " + "; ".join(errors[:10]))
        extras = ("DanhSachLePhi", "DanhSachGiayToKetQua")
        errors = [f"[{n}].{name}: chỉ gửi kèm trạng thái 5, 6, 9" for n, item in enumerate(body) for name in extras
                  if name in item and item["TrangThai"] not in (5, 6, 9)]
        if errors:
            return token_answer(service, INVALID, "Dữ liệu không hợp lệ: " + "; ".join(errors[:10]))
        for item in body:
            record = state.dossiers.get(item["MaHoSo"])
            if record is None or item.get("IdHoSo") not in (None, record.portal_id):
                return token_answer(service, NOT_FOUND, f"Không tìm thấy hồ sơ {item['MaHoSo']}")
        for item in body:
            record = state.dossiers[item["MaHoSo"]]
            changes = {k: item[k] for k in ("TrangThai", *extras) if k in item}
            record.data, record.updates = {**record.data, **changes}, record.updates + 1
        return token_answer(service, 0, "Thành công")
