"""Every client bounded: a request rate (429 with Retry-After), requests in progress at once, and a
look-up quota; blocking work runs in bulkheads — one thread pool for intake (packets, classic writes,
validation), one for look-ups relayed to a peer — so a slow peer or a noisy client cannot take the
threads another client's packets need.

Limits are per process (each API process of ``gateway serve --workers N`` keeps its own counters).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
import math
import threading
import time
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi.responses import JSONResponse

from gateway.config import Config, ConfigError
from gateway.messages import refusal

T = TypeVar("T")


@dataclass(frozen=True)
class LimitSettings:
    """``[limits]`` (beside ``max_bytes``): per client, then the bulkheads' sizes and the report bound."""

    client_rate: float = 200.0  # requests per second, per client (a token bucket)
    client_burst: int = 400
    client_concurrent: int = 16  # requests of one client in progress at once
    lookup_rate: float = 5.0  # look-ups relayed to a peer, per second, per client
    lookup_burst: int = 20
    anonymous_validate_rate: float = 0.0  # /v1/validate without a key, all callers together; 0: key required
    intake_threads: int = 40
    lookup_threads: int = 16
    report_issues: int = 100  # errors (and warnings) a report lists; then only their number
    read_timeout_seconds: float = 30.0  # a request body not complete by then: 408
    max_connections: int = 1000  # open connections per API process (``gateway serve``); more get 503

    @classmethod
    def from_config(cls, config: Config) -> "LimitSettings":
        raw = config.section("limits")
        try:
            values = {f.name: _convert(f.default, raw[f.name]) for f in fields(cls) if f.name in raw}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"limits: {exc}") from None
        settings = cls(**values)
        if min(settings.client_rate, settings.lookup_rate) <= 0 or min(
                settings.client_burst, settings.client_concurrent, settings.lookup_burst, settings.intake_threads,
                settings.lookup_threads, settings.report_issues, settings.max_connections) < 1 or (
                settings.anonymous_validate_rate < 0 or settings.read_timeout_seconds <= 0):
            raise ConfigError("limits: rates and read_timeout_seconds must be > 0; bursts, concurrency, threads, "
                              "report_issues and max_connections ≥ 1")
        return settings


def server_options(config: Config) -> dict[str, Any]:
    """uvicorn's own bounds: connections past the cap get 503 at once; idle keep-alive connections close
    after 5 s (a slow body is cut by the app's read timeout)."""
    return {"limit_concurrency": LimitSettings.from_config(config).max_connections, "timeout_keep_alive": 5}


class Limited(Exception):
    """A request over its client's limit: 429, with the seconds to wait."""

    def __init__(self, retry_after: float, rule: str) -> None:
        super().__init__(rule)
        self.retry_after, self.rule = retry_after, rule

    @property
    def seconds(self) -> int:
        """Retry-After: whole seconds, at least one."""
        return max(1, math.ceil(self.retry_after))

    def response(self) -> JSONResponse:
        seconds = self.seconds
        return JSONResponse({**refusal("limit.too_many", seconds=seconds), "error": self.rule},
                            status_code=429, headers={"Retry-After": str(seconds)})


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class ClientLimits:
    settings: LimitSettings
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _running: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pools: dict[str, anyio.CapacityLimiter] = field(default_factory=dict)

    def _take(self, key: tuple[str, str], rate: float, burst: int, rule: str) -> None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(float(burst), now))
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens < 1:
                raise Limited((1 - bucket.tokens) / rate, rule)
            bucket.tokens -= 1

    @contextmanager
    def request(self, client: str) -> Iterator[None]:
        """One request of ``client`` in progress, or ``Limited``: over its rate, or too many at once."""
        self._take((client, "request"), self.settings.client_rate, self.settings.client_burst, "limit.rate")
        with self._lock:
            if self._running.get(client, 0) >= self.settings.client_concurrent:
                raise Limited(1, "limit.concurrent")
            self._running[client] = self._running.get(client, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[client] -= 1

    def lookup(self, client: str) -> None:
        """One look-up relayed for ``client``, or ``Limited``."""
        self._take((client, "lookup"), self.settings.lookup_rate, self.settings.lookup_burst, "limit.lookups")

    def anonymous(self) -> None:
        """One anonymous /v1/validate (when their rate is above 0), or ``Limited``."""
        rate = self.settings.anonymous_validate_rate
        self._take(("", "anonymous"), rate, max(1, int(rate)), "limit.anonymous")

    def _pool(self, name: str, size: int) -> anyio.CapacityLimiter:
        if name not in self._pools:  # made in the event loop, on first use
            self._pools[name] = anyio.CapacityLimiter(size)
        return self._pools[name]

    async def intake(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on a thread of the intake bulkhead."""
        return await anyio.to_thread.run_sync(work, *args,
                                              limiter=self._pool("intake", self.settings.intake_threads))

    async def relayed(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on a thread of the look-up bulkhead (it waits for a peer)."""
        return await anyio.to_thread.run_sync(work, *args,
                                              limiter=self._pool("lookup", self.settings.lookup_threads))


def _convert(default: object, value: object) -> Any:
    """The configured value as the type of the field's default (every field here has one: int or float).
    Any: the field's own type, which a type checker cannot follow through ``fields()``."""
    kind: Any = type(default)
    return kind(value)
