"""Fixtures for the delivery suite: a fault-injecting local destination over real HTTP, fast
policies, and helpers that accept generated traffic into the store under test."""

from collections.abc import Callable, Iterable, Iterator
import time
from typing import Any

import pytest

from gateway.deliver.engine import Engine
from gateway.deliver.policy import DestinationPolicy, policy_from
from demo.testpeer import FaultyPeer
from gateway.deliver.traffic import Packet, Traffic
from gateway.store.api import AcceptResult, Store

DEST = "dest"


@pytest.fixture
def peer() -> Iterator[FaultyPeer]:
    with FaultyPeer() as running:
        yield running


@pytest.fixture
def traffic() -> Traffic:
    return Traffic(seed=7)


@pytest.fixture
def feed(store: Store) -> Callable[..., list[AcceptResult]]:
    """Accepts packets into the store, in the order given, each routed to ``destinations``."""

    def accept(packets: Iterable[Packet], destinations: tuple[str, ...] = (DEST,)) -> list[AcceptResult]:
        return [store.accept(p.stored(), list(destinations)) for p in packets]

    return accept


@pytest.fixture
def policy(peer: FaultyPeer) -> Callable[..., DestinationPolicy]:
    """A policy pointing at the peer, tuned for seconds-long tests."""

    def make(name: str = DEST, **overrides: Any) -> DestinationPolicy:
        table = {"url": peer.url, "timeout_seconds": 1.0, "concurrency": 4, "rate_per_second": 1000.0,
                 "burst": 100, "max_batch": 1, "max_attempts": 50, "backoff_base_seconds": 0.02,
                 "backoff_cap_seconds": 0.2, "breaker_threshold": 1000, "breaker_cooldown_seconds": 0.5,
                 "lease_seconds": 5.0} | overrides
        return policy_from(name, table)

    return make


@pytest.fixture
def engines(store: Store) -> Iterator[Callable[..., Engine]]:
    """Starts engines on the store under test; stops them all at the end."""
    started: list[Engine] = []

    def start(*policies: DestinationPolicy, **options: Any) -> Engine:
        engine = Engine(store, {p.name: p for p in policies}, **{"poll_seconds": 0.01, "hold_check_seconds": 0.05,
                                                                 **options}).start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        if not engine.stopping.is_set():
            engine.stop()


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def until() -> Callable[..., Any]:
    return wait_for
