"""Local operator accounts: argon2id passwords, roles scoped to agencies, lockout, server-side sessions.

A session lives in the store (``operator_sessions``), so it works on every gateway process and ends
everywhere at logout; the cookie holds a random token, the store only its SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
import sqlalchemy as sa

from gateway.store.tables import operator_sessions, operators

ROLES = ("viewer", "operator", "admin")  # each may do what the one before it may
ALL_AGENCIES = "*"
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY = _hasher.hash("not-a-password-" + secrets.token_hex(8))  # unknown users cost the same time


@dataclass(frozen=True)
class Operator:
    username: str
    role: str
    agencies: tuple[str, ...]
    must_change: bool

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def all_agencies(self) -> bool:
        return ALL_AGENCIES in self.agencies

    def sees(self, agency: str | None) -> bool:
        return self.all_agencies or (agency is not None and agency in self.agencies)

    @property
    def acting_for(self) -> frozenset[str] | None:
        """The operator's agencies as ``Ownership`` takes a client's: None for all agencies."""
        return None if self.all_agencies else frozenset(self.agencies)


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf: str
    token_hash: str


class AccountError(Exception):
    """A refusal with the catalogue key that explains it."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password.too_short")
    if username.lower() in password.lower():
        raise AccountError("password.has_username")


class Accounts:
    """Operator accounts over the store's engine (``Store.engine``); every change is audited by the caller."""

    def __init__(self, engine: sa.Engine, *, max_failures: int = 5, lock_minutes: float = 15,
                 session_hours: float = 8) -> None:
        self.engine = engine
        self.max_failures, self.lock = max_failures, timedelta(minutes=lock_minutes)
        self.session_length = timedelta(hours=session_hours)

    @staticmethod
    def _operator(row: Any) -> Operator:
        return Operator(row.username, row.role, tuple(row.agencies), bool(row.must_change))

    def add(self, username: str, password: str, role: str, agencies: list[str], *, must_change: bool = True) -> Operator:
        if role not in ROLES:
            raise AccountError("account.bad_role")
        if not username or not agencies:
            raise AccountError("account.incomplete")
        check_password_rules(password, username)
        now = _now()
        with self.engine.begin() as connection:
            if connection.execute(sa.select(operators.c.username).where(operators.c.username == username)).first():
                raise AccountError("account.exists")
            connection.execute(operators.insert().values(
                username=username, password_hash=_hasher.hash(password), role=role, agencies=list(agencies),
                must_change=must_change, failures=0, locked_until=None, disabled=False, created_at=now, updated_at=now))
        return Operator(username, role, tuple(agencies), must_change)

    def get(self, username: str) -> Operator | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(operators).where(operators.c.username == username,
                                                                operators.c.disabled.is_(False))).first()
        return None if row is None else self._operator(row)

    def list(self) -> list[Operator]:
        with self.engine.connect() as connection:
            return [self._operator(row) for row in connection.execute(sa.select(operators).order_by(operators.c.username))]

    def authenticate(self, username: str, password: str) -> Operator:
        """The operator, or AccountError: ``login.failed`` (wrong name or password, not told apart) or
        ``login.locked`` (too many failures: locked for a while, even with the right password)."""
        now = _now()
        refusal: str | None = None  # raised after the transaction commits the failure count
        with self.engine.begin() as connection:
            row = connection.execute(sa.select(operators).where(operators.c.username == username)).first()
            if row is None or row.disabled:
                _verify(_DUMMY, password)
                refusal = "login.failed"
            elif row.locked_until is not None and row.locked_until > now:
                refusal = "login.locked"
            elif not _verify(row.password_hash, password):
                failures = row.failures + 1
                locked = now + self.lock if failures >= self.max_failures else None
                connection.execute(operators.update().where(operators.c.username == username).values(
                    failures=0 if locked else failures, locked_until=locked, updated_at=now))
                refusal = "login.locked" if locked else "login.failed"
            else:
                values: dict[str, Any] = {"failures": 0, "locked_until": None}
                if _hasher.check_needs_rehash(row.password_hash):
                    values["password_hash"] = _hasher.hash(password)
                connection.execute(operators.update().where(operators.c.username == username).values(**values))
        if refusal is not None:
            raise AccountError(refusal)
        return self._operator(row)

    def change_password(self, username: str, current: str, new: str) -> None:
        self.authenticate(username, current)
        if new == current:
            raise AccountError("password.same")
        check_password_rules(new, username)
        with self.engine.begin() as connection:
            connection.execute(operators.update().where(operators.c.username == username).values(
                password_hash=_hasher.hash(new), must_change=False, updated_at=_now()))

    # --- sessions ------------------------------------------------------------------------
    def open_session(self, operator: Operator) -> str:
        """A new session's cookie token (earlier sessions of the operator stay until they expire or log out)."""
        token, now = secrets.token_urlsafe(32), _now()
        with self.engine.begin() as connection:
            connection.execute(operator_sessions.delete().where(operator_sessions.c.expires_at < now))
            connection.execute(operator_sessions.insert().values(
                token_hash=_digest(token), username=operator.username, csrf=secrets.token_urlsafe(32),
                created_at=now, expires_at=now + self.session_length))
        return token

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(operator_sessions.c.csrf, operator_sessions.c.token_hash, operators)
                .join(operators, operators.c.username == operator_sessions.c.username)
                .where(operator_sessions.c.token_hash == _digest(token), operator_sessions.c.expires_at > _now(),
                       operators.c.disabled.is_(False))).first()
        return None if row is None else Session(self._operator(row), row.csrf, row.token_hash)

    def close_session(self, token_hash: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(operator_sessions.delete().where(operator_sessions.c.token_hash == token_hash))

    def close_sessions_of(self, username: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(operator_sessions.delete().where(operator_sessions.c.username == username))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def csrf_matches(session: Session, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(session.csrf, given)
