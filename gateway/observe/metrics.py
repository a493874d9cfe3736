"""/metrics: the store's figures read at scrape time, plus this process's own latencies.

Figures that every process shares (accepted, delivered, dead letters, backlog, oldest age, circuits,
attempts by outcome) are read from the store when scraped, so any number of API and worker processes
report one consistent truth — what changed lately only (``Tally``), so a scrape's cost follows the traffic,
not the store's size. Per-process measurements (accept latency, console look-ups) use
prometheus-client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (several workers)."""

from __future__ import annotations

import asyncio
import bisect
import collections
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
import ipaddress
import hmac
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from gateway.messages import refusal

if TYPE_CHECKING:
    import sqlalchemy as sa

ACCEPT_SECONDS = Histogram("gateway_accept_seconds", "POST /v1/packets: request to answer", ["status"],
                           buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
LOOKUPS = Counter("gateway_console_lookups_total", "Console look-ups (searches, dossiers, contents) per account",
                  ["account", "kind"])
CIRCUIT = {"closed": 0.0, "half_open": 0.5, "open": 1.0}
REFUSALS_PER_READ = 5000


class StoreCollector(Collector):
    def __init__(self, engine: Callable[[], sa.Engine]) -> None:
        self.engine = engine
        # refusals by rule, read from the audit log incrementally (ix_audit_refused): each scrape reads only
        # the refusals logged since the last one
        self._refused: dict[str, int] = {}
        self._refused_after = 0
        self._refused_lock = threading.Lock()
        self.tallies = Tallies()

    def refusals(self, connection: sa.Connection) -> dict[str, int]:
        """Packets refused, per rule (one refusal may break several rules), from ``packet.refused`` entries:
        the intake's (``rules``) and those the store's transition check refused at commit."""
        import sqlalchemy as sa

        from gateway.store.tables import REFUSED_ENTRIES, audit

        with self._refused_lock:
            while True:
                rows = connection.execute(sa.select(audit.c.id, audit.c.detail).where(
                    REFUSED_ENTRIES, audit.c.id > self._refused_after)
                    .order_by(audit.c.id).limit(REFUSALS_PER_READ)).all()
                for row in rows:
                    detail = row.detail if isinstance(row.detail, dict) else {}
                    rules = detail.get("rules") or (["status.transition"] if detail.get("at_commit") else ["unknown"])
                    for rule in rules:
                        self._refused[str(rule)] = self._refused.get(str(rule), 0) + 1
                    self._refused_after = row.id
                if len(rows) < REFUSALS_PER_READ:
                    return dict(self._refused)

    def collect(self) -> Iterator[Any]:
        import sqlalchemy as sa  # at the first scrape: a server process starts sooner

        from gateway.observe.ready import WORKER_STALE_SECONDS
        from gateway.store.tables import DEAD_JOBS, READY_JOBS, destinations, jobs, workers

        engine, now = self.engine(), datetime.now(UTC)
        by_state = GaugeMetricFamily("gateway_jobs", "Delivery jobs by destination and state", labels=["destination", "state"])
        delivered = CounterMetricFamily("gateway_delivered", "Jobs delivered", labels=["destination"])
        dead = GaugeMetricFamily("gateway_dead_letters", "Dead letters waiting", labels=["destination"])
        backlog = GaugeMetricFamily("gateway_backlog", "Jobs pending or being sent", labels=["destination"])
        oldest = GaugeMetricFamily("gateway_oldest_waiting_seconds", "Age of the oldest job waiting",
                                   labels=["destination"])
        circuit = GaugeMetricFamily("gateway_circuit_state", "Circuit: 0 closed, 0.5 half open, 1 open",
                                    labels=["destination"])
        paused = GaugeMetricFamily("gateway_destination_paused", "1 when an operator paused the destination",
                                   labels=["destination"])
        tries = CounterMetricFamily("gateway_attempts", "Delivery attempts by outcome (retries and failures)",
                                    labels=["outcome"])
        accepted = CounterMetricFamily("gateway_packets_accepted", "Packets accepted and stored")
        refused = CounterMetricFamily("gateway_packets_refused", "Packets refused, by rule broken", labels=["rule"])
        alive = GaugeMetricFamily("gateway_workers_alive", "Delivery workers whose heartbeat is recent (the store's registry)")
        with engine.connect() as connection:
            # the open jobs through their partial indexes: a few rows, however long the history
            waiting: dict[str, int] = {}
            for condition in (READY_JOBS, DEAD_JOBS):
                for name, state, n in connection.execute(sa.select(jobs.c.destination, jobs.c.state, sa.func.count())
                                                         .where(condition).group_by(jobs.c.destination, jobs.c.state)):
                    by_state.add_metric([name, state], n)
                    if state == "dead":
                        dead.add_metric([name], n)
                    else:
                        waiting[name] = waiting.get(name, 0) + int(n)
            for (name,), n in sorted(self.tallies.delivered.read(connection, now).items()):
                by_state.add_metric([name, "delivered"], n)
                delivered.add_metric([name], n)
            for name, n in waiting.items():
                backlog.add_metric([name], n)
                first = connection.execute(sa.select(jobs.c.created_at).where(jobs.c.destination == name, READY_JOBS)
                                           .order_by(jobs.c.seq).limit(1)).scalar()
                first = first.replace(tzinfo=UTC) if first is not None and first.tzinfo is None else first
                oldest.add_metric([name], max(0.0, (now - first).total_seconds()) if first else 0.0)
            for row in connection.execute(sa.select(destinations.c.name, destinations.c.breaker_state,
                                                    destinations.c.paused)):
                circuit.add_metric([row.name], CIRCUIT.get(row.breaker_state, 0.0))
                paused.add_metric([row.name], 1.0 if row.paused else 0.0)
            for (outcome,), n in sorted(self.tallies.attempts.read(connection, now).items()):
                tries.add_metric([outcome], n)
            accepted.add_metric([], sum(self.tallies.accepted.read(connection, now).values()))
            for rule, n in sorted(self.refusals(connection).items()):
                refused.add_metric([rule], n)
            alive.add_metric([], connection.execute(sa.select(sa.func.count()).select_from(workers).where(
                workers.c.seen_at >= now - timedelta(seconds=WORKER_STALE_SECONDS))).scalar_one())
        yield from (by_state, delivered, dead, backlog, oldest, circuit, paused, tries, accepted, refused, alive)


class Tally:
    """Rows counted per group through an index on their timestamp, so that a scrape costs what the recent traffic
    costs, not what the store's history does (a count of a million rows is most of a second): rows stamped more
    than ``SETTLED`` ago are counted once and kept — the mark only moves forward — and the recent ones at every
    scrape. A row committed with a stamp already older than the mark (an attempt's row is written when its call
    ends and stamped when it began; a transaction open that long) is missed until the next exact recount of the
    settled part, every ``RECOUNT``: every process then reports the store's figure again (rows are never deleted,
    so a recount never lowers a total)."""

    def __init__(self, column: sa.Column[Any], *groups: sa.Column[Any]) -> None:
        self.column, self.groups = column, groups
        self.kept: dict[tuple[Any, ...], int] = {}
        self.mark: datetime | None = None
        self.recounted: datetime | None = None
        self.lock = threading.Lock()

    def _count(self, connection: sa.Connection, since: datetime | None, until: datetime | None = None
               ) -> dict[tuple[Any, ...], int]:
        """Rows stamped in [since, until): the whole history (no ``since``) grouped in SQL, once; a window's rows
        fetched through the timestamp's index and counted here — with GROUP BY, SQLite would rather scan a whole
        index in the groups' order than sort a few rows."""
        import sqlalchemy as sa

        bounds = [self.column < until] if until is not None else []
        if since is None:
            query = sa.select(*self.groups, sa.func.count()).where(self.column.is_not(None), *bounds)
            return {tuple(row[:-1]): int(row[-1]) for row in connection.execute(query.group_by(*self.groups))}
        rows = connection.execute(sa.select(*self.groups, self.column).where(self.column >= since, *bounds))
        return dict(collections.Counter(tuple(row[:-1]) for row in rows))

    def read(self, connection: sa.Connection, now: datetime) -> dict[tuple[Any, ...], int]:
        with self.lock:
            settled = now - SETTLED
            if self.recounted is None or now - self.recounted >= RECOUNT:
                self.kept, self.mark, self.recounted = self._count(connection, None, settled), settled, now
            elif self.mark is None or settled > self.mark:
                for group, n in self._count(connection, self.mark, settled).items():
                    self.kept[group] = self.kept.get(group, 0) + n
                self.mark = settled
            counts = dict(self.kept)
            for group, n in self._count(connection, self.mark).items():
                counts[group] = counts.get(group, 0) + n
            return counts


SETTLED = timedelta(minutes=2)
RECOUNT = timedelta(minutes=10)  # an exact count of the settled part: ~1 s CPU on a million rows, every 10 minutes


class Tallies:
    """What /metrics counts through the timestamps' indexes: packets accepted (``ix_packets_received``), jobs
    delivered per destination (``ix_jobs_delivered``), attempts per outcome (``ix_attempts_started``)."""

    def __init__(self) -> None:
        from gateway.store.tables import attempts, jobs, packets

        self.accepted = Tally(packets.c.received_at)
        self.delivered = Tally(jobs.c.delivered_at, jobs.c.destination)
        self.attempts = Tally(attempts.c.started_at, attempts.c.outcome)


class Access:
    """Who may scrape /metrics: ``[observability] metrics_token_env`` names the environment variable holding a
    bearer token — once configured, a scrape without it is refused (and all are, if the variable is empty);
    ``metrics_networks`` lists the client networks allowed (CIDR). Neither configured: anyone reaching the port."""

    def __init__(self, token_env: str, networks: list[str]) -> None:
        self.token_env = token_env
        self.token = os.environ.get(token_env, "") if token_env else ""
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def refusal(self, request: Request) -> JSONResponse | None:
        if self.networks:
            try:
                address = ipaddress.ip_address(request.client.host if request.client else "")
            except ValueError:
                address = None
            if address is None or not any(address in network for network in self.networks):
                return JSONResponse(refusal("metrics.network"), status_code=403)
        if self.token_env:
            presented = request.headers.get("authorization", "")
            expected = f"Bearer {self.token}"
            if not self.token or not hmac.compare_digest(presented.encode(), expected.encode()):
                return JSONResponse(refusal("metrics.token"), status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        return None


def install(app: FastAPI, engine: Callable[[], sa.Engine], *, timed: bool = True, access: Access | None = None) -> None:
    """``/metrics``; with ``timed``, POST /v1/packets is timed into ``gateway_accept_seconds``."""
    access = access or Access("", [])
    shared = CollectorRegistry(auto_describe=False)
    shared.register(StoreCollector(engine))
    multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

    def own() -> bytes:
        if not multiprocess:
            return generate_latest(REGISTRY)
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client: unannotated
        return generate_latest(registry)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if (refused := access.refusal(request)) is not None:  # before reading anything
            return refused
        flush_accept_times()  # this process's times so far, then everyone's
        return Response(own() + generate_latest(shared), media_type=CONTENT_TYPE_LATEST)

    if timed:
        app.add_middleware(AcceptTimer)


class AcceptTimer:
    """Times POST /v1/packets from request to the answer's first byte. Plain ASGI: Starlette's
    ``@app.middleware("http")`` costs a task and a stream per request, on the intake's hot path. The times are
    kept in the process and handed to ``gateway_accept_seconds`` once a second and before this process answers
    a scrape (``flush_accept_times``): one increment per bucket and status per flush instead of a locked
    histogram update (in multiprocess mode, writes to mmap files) per packet."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/packets" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if not _PENDING:  # the first time since the last flush: one flush a second at most
                    asyncio.get_running_loop().call_later(FLUSH_SECONDS, flush_accept_times)
                _PENDING.append((message["status"], time.perf_counter() - began))
            await send(message)

        await self.app(scope, receive, timed_send)


FLUSH_SECONDS = 1.0
_PENDING: list[tuple[int, float]] = []  # (status, seconds) not yet in ACCEPT_SECONDS; the event loop's thread appends
_FLUSHING = threading.Lock()


def flush_accept_times() -> None:
    """The accept times kept so far, into the histogram: per status, each bucket and the sum incremented once."""
    with _FLUSHING:
        taken = len(_PENDING)
        if not taken:
            return
        batch = _PENDING[:taken]
        del _PENDING[:taken]  # appended meanwhile: left for the next flush
        by_status: dict[int, list[float]] = {}
        for status, seconds in batch:
            by_status.setdefault(status, []).append(seconds)
        for status, times in by_status.items():
            child = ACCEPT_SECONDS.labels(str(status))
            bounds = child._upper_bounds  # prometheus-client's own buckets (the last is +Inf)
            counts = [0] * len(bounds)
            for seconds in times:
                counts[bisect.bisect_left(bounds, seconds)] += 1
            for bucket, n in zip(child._buckets, counts):
                if n:
                    bucket.inc(n)
            child._sum.inc(sum(times))
