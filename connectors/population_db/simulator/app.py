"""The simulated National Population Database: SOAP over HTTP from the project's WSDL (served at
``?wsdl`` with this server's address), the brief's header authentication, a synthetic population, and
faults switched through ``/_admin``: slowness, SOAP faults, HTTP errors, malformed answers."""

import asyncio
import base64
from dataclasses import asdict, dataclass, field
import hashlib
import hmac
from pathlib import Path
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from connectors.population_db.simulator import soap
from connectors.population_db.simulator.population import Population
from connectors.population_db.simulator.settings import SimulatorSettings
from gateway.kit import Unreadable, parse_json_document

WSDL = Path(__file__).resolve().parents[1] / "dancu.wsdl"
XML = "text/xml; charset=utf-8"
MAX_REQUEST = 65536  # a look-up is a few hundred bytes


@dataclass
class Faults:
    delay_seconds: float = 0.0  # before answering
    soap_fault: str | None = None  # a faultcode, e.g. "soap:Server" or "soap:Client"
    fault_string: str = "Lỗi hệ thống — simulated fault"
    http_status: int | None = None  # answered with this status and a plain-text body
    retry_after: int | None = None  # with http_status 429/503
    malformed: str | None = None  # "truncated", "not_xml", "wrong_namespace", "huge"
    times: int | None = None  # how many calls the fault lasts (None: until reset)


@dataclass
class Stats:
    calls: int = 0
    refused_auth: int = 0
    refused_envelope: int = 0  # LGSP requests whose JSON envelope was not the expected one
    tokens_issued: int = 0
    answered: dict[str, int] = field(default_factory=dict)
    headers_seen: list[dict[str, str]] = field(default_factory=list)  # the last few, for tests


class Simulation:
    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.population = Population.generate(settings.population_size, settings.seed)
        self.faults = Faults()
        self.stats = Stats()
        self.tokens: dict[str, float] = {}  # LGSP bearer tokens → when they expire (monotonic)
        self.lock = threading.Lock()

    def fault_now(self) -> Faults | None:
        """The faults that apply to this call (counting down ``times``)."""
        with self.lock:
            current = self.faults
            if current == Faults():
                return None
            if current.times is not None:
                current.times -= 1
                if current.times <= 0:
                    self.faults = Faults()
            return current


def _expected_timestamp_ok(settings: SimulatorSettings, value: str) -> bool:
    if not value.isdigit():
        return False
    now = time.time()
    stamp = int(value) / (1000 if settings.timestamp_unit == "milliseconds" else 1)
    return abs(now - stamp) <= settings.window_seconds


def authentication_problem(settings: SimulatorSettings, headers: Any, url: str) -> str | None:
    """Why the headers are refused, or None: Timestamp in the expected unit and window, Authorization
    ``Basic base64(username:sha256hex(auth_url + username + timestamp + secret))``, X-Road-Client, ApiKey."""
    timestamp = headers.get("timestamp", "")
    if not _expected_timestamp_ok(settings, timestamp):
        return "Timestamp missing or outside the window"
    scheme, _, token = headers.get("authorization", "").partition(" ")
    try:
        user, _, digest = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return "Authorization unreadable"
    auth_url = settings.auth_url or url
    expected = hashlib.sha256(f"{auth_url}{settings.username}{timestamp}{settings.secret}".encode()).hexdigest()
    if scheme.lower() != "basic" or user != settings.username or not hmac.compare_digest(digest.lower(), expected):
        return "Authorization does not match"
    if not hmac.compare_digest(headers.get("x-road-client", ""), settings.x_road_client):
        return "X-Road-Client unknown"
    if not hmac.compare_digest(headers.get("apikey", ""), settings.api_key):
        return "ApiKey invalid"
    return None


def _malformed(kind: str) -> bytes:
    good = soap.lookup_answer(None)
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "wrong_namespace":
        return good.replace(soap.DC.encode(), b"http://example.invalid/other")
    if kind == "huge":
        return b"<x>" + b"a" * 5_000_000 + b"</x>"
    return b"<html><body>502 Bad Gateway (proxy)</body></html>"


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    sim = Simulation(settings)
    app = FastAPI(title="CSDLQG về dân cư (mô phỏng) — simulated population database", docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.simulation = sim
    wsdl = WSDL.read_text(encoding="utf-8")

    @app.get(settings.path)
    async def describe(request: Request) -> Response:
        if "wsdl" not in {key.lower() for key in request.query_params}:
            return Response("GET ?wsdl for the description", status_code=405)
        here = str(request.url.remove_query_params(list(request.query_params.keys())))
        return Response(wsdl.replace("https://csdlqgdc.invalid/dancu", here), media_type=XML)

    @app.post(settings.path)
    async def call(request: Request) -> Response:
        body = await request.body()
        url = str(request.url)
        with sim.lock:
            sim.stats.calls += 1
            sim.stats.headers_seen = [*sim.stats.headers_seen[-9:], {k.lower(): v for k, v in request.headers.items()}]
        if not request.headers.get("content-type", "").lower().startswith("text/xml"):
            return Response(soap.fault("soap:Client", "Content-Type must be text/xml"), 415, media_type=XML)
        if "soapaction" not in {k.lower() for k in request.headers.keys()}:
            return Response(soap.fault("soap:Client", "SOAPAction header missing"), 400, media_type=XML)
        if settings.variant != "national":
            return Response("reached through the province's platform only (simulated)", 404, media_type="text/plain")
        problem = authentication_problem(settings, request.headers, url)
        if problem is not None:
            with sim.lock:
                sim.stats.refused_auth += 1
            return Response(f"401 Unauthorized: {problem}", 401, media_type="text/plain")
        return await answer(body)

    async def answer(body: bytes) -> Response:
        """The database's answer to an authenticated SOAP request (faults as switched)."""
        if len(body) > MAX_REQUEST:
            return Response(soap.fault("soap:Client", "request too large"), 500, media_type=XML)
        faults = sim.fault_now()
        if faults is not None and faults.delay_seconds:
            await asyncio.sleep(faults.delay_seconds)
        if faults is not None and faults.http_status:
            headers = {"Retry-After": str(faults.retry_after)} if faults.retry_after else None
            return Response(f"HTTP {faults.http_status} (simulated)", faults.http_status, headers=headers,
                            media_type="text/plain")
        if faults is not None and faults.soap_fault:
            return Response(soap.fault(faults.soap_fault, faults.fault_string), 500, media_type=XML)
        try:
            operation, fields = soap.read_request(body)
        except soap.ClientFault as exc:
            return Response(soap.fault("soap:Client", str(exc)), 500, media_type=XML)
        if faults is not None and faults.malformed:
            return Response(_malformed(faults.malformed), 200, media_type=XML)
        person = sim.population.find(fields.get("SoDinhDanh"), fields.get("SoCMND"), fields["HoVaTen"],
                                     fields["birth"])
        with sim.lock:
            key = f"{operation}:{'found' if person else 'not_found'}"
            sim.stats.answered[key] = sim.stats.answered.get(key, 0) + 1
        if operation == "XacThucThongTinCongDan":
            return Response(soap.verify_answer(person is not None), media_type=XML)
        return Response(soap.lookup_answer(person.record if person else None), media_type=XML)

    @app.post("/lgsp/token")
    async def lgsp_token(request: Request) -> JSONResponse:
        """OAuth client credentials, strictly: the form's grant_type and the client's id and secret (in the form
        or as HTTP Basic, as the simulator is set)."""
        if settings.variant != "lgsp":
            return JSONResponse({"error": "not_found"}, 404)
        if not request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
            return JSONResponse({"error": "invalid_request"}, 400)
        try:
            form = {k: v[0] for k, v in parse_qs((await request.body())[:4096].decode("utf-8"), strict_parsing=True,
                                                   max_num_fields=10).items()}
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "invalid_request"}, 400)
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if settings.lgsp_credentials_in == "basic":
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            try:
                client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = ""
            if scheme.lower() != "basic":
                client_id = ""
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if not (hmac.compare_digest(client_id, settings.lgsp_client_id)
                and hmac.compare_digest(client_secret, settings.lgsp_client_secret)):
            with sim.lock:
                sim.stats.refused_auth += 1
            return JSONResponse({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(24)
        with sim.lock:
            sim.tokens[token] = time.monotonic() + settings.lgsp_token_seconds
            sim.stats.tokens_issued += 1
        return JSONResponse({"access_token": token, "token_type": "Bearer",
                             "expires_in": int(settings.lgsp_token_seconds)})

    @app.post("/lgsp" + settings.path)
    async def lgsp_call(request: Request) -> Response:
        """The platform: a valid bearer token, a JSON object whose request member is the SOAP envelope (a
        string); the database's answer carried back in the answer member, with its HTTP status."""
        with sim.lock:
            sim.stats.calls += 1
            sim.stats.headers_seen = [*sim.stats.headers_seen[-9:], {k.lower(): v for k, v in request.headers.items()}]
        if settings.variant != "lgsp":
            return JSONResponse({"error": "not_found"}, 404)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with sim.lock:
            expires = sim.tokens.get(token) if scheme.lower() == "bearer" else None
            if expires is None or expires <= time.monotonic():
                sim.stats.refused_auth += 1
                return JSONResponse({"error": "invalid_token"}, 401, headers={"WWW-Authenticate": "Bearer"})
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            return JSONResponse({"error": "invalid_request", "detail": "Content-Type must be JSON"}, 415)
        raw = await request.body()
        try:
            envelope = parse_json_document(raw.decode("utf-8")) if len(raw) <= MAX_REQUEST else None
        except (Unreadable, UnicodeDecodeError):
            envelope = None
        inner = envelope.get(settings.lgsp_request_field) if isinstance(envelope, dict) else None
        if not isinstance(inner, str) or not inner:
            with sim.lock:
                sim.stats.refused_envelope += 1
            return JSONResponse({"error": "invalid_request",
                                 "detail": f"a JSON object with a string member {settings.lgsp_request_field!r}"}, 400)
        soap_answer = await answer(inner.encode("utf-8"))
        if soap_answer.media_type != XML:  # an HTTP error of the database: relayed as the platform's own
            wait = soap_answer.headers.get("retry-after")
            return JSONResponse({"error": "upstream", "status": soap_answer.status_code}, soap_answer.status_code,
                                headers={"Retry-After": wait} if wait else None)
        return JSONResponse({settings.lgsp_answer_field: bytes(soap_answer.body).decode("utf-8", "replace")},
                            soap_answer.status_code)

    @app.post("/_admin/lgsp/expire")
    async def lgsp_expire() -> JSONResponse:
        """Every token issued so far expires now (the gateway's next call is refused with 401)."""
        with sim.lock:
            sim.tokens = dict.fromkeys(sim.tokens, 0.0)
        return JSONResponse({"expired": len(sim.tokens)})

    @app.post("/_admin/faults")
    async def set_faults(request: Request) -> JSONResponse:
        changes = await request.json()
        with sim.lock:
            sim.faults = Faults(**{**asdict(sim.faults), **changes})
            return JSONResponse(asdict(sim.faults))

    @app.post("/_admin/settings")
    async def set_settings(request: Request) -> JSONResponse:
        """Switch what the database expects (e.g. the Timestamp unit) while running."""
        changes = await request.json()
        for key, value in changes.items():
            if hasattr(settings, key):
                setattr(settings, key, value)
        return JSONResponse({"timestamp_unit": settings.timestamp_unit, "window_seconds": settings.window_seconds,
                             "variant": settings.variant})

    @app.post("/_admin/reset")
    async def reset() -> JSONResponse:
        with sim.lock:
            sim.faults, sim.stats, sim.tokens = Faults(), Stats(), {}
        return JSONResponse({"reset": True})

    @app.get("/_admin/stats")
    async def stats() -> JSONResponse:
        with sim.lock:
            return JSONResponse(asdict(sim.stats))

    @app.get("/_admin/citizens")
    async def citizens(count: int = 5) -> JSONResponse:
        """Some of the synthetic people, for tests and demos to look up."""
        return JSONResponse(sim.population.sample(min(count, 100)))

    return app
