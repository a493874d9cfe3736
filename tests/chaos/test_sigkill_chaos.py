"""SIGKILL of the API and of the workers at random moments while the destination misbehaves — flapping
(maintenance on and off), slow, throttling, failing, answering malformed bodies, resetting or cutting
connections halfway through an answer — on both stores. Afterwards: nothing lost, each dossier's
packets reached the destination in acceptance order, and every repeat is the same packet under the
same idempotency key; the repeats are counted and printed (test_crash's run and checks).

Short form in the suite (1,200 packets over 200 dossiers); the long form — 50,000 packets over 5,000
dossiers — with ``GATEWAY_CHAOS=long`` (``GATEWAY_CHAOS=medium``: 10,000 packets over 1,000 dossiers).
Any size by ``GATEWAY_CHAOS_DOSSIERS`` (dossiers), ``GATEWAY_CHAOS_STEPS`` (packets per dossier after the
first) and ``GATEWAY_CHAOS_DRAIN_SECONDS`` (how long the backlog may take to drain once sending has ended;
sending itself has no limit), each overriding the form's. The printed line gives accepted, delivered,
lost, dossiers out of order, repeats (and those not the same packet under their key), SIGKILLs and times.
The long soak, e.g.: ``GATEWAY_CHAOS=long .venv/bin/pytest -q -s -p no:cacheprovider
"tests/chaos/test_sigkill_chaos.py::test_sigkill_while_the_destination_misbehaves_loses_nothing[sqlite]"``
(``[postgres]`` with ``GATEWAY_REQUIRE_POSTGRES=1``)."""

import os
import random
import sys
import threading

import pytest

from gateway.deliver.traffic import Traffic

from tests.delivery.test_crash import GATEWAY, Process, _run, free_port, write_config

FORM = os.environ.get("GATEWAY_CHAOS", "short")
# steps after the first packet; "medium" (10,000 packets over 1,000 dossiers) when the long soak does not fit
DOSSIERS, STEPS = {"long": (5000, 9), "medium": (1000, 9)}.get(FORM, (200, 5))
DRAIN_SECONDS = {"long": 3600, "medium": 1200}.get(FORM, 240)
DOSSIERS = int(os.environ.get("GATEWAY_CHAOS_DOSSIERS", DOSSIERS))
STEPS = int(os.environ.get("GATEWAY_CHAOS_STEPS", STEPS))
DRAIN_SECONDS = int(os.environ.get("GATEWAY_CHAOS_DRAIN_SECONDS", DRAIN_SECONDS))

# One at a time, switched every second or so; "slow" stays under the 2 s timeout, "hang" outlasts it.
MISBEHAVIOURS = [
    {},
    {"maintenance": True, "retry_after": 0.3},
    {"latency_ms": 1500},
    {"throttle_rate": 0.3, "retry_after": 0.2},
    {"error_rate": 0.3},
    {"malformed_rate": 0.1},
    {"reset_rate": 0.1},
    {"cut_rate": 0.1},
    {"timeout_rate": 0.05, "hang_seconds": 2.5},
]


def misbehave(peer, stop: threading.Event, rng: random.Random) -> None:
    while not stop.wait(rng.uniform(0.5, 1.5)):
        peer.clear_faults()
        peer.set_faults(**rng.choice(MISBEHAVIOURS), seed=rng.randrange(1 << 30))
    peer.clear_faults()


@pytest.mark.slow
def test_sigkill_while_the_destination_misbehaves_loses_nothing(store, peer, tmp_path):
    key = os.urandom(16).hex()
    config = write_config(tmp_path / "gateway.toml", store.url, peer, key,
                          extra="breaker_threshold = 20\nbreaker_cooldown_seconds = 0.5\n")
    env = {**os.environ, "GATEWAY_CONFIG": str(config)}
    port = free_port()
    api = Process("api", [sys.executable, "-m", "uvicorn", "--factory", "gateway.api:create_app",
                          "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env, tmp_path / "api.log")
    workers = [Process(f"worker{i}", [*GATEWAY, "worker", "--name", f"w{i}"], env, tmp_path / f"worker{i}.log")
               for i in range(2)]
    traffic = Traffic(seed=1919)
    dossiers = [traffic.dossier(n, steps=STEPS, encoding="json" if n % 3 else "xml") for n in range(1, DOSSIERS + 1)]
    total = sum(len(d) for d in dossiers)
    stop = threading.Event()
    flapper = threading.Thread(target=misbehave, args=(peer, stop, random.Random(19)), daemon=True)
    for process in (api, *workers):
        process.start()
    flapper.start()
    try:
        _run(store, peer, f"http://127.0.0.1:{port}", key, api, workers, dossiers, total, DRAIN_SECONDS)
    finally:
        stop.set()
        for process in (api, *workers):
            process.stop()
    print(f"peer answers under chaos: {peer.state.answered}")
