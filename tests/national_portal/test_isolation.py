"""Isolation over real HTTP: a noisy client's look-ups, which a slow portal answers in seconds, and its flood
of packets do not delay another client's packets — look-ups wait in a bulkhead of their own, and each client
is capped (429 with Retry-After). Figures: bench/isolation_bench.py."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import threading
import time
import uuid

import httpx

from .conftest import Simulator
from .test_authorisation import OTHER, REST, Rest, code
from .test_inbound_http import AGENCY, DSTCODE, OTHER_PASSWORD, OTHER_USER, Gateway, dossier, start_gateway

__all__ = ["start_gateway"]  # the fixture, for pytest

PORTAL_SECONDS = 4.0
LIMITS = "[limits]\nclient_concurrent = 8\nlookup_rate = 1000.0\nlookup_burst = 1000\nlookup_threads = 8\n"


def test_a_noisy_client_and_a_slow_portal_do_not_delay_another_clients_packets(
        start_gateway: Callable[..., Gateway], simulator: Simulator) -> None:
    simulator.faults(latency_ms=PORTAL_SECONDS * 1000, services=["TraCuuHoSo"])
    gateway = start_gateway(extra=REST + LIMITS)
    noisy = gateway.client()
    assert noisy.login(OTHER_USER, OTHER_PASSWORD)["error_code"] == 0
    stop = threading.Event()
    answers: dict[int, int] = {}
    retry_after: set[str] = set()
    lock = threading.Lock()

    def look_up() -> None:
        with httpx.Client(base_url=gateway.url, timeout=30, trust_env=False) as http:
            while not stop.is_set():
                response = http.post("/adapter/integration", headers={"dstcode": DSTCODE}, json={
                    "session": noisy.session, "madonvi": OTHER, "service": "TraCuuHoSo", "MaHoSo": code(OTHER)})
                with lock:
                    answers[response.status_code] = answers.get(response.status_code, 0) + 1
                    if "retry-after" in response.headers:
                        retry_after.add(response.headers["retry-after"])
                time.sleep(0.1)

    def flood() -> None:
        sender = Rest(gateway.url, "rest_b")
        while not stop.is_set():
            status = sender.send(OTHER, dossier(code(OTHER))).status_code
            with lock:
                answers[status] = answers.get(status, 0) + 1

    quiet = Rest(gateway.url, "rest_a")
    with ThreadPoolExecutor(48) as pool:
        futures = [pool.submit(look_up) for _ in range(40)] + [pool.submit(flood) for _ in range(8)]
        try:
            time.sleep(1.0)  # the look-ups now wait on the portal, more are refused
            latencies = []
            for _ in range(10):
                began = time.perf_counter()
                assert quiet.send(AGENCY, dossier(f"{AGENCY}-241201-{uuid.uuid4().hex[:8]}")).status_code == 202
                latencies.append(time.perf_counter() - began)
        finally:
            stop.set()
            for future in futures:
                future.result()
    # Sharing one pool, a packet would have waited for a look-up thread: the portal's 4 s at least.
    assert max(latencies) < PORTAL_SECONDS * 0.6, latencies
    assert answers.get(429, 0) > 0 and retry_after and all(int(s) >= 1 for s in retry_after)
    assert answers.get(202, 0) > 0  # the noisy client's own packets within its limits still go in
