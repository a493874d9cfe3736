"""The simulated database is a peer: plain zeep (its own requests transport) loads the WSDL from the
simulator's URL alone and calls it; requests that break the contract or the authentication are refused."""

import base64
import hashlib
import time
from typing import Any

import httpx
import pytest
import requests
import zeep
from zeep.exceptions import Fault, TransportError

from tests.population_db.conftest import SECRETS, X_ROAD, Simulator

SOAP_ACTION = {"SOAPAction": '""', "Content-Type": "text/xml; charset=utf-8"}


def headers(url: str, *, stamp: float | None = None, secret: str = SECRETS["secret"]) -> dict[str, str]:
    timestamp = str(int((time.time() if stamp is None else stamp) * 1000))
    digest = hashlib.sha256(f"{url}{SECRETS['username']}{timestamp}{secret}".encode()).hexdigest()
    token = base64.b64encode(f"{SECRETS['username']}:{digest}".encode()).decode()
    return {"Timestamp": timestamp, "Authorization": f"Basic {token}", "X-Road-Client": X_ROAD,
            "ApiKey": SECRETS["api_key"]}


class Signed(requests.Session):
    """A requests session adding the brief's headers, computed per call, as any client of the database does."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if method.upper() == "POST":
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers(url)}
        return super().request(method, url, *args, **kwargs)


def test_plain_zeep_from_the_wsdl_url_alone(simulator: Simulator) -> None:
    session = Signed()
    session.trust_env = False
    client = zeep.Client(simulator.endpoint + "?wsdl", transport=zeep.Transport(session=session))
    person = simulator.people(1)[0]
    name = " ".join(person["HoVaTen"][k] for k in ("Ho", "ChuDem", "Ten"))
    fields = {"MaYeuCau": "req-1", "MaDVC": "1.004227", "MaTichHop": "037", "MaCanBo": "001085000123",
              "MaDonVi": "000.00.01.H22", "SoDinhDanh": person["SoDinhDanh"], "HoVaTen": name,
              "NgayThangNamSinh": {"Nam": person["NgayThangNamSinh"]["NgayThangNam"][:4]}}
    found = client.service.TraCuuThongTinCongDan(**fields)
    assert found[0].SoDinhDanh == person["SoDinhDanh"] and found[0].HoVaTen.Ten == person["HoVaTen"]["Ten"]
    assert client.service.XacThucThongTinCongDan(**fields) is True
    empty = client.service.TraCuuThongTinCongDan(**{**fields, "HoVaTen": "Không Có Ai"})
    # an empty CongDan: nothing in it (zeep may hand it over as None)
    assert len(empty) == 1 and not [value for item in empty if item is not None
                                    for value in zeep.helpers.serialize_object(item, dict).values() if value]
    with pytest.raises(Fault) as fault:  # 9 digits are SoCMND's, not SoDinhDanh's
        client.service.TraCuuThongTinCongDan(**{**fields, "SoDinhDanh": "099123456"})
    assert fault.value.code == "soap:Client"


def _envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<s:Body>{body}</s:Body></s:Envelope>').encode()


GOOD = ('<TraCuuThongTinCongDan xmlns="http://dancuquocgia.bca"><MaYeuCau>1</MaYeuCau><MaDVC>1</MaDVC>'
        '<MaTichHop>037</MaTichHop><MaCanBo>001085000123</MaCanBo><MaDonVi>X</MaDonVi>'
        '<SoDinhDanh>099100000001</SoDinhDanh><HoVaTen>A</HoVaTen><NgayThangNamSinh>'
        '<NgayThangNam xmlns="http://www.mic.gov.vn/dancu/1.0">20000101</NgayThangNam></NgayThangNamSinh>'
        '</TraCuuThongTinCongDan>')


@pytest.mark.parametrize(("body", "extra", "status", "expect"), [
    (GOOD, {}, 200, b"CongDan"),
    (GOOD.replace("<MaDVC>1</MaDVC><MaTichHop>037</MaTichHop>", "<MaTichHop>037</MaTichHop><MaDVC>1</MaDVC>"), {},
     500, b"out of order"),
    (GOOD.replace("<MaCanBo>001085000123</MaCanBo>", ""), {}, 500, b"missing MaCanBo"),
    (GOOD, {"stamp": time.time() - 3600}, 401, b"Timestamp"),  # outside the window
    (GOOD, {"secret": "wrong"}, 401, b"Authorization"),
])
def test_strict_about_input(simulator: Simulator, body: str, extra: dict[str, Any], status: int,
                            expect: bytes) -> None:
    answer = httpx.post(simulator.endpoint, content=_envelope(body),
                        headers={**SOAP_ACTION, **headers(simulator.endpoint, **extra)})
    assert answer.status_code == status and expect in answer.content


def test_refuses_a_dtd(simulator: Simulator) -> None:
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' +
            _envelope(GOOD.replace("<HoVaTen>A", "<HoVaTen>&e;")).split(b"?>", 1)[1])
    answer = httpx.post(simulator.endpoint, content=evil, headers={**SOAP_ACTION, **headers(simulator.endpoint)})
    assert answer.status_code == 500 and b"soap:Client" in answer.content and b"root:" not in answer.content


def test_missing_soapaction_and_wrong_content_type(simulator: Simulator) -> None:
    signed = headers(simulator.endpoint)
    assert httpx.post(simulator.endpoint, content=_envelope(GOOD), headers={
        "Content-Type": "text/xml", **signed}).status_code == 400
    assert httpx.post(simulator.endpoint, content=_envelope(GOOD), headers={
        "Content-Type": "application/json", "SOAPAction": '""', **signed}).status_code == 415


def test_zeep_sees_http_errors_as_transport_errors(simulator: Simulator) -> None:
    simulator.faults(http_status=429, retry_after=5, times=1)
    session = Signed()
    session.trust_env = False
    client = zeep.Client(simulator.endpoint + "?wsdl", transport=zeep.Transport(session=session))
    with pytest.raises(TransportError) as error:
        client.service.XacThucThongTinCongDan(MaYeuCau="1", MaDVC="1", MaTichHop="037", MaCanBo="1", MaDonVi="X",
                                              SoCMND="990000001", HoVaTen="A", NgayThangNamSinh={"Nam": "2000"})
    assert error.value.status_code == 429
