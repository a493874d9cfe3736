"""The delivery engine: claims due jobs from the store and hands them to each destination's connector.

Per destination, one dispatcher thread claims batches (one dossier each, in acceptance order —
the store guarantees the order and that one dossier has one holder at a time) and runs up to
``concurrency`` calls at once through a thread pool. Before each call: manual pause, maintenance
window, circuit breaker and the token bucket every worker shares (in the store) — a job held back by
any of them is released unattempted, so no retry is burnt. After each call: delivered → complete;
transient → next attempt time in the store (backoff with full jitter, never before Retry-After), or
a dead letter past max attempts or max age; permanent → dead letter with the peer's message. A
heartbeat thread extends the leases of every batch claimed and not yet settled (waiting for a slot or a
token, or in its call), each under its claim's own holder; on stop (SIGTERM) claimed jobs not yet sent
are released, and after SIGKILL the supervisor gives them back at once (``release_abandoned``) or
their leases expire and another worker takes them.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import importlib
import inspect
import logging
import os
import socket
import threading
import time
import uuid

from gateway import registry
from gateway.config import Config
from gateway.deliver.backoff import retry_delay
from gateway.deliver.breaker import CircuitBreaker
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.overrides import Effective, effective
from gateway.deliver.policy import DestinationPolicy
from gateway.deliver.ratelimit import SharedBucket
from gateway.deliver.settler import Settler
from gateway.deliver.windows import active_window
from gateway.messages import line
from gateway.packets.envelope import GoiTin
from gateway.packets.stored import load_packet
from gateway.pii import personal_values, scrub
from gateway.store.api import AttemptRecord, BreakerState, ClaimedJob, Store
from gateway.store.statements import BEAT_SECONDS

log = logging.getLogger("gateway.deliver")

HEARTBEAT_SECONDS = 10.0  # a worker's row in the registry is refreshed at least this often (/readyz)
SIGNAL_INTERVAL = 0.01  # how often an SQLite worker looks for other processes' commits (PRAGMA data_version)


def now_utc() -> datetime:
    return datetime.now(UTC)


def worker_prefix(pid: int) -> str:
    """What the default names of process ``pid``'s workers start with (its supervisor reclaims by it)."""
    return f"{socket.gethostname()}:{pid}:"


def worker_name() -> str:
    return f"{worker_prefix(os.getpid())}{uuid.uuid4().hex[:6]}"


# A lease's holder is "<worker>#<claim token>" (gateway.store.statements.TOKEN_MARK): a '#' in the name
# would make one worker's claims look like another's ("a" would match "a#b"'s leases) and the store read
# the wrong worker out of a holder. Refused at start-up, with whatever else cannot be a name.
FORBIDDEN_IN_NAMES = "#"


def check_worker_name(name: str) -> str:
    """``name`` if it can name a worker in leases, else ValueError with a bilingual reason."""
    if not name.strip():
        raise ValueError(line("deliver.worker_name_empty"))
    if bad := sorted({c for c in name if c in FORBIDDEN_IN_NAMES or not c.isprintable()}):
        shown = ", ".join(repr(c) for c in bad)
        raise ValueError(f"{line('deliver.worker_name_separator', shown=shown)}: {name!r}")
    return name


def decode_packet(raw: bytes, encoding: str) -> GoiTin:
    """The typed packet from stored bytes: a JWS's payload, never another reading of the container."""
    return load_packet(raw, encoding)


def make_connector(policy: DestinationPolicy, config: Config | None = None) -> Connector:
    """``connector = "http"`` (the generic one), a registered connector's name (``"national_portal"``, see
    ``gateway.registry``) or ``"package.module:factory"`` taking the policy and, if it has a ``config``
    parameter, the configuration the process loaded (with its overlays)."""
    if policy.connector != "http" and ":" not in policy.connector:
        return registry.create_connector(policy, config or Config.load())
    spec = "gateway.deliver.http_connector:create" if policy.connector == "http" else policy.connector
    module, _, name = spec.partition(":")
    factory = getattr(importlib.import_module(module), name or "create")
    if config is not None and "config" in inspect.signature(factory).parameters:
        return factory(policy, config=config)  # type: ignore[no-any-return]  # a connector factory named in configuration
    return factory(policy)  # type: ignore[no-any-return]  # a connector factory named in configuration


@dataclass
class DeliveryCounts:
    """What one engine did, for the demo, the benchmark and logs."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    lease_lost: int = 0
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class _Leases:
    """Claimed batches not yet settled — waiting for a slot or a token, or in a call — per lease length
    and claim; a heartbeat keeps their leases alive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[float, str], set[str]] = {}

    def add(self, lease_seconds: float, holder: str, ids: Sequence[str]) -> None:
        with self._lock:
            self._held.setdefault((lease_seconds, holder), set()).update(ids)

    def remove(self, lease_seconds: float, holder: str, ids: Sequence[str]) -> None:
        with self._lock:
            held = self._held.get((lease_seconds, holder), set())
            held.difference_update(ids)
            if not held:
                self._held.pop((lease_seconds, holder), None)

    def snapshot(self) -> dict[tuple[float, str], list[str]]:
        with self._lock:
            return {claim: list(ids) for claim, ids in self._held.items() if ids}


class DestinationRunner:
    """Claims and delivers for one destination."""

    def __init__(self, engine: "Engine", policy: DestinationPolicy, connector: Connector) -> None:
        self.engine, self.policy, self.connector = engine, policy, connector
        self.store = engine.store
        self.breaker = CircuitBreaker(policy.breaker_threshold, policy.breaker_cooldown_seconds,
                                      on_change=self._save_breaker)
        saved = self.store.destination_state(policy.name)
        self.breaker.restore(saved.breaker_state,
                             saved.breaker_opened_at.timestamp() if saved.breaker_opened_at else None)
        self.limits: Effective = effective(policy, saved)  # the console's overrides, re-read with the pause
        self.bucket = SharedBucket(self._draw_tokens, self.limits.rate_per_second, self.limits.burst)
        self.pool = ThreadPoolExecutor(policy.concurrency, thread_name_prefix=f"deliver-{policy.name}")
        # Up to ``concurrency`` calls in flight and as many batches claimed and waiting behind them,
        # so a claim (one store round trip) serves several batches instead of one.
        self._capacity = 2 * policy.concurrency
        self._slots = threading.Semaphore(self._capacity)
        self._hold_checked, self._hold_reason = 0.0, ""
        self.thread = threading.Thread(target=self._loop, name=f"claim-{policy.name}", daemon=True)

    # --- why nothing may be attempted now ---------------------------------------------
    def hold_reason(self) -> str:
        """Non-empty while the destination is paused or in a maintenance window (cached briefly)."""
        clock = time.monotonic()
        if clock - self._hold_checked > self.engine.hold_check_seconds:
            state = self.store.destination_state(self.policy.name)
            limits = effective(self.policy, state)
            if (limits.rate_per_second, limits.burst) != (self.limits.rate_per_second, self.limits.burst):
                log.info("destination %s: rate limit now %s/s, burst %s", self.policy.name, limits.rate_per_second,
                         limits.burst)
                self.bucket.retune(limits.rate_per_second, limits.burst)
            self.limits = limits
            window = active_window(limits.windows, self.engine.clock())
            self._hold_reason = (f"{line('deliver.paused')}: {state.pause_reason or ''}" if state.paused else
                                 f"{line('deliver.maintenance_until')} {window[1]:%Y-%m-%d %H:%M} {window[0].note}"
                                 if window else "")
            self._hold_checked = clock
        return self._hold_reason

    def _draw_tokens(self, want: int) -> tuple[int, float]:
        return self.store.take_tokens(self.policy.name, want, self.limits.rate_per_second, self.limits.burst,
                                      None)  # the store's clock: one worker's clock jumping back must not starve it

    def _save_breaker(self, state: BreakerState, opened_at: float | None) -> None:
        log.warning("destination %s: circuit %s", self.policy.name, state)
        self.store.save_breaker(self.policy.name, state,
                                datetime.fromtimestamp(opened_at, UTC) if opened_at is not None else None)

    # --- claiming ----------------------------------------------------------------------
    def _loop(self) -> None:
        stop, poll, signal, name = self.engine.stopping, self.engine.poll_seconds, self.engine.signal, self.policy.name
        busy = False
        while not stop.is_set():
            try:
                if self.hold_reason() or not self._slots.acquire(timeout=poll):
                    stop.wait(min(poll, self.engine.hold_check_seconds))
                    continue
                if busy:  # batches are still queued behind the calls: let a few more slots free up
                    stop.wait(0.005)
                free = 1
                while free < self._capacity and self._slots.acquire(blocking=False):
                    free += 1
                seen = signal.seen(name)  # before the claim: a wake-up during it is not missed
                busy = self._claim(free) > 0
                if not busy:  # until jobs may be claimable (JobSignal), at the latest after poll_seconds
                    signal.wait(name, seen, poll)
            except Exception:  # the store may be briefly unreachable: keep going
                log.exception("destination %s: claim failed", self.policy.name)
                stop.wait(1.0)

    def _claim(self, free: int) -> int:
        """Claims up to ``free`` batches and starts them; gives back the unused slots. How many batches."""
        permits = self.breaker.permits()
        batches: list[list[ClaimedJob]] = []
        try:
            if permits != 0:
                probe = permits == 1
                batches = self.store.claim(
                    self.policy.name, self.engine.worker, limit=1 if probe else free,
                    max_batch=1 if probe else self.policy.max_batch, lease_seconds=self.policy.lease_seconds,
                    now=None, on_dead=self.policy.on_dead)  # the store's clock, whatever this machine's says
                if probe and not batches:
                    self.breaker.unprobe()
        finally:
            for _ in range(free - len(batches)):
                self._slots.release()
        for batch in batches:  # under the heartbeat from now on: a batch may wait longer than its lease
            self.engine.leases.add(self.policy.lease_seconds, batch[0].holder, [job.job_id for job in batch])
            self.pool.submit(self._run, batch, permits == 1)
        return len(batches)

    # --- one call ----------------------------------------------------------------------
    def _run(self, batch: list[ClaimedJob], probe: bool = False) -> None:
        ids, holder = [job.job_id for job in batch], batch[0].holder
        recording = False  # the deliveries are being recorded in the background, which frees the slot
        try:
            stopping = self.engine.stopping.is_set
            # the circuit may have opened while this batch waited behind others: only the probe goes then
            tripped = self.breaker.state is not BreakerState.CLOSED and not probe
            # A batch that cannot get a token within a third of its lease goes back unattempted.
            if (stopping() or tripped or self.hold_reason()
                    or not self.bucket.take(cancelled=stopping, within=self.policy.lease_seconds / 3)):
                self._release(ids, holder, probe)
                return
            started, clock = self.engine.clock(), time.perf_counter()
            try:
                deliveries = [Delivery(job.job_id, job.packet_id, decode_packet(job.raw, job.encoding), job.raw,
                                       job.attempts + 1) for job in batch]
                # Whatever the peer said is kept and logged only with the batch's personal values masked.
                known = {value for d in deliveries for value in personal_values(d.packet)}
                outcomes = [replace(o, message=scrub(o.message, known)) if o.message else o
                            for o in self.connector.deliver(deliveries)]
            except Exception as exc:  # a connector bug must not lose the job: it is tried again later
                log.exception("destination %s: connector failed", self.policy.name)
                outcomes = [Outcome(OutcomeKind.TRANSIENT, f"{line('deliver.connector_error')}: {type(exc).__name__}")]
            self.engine.tally.add(calls=1)
            recording = self._settle(batch, outcomes, started, round((time.perf_counter() - clock) * 1000))
        except Exception:
            log.exception("destination %s: settling %s failed; the leases will expire", self.policy.name, ids)
            if probe:
                self.breaker.unprobe()
        finally:
            self.engine.leases.remove(self.policy.lease_seconds, holder, ids)
            if not recording:
                self._free_slot()

    def _release(self, ids: list[str], holder: str, probe: bool = True) -> None:
        if probe:
            self.breaker.unprobe()
        self.engine.tally.add(released=self.store.release(ids, holder))

    def _settle(self, batch: list[ClaimedJob], outcomes: list[Outcome], started: datetime, duration_ms: int) -> bool:
        """Records what the call did. True when it is all delivered: recorded then in the background,
        with other calls' deliveries in one transaction, and this batch's slot is freed once it is —
        so this thread goes on to the next call meanwhile."""
        outcomes = outcomes[:len(batch)] + [Outcome(OutcomeKind.TRANSIENT, "no outcome")] * (len(batch) - len(outcomes))
        records = [AttemptRecord(started, duration_ms, o.kind.value, o.peer_status, o.message, self.connector.transform)
                   for o in outcomes]
        taken = next((i for i, o in enumerate(outcomes) if o.kind is not OutcomeKind.DELIVERED), len(batch))
        delivered = [(job.job_id, records[i]) for i, job in enumerate(batch[:taken])]
        if taken == len(batch):
            self.breaker.record(success=True)
            self.engine.settler.complete(delivered, batch[0].holder).add_done_callback(
                lambda done: self._recorded(batch, done))
            return True
        if taken:  # the delivered prefix first
            self._count_delivered(batch, self.engine.settler.complete(delivered, batch[0].holder).result())
        job, outcome, attempt = batch[taken], outcomes[taken], records[taken]
        if outcome.dossier_only:  # one dossier's trouble says nothing of the destination: the probe is not spent
            self.breaker.unprobe()
        else:
            self.breaker.record(success=outcome.kind is OutcomeKind.PERMANENT)
        settled = (self._dead(job, attempt, outcome.message) if outcome.kind is OutcomeKind.PERMANENT
                   else self._transient(job, attempt, outcome))
        if not settled:
            self._lease_lost(job)
        if rest := [j.job_id for j in batch[taken + 1:]]:
            self._release(rest, job.holder, probe=False)  # not taken: back in line behind this job, no attempt counted
        return False

    def _recorded(self, batch: list[ClaimedJob], done: "Future[list[bool]]") -> None:
        try:
            self._count_delivered(batch, done.result())
        except Exception:
            log.exception("destination %s: recording %d deliveries failed; the leases will expire",
                          self.policy.name, len(batch))
        finally:
            self._free_slot()

    def _free_slot(self) -> None:
        """A call is over and settled: its dossier's next step may be claimable now."""
        self._slots.release()
        self.engine.signal.wake(self.policy.name)

    def _count_delivered(self, batch: list[ClaimedJob], held: list[bool]) -> None:
        self.engine.tally.add(delivered=sum(held))
        for job, still_held in zip(batch, held):
            if not still_held:
                self._lease_lost(job)

    def _transient(self, job: ClaimedJob, attempt: AttemptRecord, outcome: Outcome) -> bool:
        n, policy = job.attempts + 1, self.policy
        if n >= policy.max_attempts:
            return self._dead(job, attempt, f"{line('deliver.attempts_exhausted', n=n)}: {outcome.message}")
        max_age = min(policy.max_age_seconds, outcome.max_age_seconds or policy.max_age_seconds)
        view = self.store.get_job(job.job_id)
        if view and self.store.now() - view.created_at > timedelta(seconds=max_age):  # the store's clock
            return self._dead(job, attempt, f"{line('deliver.too_old', seconds=f'{max_age:g}')}: {outcome.message}")
        delay = retry_delay(n, policy.backoff_base_seconds, policy.backoff_cap_seconds, outcome.retry_after)
        self.engine.tally.add(retried=1)
        log.info("job %s attempt %d: %s; next in %.2f s", job.job_id, n, outcome.message, delay)
        # a delay, not a time: the store adds it to its own clock, so a jump of this machine's clock
        # neither brings the retry forward nor leaves it due an hour late
        return self.store.retry_later(job.job_id, job.holder, attempt, delay_seconds=delay)

    def _dead(self, job: ClaimedJob, attempt: AttemptRecord, reason: str) -> bool:
        log.warning("job %s dead-lettered: %s", job.job_id, reason)
        self.engine.tally.add(dead=1)
        return self.store.dead_letter(job.job_id, job.holder, attempt, reason)

    def _lease_lost(self, job: ClaimedJob) -> None:
        # Someone else holds it now; a repeat delivery carries the same idempotency key.
        log.warning("job %s: lease lost before it was settled", job.job_id)
        self.engine.tally.add(lease_lost=1)


class Engine:
    """Delivery for the given destinations in this process: ``start()``, then ``stop()``."""

    def __init__(self, store: Store, policies: dict[str, DestinationPolicy], *, worker: str | None = None,
                 connectors: dict[str, Connector] | None = None, poll_seconds: float = 0.5,
                 hold_check_seconds: float = 0.25, clock: Callable[[], datetime] = now_utc,
                 connector_factory: Callable[[DestinationPolicy], Connector] = make_connector) -> None:
        self.store, self.worker = store, check_worker_name(worker or worker_name())
        self.poll_seconds, self.hold_check_seconds = poll_seconds, hold_check_seconds
        # This process's wall clock (a seam for tests): maintenance windows and attempts' start stamps. Leases,
        # due times and the token bucket are reckoned on the store's clock, durations on the monotonic one.
        self.clock = clock
        self.stopping = threading.Event()
        self.signal = store.job_signal(SIGNAL_INTERVAL)
        self.leases = _Leases()
        self.tally = DeliveryCounts()
        self.settler = Settler(store)
        connectors = connectors or {}
        self.runners = {name: DestinationRunner(self, policy, connectors.get(name) or connector_factory(policy))
                        for name, policy in policies.items()}
        self._heartbeat = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def _register(self) -> None:
        try:  # the registry /readyz reads: a worker alive has beaten recently
            self.store.worker_seen(self.worker, socket.gethostname(), os.getpid(), list(self.runners))
        except Exception:
            log.exception("registering the worker failed")

    def start(self) -> "Engine":
        self.store.hold_session(self.worker)
        self._register()
        for runner in self.runners.values():
            runner.thread.start()
        self._heartbeat.start()
        log.info("worker %s delivering to %s", self.worker, ", ".join(self.runners))
        return self

    def _beat(self) -> None:
        """Every third of the shortest lease, and at least every BEAT_SECONDS: a session-tied lease (PostgreSQL)
        is taken by another worker only once its session has ended and its heartbeat is STALE_SECONDS old,
        so a dead worker's jobs resume within about a second and a live one's survive a dropped connection."""
        shortest = min((r.policy.lease_seconds for r in self.runners.values()), default=30.0)
        registered = 0.0
        while not self.stopping.wait(min(shortest / 3, BEAT_SECONDS)):
            if time.monotonic() - registered >= HEARTBEAT_SECONDS:
                self._register()
                registered = time.monotonic()
            try:
                self.store.hold_session(self.worker)  # reopened if it was lost
            except Exception:
                log.exception("keeping the worker's session failed")
            by_length: dict[float, list[tuple[str, str]]] = {}
            for (seconds, holder), ids in self.leases.snapshot().items():
                by_length.setdefault(seconds, []).extend((job_id, holder) for job_id in ids)
            for seconds, held in by_length.items():  # one statement per lease length, whatever the claims
                try:
                    self.store.extend_leases(held, seconds, None)  # the store's clock, as the claim
                except Exception:
                    log.exception("extending leases failed")

    def stop(self, timeout: float = 30.0) -> None:
        """Stops claiming, lets calls in flight finish (each bounded by its timeout) and releases the rest."""
        self.stopping.set()
        self.signal.wake()
        for runner in self.runners.values():
            runner.thread.join(timeout)
        for runner in self.runners.values():
            runner.pool.shutdown(wait=True, cancel_futures=False)
            runner.connector.close()
        self.settler.close()  # after the calls: they wait for their deliveries to be recorded
        self._heartbeat.join(timeout)
        self.store.drop_session(self.worker)
        try:
            self.store.worker_gone(self.worker)
        except Exception:
            log.exception("unregistering the worker failed")
        log.info("worker %s stopped: %s", self.worker, self.tally)

    def __enter__(self) -> "Engine":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
