"""The delivery engine for the postal destination, the poller wired to the test intake, and store reads."""

from collections.abc import Iterator
from contextlib import contextmanager
import json
from typing import Any

from connectors.postal.client import PostalClient
from connectors.postal.ledger import PostalLedger
from connectors.postal.settings import PostalSettings
from connectors.postal.tracking import Originate, TrackingPoller
from gateway.config import Config
from gateway.deliver.engine import Engine, make_connector
from gateway.deliver.policy import load_policies
from gateway.store.api import JobFilter, JobState, JobView, Store


@contextmanager
def postal_engine(config: Config, store: Store) -> Iterator[Engine]:
    """The real delivery engine for ``postal``, its connector made from the configuration's factory string."""
    policy = load_policies(config)["postal"]
    engine = Engine(store, {"postal": policy}, poll_seconds=0.02, hold_check_seconds=0.05,
                    connector_factory=lambda p: make_connector(p, config)).start()
    try:
        yield engine
    finally:
        engine.stop()


def poller(config: Config, originate: Originate, holder: str | None = None) -> TrackingPoller:
    settings = PostalSettings.from_config(config)
    return TrackingPoller(settings, PostalClient(settings), PostalLedger(str(config.section("store")["url"])),
                          originate, holder)


def close(tracker: TrackingPoller) -> None:
    tracker.client.close()
    tracker.ledger.close()


def jobs(store: Store, **selection: Any) -> list[JobView]:
    return sorted(store.find_jobs(JobFilter(limit=1000, **selection)), key=lambda j: j.seq)


def count(store: Store, destination: str, state: JobState) -> int:
    return store.count_jobs(JobFilter(destination=destination, state=state))


def body(store: Store, job: JobView) -> dict[str, Any]:
    packet = store.get_packet(job.packet_id)
    assert packet is not None and packet.raw is not None
    data = json.loads(packet.raw)
    return data["NoiDung"][data["LoaiGoiTin"]]
