"""Accounts: argon2id, change at first login, lockout, sessions, CSRF, CSP, audit."""

from fastapi.testclient import TestClient
import pytest
import sqlalchemy as sa

from gateway.console.accounts import AccountError, Accounts
from gateway.store import Store
from gateway.store.tables import operators
from tests.console.conftest import NEW_PASSWORD, PASSWORD, csrf_of, log_in


def test_passwords_are_argon2id_and_never_stored_plain(store: Store, accounts: Accounts) -> None:
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(operators.c.password_hash)).scalars().all()
    assert stored and all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    with pytest.raises(AccountError, match="password.too_short"):
        accounts.add("ngan", "ngắn", "viewer", ["*"])
    with pytest.raises(AccountError, match="account.bad_role"):
        accounts.add("someone", "một mật khẩu dài đủ", "root", ["*"])


def test_first_login_forces_a_password_change(client: TestClient) -> None:
    answer = client.post("/console/login", data={"username": "quantri", "password": PASSWORD})
    assert answer.url.path == "/console/password"
    assert client.get("/console/search?dossier=x").url.path == "/console/password"  # nothing else until changed
    form = {"csrf": csrf_of(answer.text), "current": PASSWORD, "new": "quantri-1234567890", "repeat": "quantri-1234567890"}
    refused = client.post("/console/password", data=form)
    assert refused.status_code == 400 and "tên đăng nhập" in refused.text  # contains the username
    form |= {"new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    assert client.post("/console/password", data=form).url.path == "/console/"
    client.cookies.clear()
    log_in(client, "quantri", NEW_PASSWORD)  # no second change


def test_repeated_failures_lock_the_account(client: TestClient, store: Store) -> None:
    for _ in range(4):
        assert "Sai tên đăng nhập" in client.post("/console/login", data={"username": "xem_a", "password": "sai"}).text
    locked = client.post("/console/login", data={"username": "xem_a", "password": "sai"})
    assert locked.status_code == 401 and "tạm khoá" in locked.text
    right = client.post("/console/login", data={"username": "xem_a", "password": PASSWORD})
    assert right.status_code == 401 and "tạm khoá" in right.text  # even the right password waits
    assert [row["detail"]["why"] for row in store.audit_log("console")][:2] == ["login.locked", "login.locked"]


def test_session_cookie_csrf_and_security_headers(client: TestClient, store_url: str) -> None:
    answer = client.post("/console/login", data={"username": "vanhanh_a", "password": PASSWORD},
                         follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    log_in(client, "vanhanh_a")
    page = client.get("/console/destinations")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page.text and " style=" not in page.text and " on" + "click=" not in page.text
    forged = client.post("/console/destinations/postal", data={"action": "pause", "why": "x", "csrf": "forged"})
    assert forged.status_code == 403
    assert client.post("/console/destinations/postal", data={"action": "pause", "why": "x"}).status_code == 403
    # a viewer may look but not act
    client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/console/").url.path == "/console/login"


def test_secure_cookie_by_default() -> None:
    from gateway.config import Config

    assert Config.load().section("console")["secure_cookie"] is True
