"""The worker hands its *loaded* configuration (the --config overlay, not $GATEWAY_CONFIG) to the national
portal connector: with the overlay's madonvi, dstcode and ledger a dossier and its step reach the simulator."""

from pathlib import Path

import pytest

from connectors.national_portal.connector import NationalPortalConnector
from gateway.cli.worker import start_engine
from gateway.config import Config
from gateway.deliver.traffic import Traffic
from gateway.store.api import JobFilter, JobState, Store

from .conftest import CREDENTIALS, Simulator, wait_for


def test_the_engine_builds_the_portal_connector_from_the_loaded_overlay(
        simulator: Simulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)  # only the file given below may carry the settings
    monkeypatch.setenv("GATEWAY_PORTAL_USERNAME", CREDENTIALS["username"])
    monkeypatch.setenv("GATEWAY_PORTAL_PASSWORD", CREDENTIALS["password"])
    overlay = tmp_path / "gateway.toml"
    overlay.write_text(f'[national_portal]\nadapter_url = "{simulator.url}"\nmadonvi = "000.00.00.H22"\n'
                       f'dstcode = "DVCQG-TEST"\nledger_url = "sqlite:///{tmp_path}/ledger.sqlite"\n'
                       '[destinations.national_portal]\nmax_batch = 4\nbackoff_base_seconds = 0.05\n', encoding="utf-8")
    config = Config.load(overlay)
    assert "url" not in config.section("destinations")["national_portal"]  # the address comes from adapter_url

    packets = Traffic(seed=7).dossier(1, steps=3)
    for packet in packets:
        store.accept(packet.stored(), ["national_portal"])
    engine = start_engine(config, store, only=["national_portal"])
    try:
        connector = engine.runners["national_portal"].connector
        assert isinstance(connector, NationalPortalConnector) and connector.max_batch == 4
        done = JobFilter(destination="national_portal", state=JobState.DELIVERED)
        wait_for(lambda: store.count_jobs(done) == len(packets), what="delivery through the overlay's settings")
    finally:
        engine.stop()
    record = simulator.record(packets[0].dossier)
    assert [step["TrangThai"] for step in record["progress"]] == [4, 9, 10]
    assert (tmp_path / "ledger.sqlite").exists()
