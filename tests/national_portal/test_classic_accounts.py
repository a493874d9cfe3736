"""Classic accounts over real HTTP: repeated wrong passwords lock the account (the right one then fails
too), audited; legacy SHA-256 entries are re-hashed (scrypt) into the store at a good login, and
``gateway clients classic`` gives the line that replaces them in the configuration (both stores)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.config import Config, ConfigError
from connectors.national_portal.classic.settings import InboundSettings
from gateway.receive.lockout import LockoutPolicy
from gateway.receive.passwords import hash_password, is_hash, verify_password
from gateway.store import Store

from .test_inbound_http import OTHER_PASSWORD, OTHER_USER, PASSWORD, USER, Gateway, sha, start_gateway  # noqa: F401 - fixtures, found by name


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(
        start_gateway: Callable[..., Gateway], store: Store) -> None:
    gateway = start_gateway()
    one_stop = gateway.client()
    threshold = LockoutPolicy().account_threshold
    for n in range(threshold):
        assert one_stop.login(password=f"doan-{n}")["error_code"] == 6
    locked = one_stop.login()  # the right password, now
    assert locked["error_code"] == 6 and "session" not in locked and "Tạm khoá" in locked["message"]
    (row,) = store.audit_log(f"account:{USER}")
    assert row["action"] == "login.locked" and row["detail"]["locked"] == {f"account:{USER}": 30}
    # Another account from the same address is not locked (the address allows more failures).
    assert one_stop.login(OTHER_USER, OTHER_PASSWORD)["error_code"] == 0
    # When the lock has run out, the right password works and clears the count.
    lockout = gateway.app.state.intake.lockout
    clock, shared_clock = lockout.clock, lockout.shared.clock
    lockout.clock = lambda: clock() + 31
    lockout.shared.clock = lambda: shared_clock() + 31  # the shared lock (wall clock) has run out too
    lockout.shared.sync()
    assert one_stop.login()["error_code"] == 0
    assert one_stop.login(password="sai")["error_code"] == 6 and one_stop.login()["error_code"] == 0


def test_a_legacy_password_is_rehashed_at_login_and_the_admin_gets_the_line_to_replace_it(
        start_gateway: Callable[..., Gateway], store: Store, store_url: str, tmp_path: Path) -> None:
    gateway = start_gateway()
    assert gateway.client().login()["error_code"] == 0
    kept = store.classic_password(USER)
    assert kept is not None and is_hash(kept) and verify_password(PASSWORD, kept)
    assert store.audit_log(f"classic:{USER}")[0]["action"] == "password.rehash"
    assert gateway.client().login()["error_code"] == 0
    assert store.classic_password(USER) == kept  # re-hashed once, not at every login
    assert store.classic_password(OTHER_USER) is None  # no good login yet

    config_file = tmp_path / "gateway-0.toml"  # the configuration the gateway runs with
    shown = CliRunner().invoke(cli, ["portal", "accounts", "--config", str(config_file), "--store", store_url])
    assert shown.exit_code == 0, shown.output
    assert f'password_hash = "{kept}"' in shown.output and "chưa đăng nhập" in shown.output

    # The administrator replaces the legacy entry with that line: the same password works, others do not.
    migrated = config_file.read_text(encoding="utf-8").replace(f'password_sha256 = "{sha(PASSWORD)}"',
                                                               f'password_hash = "{kept}"')
    assert sha(PASSWORD) not in migrated
    config_file.write_text(migrated, encoding="utf-8")
    account = InboundSettings.from_config(Config.load(config_file)).client_named(USER)
    assert account is not None and account.password_sha256 == "" and account.credential == kept
    again = CliRunner().invoke(cli, ["portal", "accounts", "--config", str(config_file), "--store", store_url])
    assert f"{USER}: password_hash (scrypt)" in again.output


def test_a_salted_hash_in_the_configuration_is_checked_as_it_is(start_gateway: Callable[..., Gateway],
                                                                store: Store, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    import tests.national_portal.test_inbound_http as http

    monkeypatch.setattr(http, "CONFIG", http.CONFIG.replace(f'password_sha256 = "{sha(PASSWORD)}"',
                                                            f'password_hash = "{hash_password(PASSWORD)}"'))
    gateway = start_gateway()
    assert gateway.client().login(password=PASSWORD + "x")["error_code"] == 6
    assert gateway.client().login()["error_code"] == 0
    assert store.classic_password(USER) is None  # nothing to migrate


def test_hash_password_prints_a_configuration_line() -> None:
    result = CliRunner().invoke(cli, ["clients", "hash-password", "motcua"], input="mot-mat-khau-dai-du\n")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("password_hash"))
    assert verify_password("mot-mat-khau-dai-du", line.split('"')[1])
    short = CliRunner().invoke(cli, ["clients", "hash-password", "motcua"], input="ngan\n")
    assert short.exit_code == 2


def test_password_hashes_are_salted_and_configuration_mistakes_are_named() -> None:
    first, second = hash_password("cùng-một-mật-khẩu"), hash_password("cùng-một-mật-khẩu")
    assert first != second and first.startswith("scrypt$") and is_hash(first)
    assert verify_password("cùng-một-mật-khẩu", first) and not verify_password("cung-mot-mat-khau", first)
    assert verify_password("abc", sha("abc")) and not verify_password("abd", sha("abc"))
    assert not verify_password("abc", "scrypt$1$1$1$x$y") and not is_hash("scrypt$1024$8$1$AAAA$AAAA")
    for table, match in (({"password_sha256": "ab" * 32, "password_hash": first}, "one of them"),
                         ({}, "password_hash"), ({"password_hash": "plain text"}, "scrypt")):
        with pytest.raises(ConfigError, match=match):
            InboundSettings.from_config(Config({"inbound_classic": {"clients": {"x": {
                "username": "u", "madonvi": ["a"], **table}}}}))


def test_password_checks_are_bounded_and_a_flood_waits_or_is_told_to_come_back(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from connectors.national_portal.classic.passwords import Busy, ClassicPasswords

    account = InboundSettings.from_config(Config({"inbound_classic": {"clients": {"x": {
        "username": "u", "madonvi": ["a"], "password_hash": hash_password(PASSWORD)}}}})).clients[0]
    checks = ClassicPasswords(lambda: store, concurrent=1, wait_seconds=0.0)
    checks._slots.acquire()  # a check in progress
    with pytest.raises(Busy):
        checks.check(account, PASSWORD)
    checks._slots.release()
    patient = ClassicPasswords(lambda: store, concurrent=2, wait_seconds=60)
    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(lambda p: patient.check(account, p), [PASSWORD, "sai"] * 3)) == [True, False] * 3


def test_a_typed_name_that_is_no_account_never_appears_in_lockout_keys_or_audit(
        start_gateway: Callable[..., Gateway], store: Store) -> None:
    """Issue 14: what is typed as a user name may be a password typed in the wrong field: a name that is no
    account's is counted under a keyed digest, and written nowhere in clear."""
    gateway = start_gateway()
    one_stop = gateway.client()
    typed = "MatKhau-Go-Nham-7431"  # no account's name
    for _ in range(LockoutPolicy().account_threshold):
        assert one_stop.login(typed, "sai")["error_code"] == 6
    locked = one_stop.login(typed, "sai")
    assert locked["error_code"] == 6 and "Tạm khoá" in locked["message"]  # counted, and locked
    lockout = gateway.app.state.intake.lockout
    assert not any(typed in key for key in lockout._counts)
    assert any(key.startswith("account:?") for key in lockout._counts)
    rows = store.audit_log(limit=1000)
    assert any(row["action"] == "login.locked" for row in rows)
    assert typed not in str(rows)
    assert one_stop.login()["error_code"] == 0  # the real account is not locked by it


def test_classic_refusals_are_in_the_audit_chain_without_sessions_or_passwords(
        start_gateway: Callable[..., Gateway], store: Store) -> None:
    """A wrong session, a madonvi the account may not send for and a service not offered are each an entry:
    the account's name (or, without a good session, a digest of the one presented) and the rule."""
    gateway = start_gateway()
    one_stop, other = gateway.client(), gateway.client()
    assert one_stop.login()["error_code"] == 0 and other.login(OTHER_USER, OTHER_PASSWORD)["error_code"] == 0
    good_session = one_stop.session
    forged = "phien-gia-" + good_session[::-1]
    one_stop.session = forged
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[])["error_code"] != 0
    one_stop.session = good_session
    assert other.call("DongBoHoSoMC", isUpdating="False", data=[])["error_code"] == 5  # not its madonvi
    assert one_stop.call("KhongCoDichVuNay")["error_code"] != 0
    gateway.app.state.intake.trail.flush()
    rows = [r for r in store.audit_log(limit=1000) if r["action"] == "classic.refused"]
    by_rule = {r["detail"]["rule"]: r for r in rows}
    assert set(by_rule) >= {"session", "madonvi", "service.not_offered"}, rows
    assert by_rule["session"]["actor"] == "anonymous" and by_rule["session"]["detail"]["session"].startswith("sha256:")
    assert by_rule["madonvi"]["actor"] == OTHER_USER and by_rule["madonvi"]["detail"]["session"] is None
    assert by_rule["service.not_offered"]["actor"] == USER
    assert by_rule["service.not_offered"]["detail"]["service"] == "KhongCoDichVuNay"
    text = str(rows)
    assert forged not in text and good_session not in text and other.session not in text
    assert PASSWORD not in text and OTHER_PASSWORD not in text
