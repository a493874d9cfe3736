"""schemathesis against the gateway's OpenAPI description, built in-process from the app object
(``app.openapi()``: it does not depend on ``/openapi.json`` being served): no 5xx, every error in
the documented shape. The routes read their bodies themselves, so the description FastAPI derives
has none; the test completes it — the packet's JSON Schema (schemas/v1) for /v1/validate and
/v1/packets, the classic protocol's envelope and items for the drop-in paths, the bearer key —
so that generated requests reach past the door. Authenticated calls carry a valid test key, and
classic calls a session from a real login. Examples are bounded (about a minute in CI).
"""

from collections.abc import Iterator
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest
import schemathesis
from schemathesis.python import asgi

from connectors.national_portal import inbound
from gateway.config import Config
from gateway.api import create_app
from connectors.national_portal.classic.routes import SHARE, WRITES

REPO = Path(__file__).resolve().parents[2]
KEY = "khoa-thu-nghiem-fuzz-3b1e"
USER, PASSWORD, AGENCY = "motcua-fuzz", "mat-khau-thu-fuzz", "000.00.01.H22"
EXAMPLES = 60  # per operation and phase: ~a minute for all of them on the CI machine


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _packet_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The packet's JSON Schema as a reference and its definitions as OpenAPI components."""
    text = (REPO / "schemas" / "v1" / "goitin.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))
    return {"$ref": schema["$ref"]}, schema["$defs"]


def _classic_body(services: tuple[str, ...]) -> dict[str, Any]:
    """The classic envelope as real clients send it; items with the portal's field names and loose values."""
    loose = {"type": ["string", "integer", "number", "boolean", "null", "array", "object"]}
    names = sorted({*inbound.HoSo.model_fields, *inbound.TienDoXuLy.model_fields})
    item = {"type": "object", "properties": {name: loose for name in names} | {"MaHoSo": {"type": "string"}},
            "required": ["MaHoSo"]}
    return {"type": "object", "required": ["session", "madonvi", "service"], "properties": {
        "session": {"type": "string"}, "madonvi": {"type": "string", "enum": [AGENCY]},
        "service": {"type": "string", "enum": list(services)}, "isUpdating": {"type": "string", "enum": ["True", "False"]},
        "data": {"type": "array", "items": item, "minItems": 1, "maxItems": 3}}}


def described(app: Any) -> dict[str, Any]:
    """The app's own description, with what its routes read from the body written in."""
    spec = copy.deepcopy(app.openapi())
    spec["openapi"] = "3.1.0"
    reference, definitions = _packet_schema()
    components = spec.setdefault("components", {})
    components["securitySchemes"] = {"key": {"type": "http", "scheme": "bearer"}}
    components.setdefault("schemas", {}).update(definitions)
    packet = {"required": True, "content": {"application/json": {"schema": reference}}}
    bodies = {"/v1/validate": packet, "/v1/packets": packet,
              "/adapter/auth": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "properties": {"username": {"type": "string", "enum": [USER, "x"]},
                                                   "password": {"type": "string"}}}}}},
              "/adapter/integration": {"required": True, "content": {"application/json": {
                  "schema": _classic_body(WRITES)}}},
              "/adapter/share": {"required": True, "content": {"application/json": {"schema": _classic_body(SHARE)}}}}
    assert set(bodies) <= set(spec["paths"]), sorted(spec["paths"])  # a renamed path must be described anew
    for path, body in bodies.items():
        spec["paths"][path]["post"]["requestBody"] = body
    spec["paths"]["/v1/packets"]["post"]["security"] = [{"key": []}]
    return spec


KEPT: list[Any] = []  # schemathesis keys an app's lifespan by id(app): no app may be freed and its id reused


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    directory = tmp_path
    config_file = directory / "gateway.toml"
    config_file.write_text(f"""
[store]
url = "sqlite:///{directory}/gateway.db"
batch_wait_ms = 1

[limits]  # the generated calls come from one client: its rate limits are not what is fuzzed
client_rate = 1e9
client_burst = 1000000000
lookup_rate = 1e9
lookup_burst = 1000000000

[clients.fuzz]
key_sha256 = "{_sha(KEY)}"

[inbound_classic.clients.mot_cua]
username = "{USER}"
password_sha256 = "{_sha(PASSWORD)}"
madonvi = ["{AGENCY}"]
""", encoding="utf-8")
    app = create_app(Config.load(config_file))
    KEPT.append(app)
    # schemathesis's own in-process client, kept open: one lifespan for every call (the store closes after)
    with asgi.get_client(app) as client:
        login = client.post(f"http://{asgi.HOST}/adapter/auth", json={"username": USER, "password": PASSWORD}).json()
        assert login["error_code"] == 0, login
        yield app, login["session"], client


@pytest.fixture
def api_schema(gateway: tuple[Any, str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(described(gateway[0]))
    schema.app = gateway[0]
    return schema


ISSUE = {"rule", "message_vi", "message_en"}


def _documented_error(path: str, status: int, body: Any) -> bool:
    """The shapes the README gives: a validation report, an ``error`` with both languages, or the classic
    protocol's own answer (always HTTP 200, ``error_code`` and ``message``)."""
    if path.startswith("/adapter/"):
        return status == 200 and isinstance(body, dict) and {"error_code", "message"} <= set(body)
    if not isinstance(body, dict):
        return False
    if "errors" in body:
        return body.get("valid") is False and bool(body["errors"]) and all(
            isinstance(issue, dict) and ISSUE <= set(issue) for issue in body["errors"])
    return isinstance(body.get("error"), str) and bool(body.get("message_vi")) and bool(body.get("message_en"))


OPERATIONS = ["/v1/validate", "/v1/packets", "/adapter/auth", "/adapter/integration", "/adapter/share"]


@pytest.mark.parametrize("path", OPERATIONS)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_5xx_and_every_error_documented(api_schema: Any, gateway: tuple[Any, str, Any], path: str,
                                           data: st.DataObject) -> None:
    case = data.draw(api_schema[path]["POST"].as_strategy())
    if case.path.startswith("/adapter/") and case.path != "/adapter/auth" and isinstance(case.body, dict):
        case.body["session"] = gateway[1]  # past the session check, to the items
    response = case.call(session=gateway[2], headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code < 500, (case.path, case.body, response.text[:2000])
    body = response.json()
    if response.status_code >= 400 or (case.path.startswith("/adapter/") and body.get("error_code") not in (0, "0")):
        assert _documented_error(case.path, response.status_code, body), (case.path, response.status_code, body)


def test_a_classic_item_with_a_number_too_long_to_convert_is_reported_not_a_500(gateway: tuple[Any, str, Any]) -> None:
    """Found by fuzzing the normaliser: int() refuses > 4,300 digits, and the call failed unhandled (500)."""
    _, session, client = gateway
    item = {"MaHoSo": "G22.99-241210-0001", "TrangThaiHoSo": "9" * 5000}
    response = client.post(f"http://{asgi.HOST}/adapter/integration", json={
        "session": session, "madonvi": AGENCY, "service": "DongBoHoSoMC", "isUpdating": "False", "data": [item]})
    assert response.status_code == 200, response.text[:500]
    answer = response.json()
    assert answer["error_code"] == 1 and "data[0].TrangThaiHoSo [schema.type]" in answer["message_en"], answer
