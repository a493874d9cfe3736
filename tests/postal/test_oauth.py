"""OAuth client credentials to the postal service (the domain brief: "an OAuth client-credentials token through
the province's platform"): the simulator, switched to require a bearer token, refuses calls without one; the
client fetches a token, keeps it until shortly before it expires, and on a 401 fetches a new one and calls
once more. Real HTTP to the simulator."""

import time
from typing import Any
import uuid

import httpx
import pytest

from connectors.postal.client import Kind, PostalClient
from connectors.postal.settings import PostalSettings
from gateway.config import Config

from .conftest import CUSTOMER, TOKEN, Simulator

CLIENT_ID = "cong-ket-noi-test"
SECRET = uuid.uuid4().hex  # made up per run


def order() -> dict[str, Any]:
    number = f"OA-{uuid.uuid4().hex[:8]}"
    return {"CustomerCode": CUSTOMER, "OrderNumber": number, "CODAmount": 0, "SenderName": "Trung tâm",
            "SenderAddress": "Số 1", "SenderTel": "02363822222", "SenderEmail": "a@example.gov.vn",
            "SenderProvince": 48, "SenderDistrict": 490, "SenderDesc": "Kết quả", "Description": "Thủ tục",
            "ReceiverName": "Nguyễn Văn A", "ReceiverAddress": "Số 2", "ReceiverTel": "0905123456",
            "ReceiverEmail": "", "ReceiverProvince": 48, "ReceiverDistrict": 490, "Weight": 200}


@pytest.fixture
def oauth_on(simulator: Simulator) -> Simulator:
    simulator.post("/_admin/oauth", {"clients": {CLIENT_ID: SECRET}, "seconds": 3600})
    return simulator


def client_of(config: Config, monkeypatch: pytest.MonkeyPatch, **oauth: Any) -> PostalClient:
    monkeypatch.setenv("TEST_POSTAL_CLIENT_SECRET", SECRET)
    raw = {**config.raw, "postal": {**config.section("postal"), "oauth": {
        "token_url": "/oauth/token", "client_id": CLIENT_ID, "client_secret_env": "TEST_POSTAL_CLIENT_SECRET", **oauth}}}
    return PostalClient(PostalSettings.from_config(Config(raw, "tests/postal/oauth")))


def test_the_simulator_requires_a_bearer_token_when_switched_on(oauth_on: Simulator) -> None:
    plain = httpx.Client(base_url=oauth_on.url, timeout=10, trust_env=False, headers={"access_token": TOKEN})
    assert plain.post("/api/orders", json=order()).status_code == 401  # the access_token alone is not enough now
    wrong = plain.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                             "client_secret": "not-it"})
    assert wrong.status_code == 401
    issued = plain.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                              "client_secret": SECRET}).json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 3600
    answer = plain.post("/api/orders", json=order(), headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert answer.status_code == 200 and answer.json()["Status"] in (100, 101)
    oauth_on.post("/_admin/oauth", {"clients": {}})  # switched off: the access_token header alone again
    assert plain.post("/api/orders", json=order()).status_code == 200


def test_the_token_is_kept_and_a_401_fetches_a_new_one_once(oauth_on: Simulator, config: Config,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_of(config, monkeypatch)
    try:
        for _ in range(3):
            assert client.create_order(order()).kind is Kind.OK
        assert oauth_on.record()["calls"]["token"] == 1  # cached
        answer, page = client.tracking(None, 5)
        assert answer.kind is Kind.OK and oauth_on.record()["calls"]["token"] == 1
        oauth_on.post("/_admin/oauth", {"revoke": True})  # the service forgets every token early
        assert client.create_order(order()).kind is Kind.OK  # 401, a new token, the call again
        assert oauth_on.record()["calls"]["token"] == 2
        assert client.tokens is not None and client.tokens.issued == 2
    finally:
        client.close()


def test_a_token_near_its_expiry_is_renewed_before_the_call(oauth_on: Simulator, config: Config,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    oauth_on.post("/_admin/oauth", {"seconds": 1.5})
    client = client_of(config, monkeypatch, expiry_margin_seconds=1.0)  # kept 0.5 s
    try:
        assert client.create_order(order()).kind is Kind.OK
        time.sleep(0.7)
        orders_before = oauth_on.record()["calls"].get("orders", 0)
        assert client.create_order(order()).kind is Kind.OK
        record = oauth_on.record()["calls"]
        assert record["token"] == 2 and record["orders"] == orders_before + 1  # renewed first: no refused call
    finally:
        client.close()


def test_refused_credentials_are_a_transient_answer_without_the_secret(oauth_on: Simulator, config: Config,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    oauth_on.post("/_admin/oauth", {"clients": {CLIENT_ID: "another-secret"}})
    client = client_of(config, monkeypatch)
    try:
        answer = client.create_order(order())
        assert answer.kind is Kind.TRANSIENT and "no access token: HTTP 401" in answer.message
        assert SECRET not in answer.message
        assert "orders" not in oauth_on.record()["calls"] or oauth_on.record()["calls"]["orders"] == 0
    finally:
        client.close()


def test_oauth_without_its_secret_is_a_configuration_error(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.kit import ConfigError
    monkeypatch.delenv("TEST_POSTAL_CLIENT_SECRET", raising=False)
    raw = {**config.raw, "postal": {**config.section("postal"), "oauth": {
        "token_url": "/oauth/token", "client_id": CLIENT_ID, "client_secret_env": "TEST_POSTAL_CLIENT_SECRET"}}}
    with pytest.raises(ConfigError, match="client_secret_env"):
        PostalSettings.from_config(Config(raw, "tests/postal/oauth"))
