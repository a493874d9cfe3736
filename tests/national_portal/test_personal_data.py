"""The log and store scan: realistic traffic carrying citizens' data — IDs, names, phones, e-mails,
addresses — through the classic endpoint to the simulated national portal, which refuses some
dossiers quoting the citizen back, and to a generic HTTP destination that refuses by quoting the
whole packet back; payloads sealed at rest. Then every log line captured, ``gateway jobs show`` of
every job, and the store's text columns (attempt messages, last_error, audit) and payload bytes are
scanned: no personal value may appear unmasked. Both stores."""

from collections.abc import Callable
import json
import logging
import random
import time

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from demo.testpeer import FaultyPeer
from demo.people import citizen
from gateway.pii import mask_logs
from gateway.packets.envelope import GoiTin
from gateway.store import JobFilter, JobState, NewPacket, Store
from gateway.store.sealing import KEYS_ENV, new_key_line
from gateway.store.tables import attempts, audit, jobs, packets

from .conftest import Simulator, dossier_code
from .test_inbound_http import DEST, Gateway, dossier, run_engine, start_gateway  # noqa: F401 - fixtures, found by name

QUOTING = "quoting_peer"


def people(count: int) -> list[dict[str, str]]:
    """Citizens as one-stop systems send them: distinct names, 12-digit IDs, phones, e-mails, addresses."""
    rng = random.Random(14)
    found = []
    for n in range(count):
        person = citizen(rng)
        found.append({"ChuHoSo": person.name, "SoGiayToChuHoSo": person.id_number,
                      "SoDienThoai": f"09{rng.randrange(10 ** 8):08d}",
                      "Email": f"cong.dan.{n}.{rng.randrange(10 ** 6)}@thu.example.vn",
                      "ThongTinKhac": f"Số {rng.randrange(1, 300)} đường Lý Thường Kiệt {n}, phường Phú Hội, Huế"})
    return found


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def leaks(text: str, citizens: list[dict[str, str]]) -> list[str]:
    """The personal values found in ``text``, compared case- and space-insensitively."""
    flat = " ".join(text.split()).casefold()
    compact = "".join(text.split())
    found = []
    for person in citizens:
        for field, value in person.items():
            if " ".join(value.split()).casefold() in flat or (field in ("SoGiayToChuHoSo", "SoDienThoai")
                                                              and value in compact):
                found.append(f"{field}={value}")
    return found


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Payload encryption on for every store opened in this test (before the ``store`` fixture opens one)."""
    monkeypatch.setenv(KEYS_ENV, new_key_line("scan-1"))


def test_no_personal_value_is_logged_or_stored_unmasked(sealed: None, start_gateway: Callable[..., Gateway],
                                                       run_engine: Callable[[], Engine], store: Store,
                                                       simulator: Simulator, store_url: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    citizens = people(6)
    codes = [dossier_code() for _ in citizens]
    # The portal refuses two dossiers, quoting the citizen back in its message.
    simulator.faults(refuse={codes[n]: (f"Hồ sơ của {p['ChuHoSo']} (CCCD {p['SoGiayToChuHoSo']}, SĐT "
                                         f"{p['SoDienThoai']}, {p['Email']}, {p['ThongTinKhac']}) không hợp lệ")
                             for n, p in enumerate(citizens[:2])})
    gateway = start_gateway()
    one_stop = gateway.client()
    assert one_stop.login()["error_code"] == 0
    items = [dossier(code, **person) for code, person in zip(codes, citizens)]
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=items)["error_code"] == 0
    # A wrong item: the refusal names the field, never the value in clear.
    wrong = dossier(dossier_code(), **{**citizens[2], "Email": "khong-phai-email " + citizens[2]["Email"]})
    refusal = one_stop.call("DongBoHoSoMC", isUpdating="False", data=[wrong])
    assert refusal["error_code"] != 0 and not leaks(json.dumps(refusal, ensure_ascii=False), citizens)

    run_engine()
    wait_until(lambda: len(store.find_jobs(JobFilter(destination=DEST, state=JobState.DEAD))) == 2
               and len(store.find_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED))) == 4)

    # The same dossiers to a generic destination that refuses by quoting every packet back.
    with FaultyPeer() as peer:
        peer.set_faults(quote_back=True)
        stored = [store.get_packet(j.packet_id) for j in store.find_jobs(JobFilter(destination=DEST))]
        for view in stored:
            assert view is not None and view.raw is not None
            packet = GoiTin.model_validate_json(view.raw)
            store.accept(NewPacket(view.packet_id + "-q", view.sha256, view.raw, "json", "scan", view.received_at,
                                   "HoSo", packet.NoiDung.HoSo.MaHoSo + "-q"), [QUOTING])
        engine = Engine(store, {QUOTING: policy_from(QUOTING, {"url": peer.url, "timeout_seconds": 3.0,
                                                               "max_attempts": 2, "backoff_base_seconds": 0.02})},
                        poll_seconds=0.01, hold_check_seconds=0.05).start()
        try:
            wait_until(lambda: len(store.find_jobs(JobFilter(destination=QUOTING, state=JobState.DEAD))) == 6)
        finally:
            engine.stop()
        assert peer.state.calls >= 6  # the peer did quote them: the refusals carried the packets

    runner = CliRunner()
    shown = []
    for job in store.find_jobs(JobFilter(limit=1000)):
        for options in ([], ["--json"]):
            result = runner.invoke(cli, ["jobs", "show", job.job_id, "--store", store_url, *options])
            assert result.exit_code == 0, result.output
            shown.append(result.output)
    assert any("Hồ sơ của" in text for text in shown)  # the portal's words are kept, masked
    assert any("refused" in text for text in shown)

    engine_ = store.engine
    with engine_.connect() as connection:
        texts = [row[0] or "" for row in connection.execute(sa.select(attempts.c.message))]
        texts += [row[0] or "" for row in connection.execute(sa.select(jobs.c.last_error))]
        texts += [json.dumps(row[0], ensure_ascii=False) for row in connection.execute(sa.select(audit.c.detail))]
        payloads = [row[0] for row in connection.execute(sa.select(packets.c.raw)) if row[0] is not None]
    assert any("Hồ sơ của" in text for text in texts)

    logged = [record.getMessage() for record in caplog.records] + [caplog.text]
    for where, found in (("log", logged), ("jobs show", shown), ("store", texts)):
        for text in found:
            assert not leaks(text, citizens), f"{where}: {leaks(text, citizens)} in {text[:300]!r}"
    assert len(payloads) >= 12
    for raw in payloads:  # sealed at rest: not a single value readable in the bytes stored
        assert not leaks(raw.decode("latin-1"), citizens) and not leaks(raw.decode("utf-8", "replace"), citizens)


def test_the_log_safety_net_masks_any_logger_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Under the masking done where data is known to be personal, the commands that run the gateway mask
    what is recognisable in every log record, uvicorn's included: quoted personal fields, e-mails, numbers."""
    factory = logging.getLogRecordFactory()
    mask_logs()
    try:
        caplog.set_level(logging.INFO)
        log = logging.getLogger("gateway.deliver.engine")
        log.info("peer said %s", "<ns:ChuHoSo>Nguyễn Văn An</ns:ChuHoSo> an.nguyen@example.vn, SĐT 0912 345 678")
        try:
            raise ValueError('{"DiaChi": "12 Lê Lợi, Huế", "SoGiayToChuHoSo": "001190012345"}')
        except ValueError:
            log.exception("packet bc31604e-68e1-4ae4-9284-528312343036, dossier 000.00.01.H22-241201-0001 "
                          "at 20241201081512 failed")
        text = caplog.text
    finally:
        logging.setLogRecordFactory(factory)
    for value in ("Nguyễn Văn An", "an.nguyen", "0912 345 678", "Lê Lợi", "001190012345"):
        assert value not in text
    assert "N***** V** A*" in text and "000.00.01.H22-241201-0001" in text and "20241201081512" in text
    assert "bc31604e-68e1-4ae4-9284-528312343036" in text  # ids operators search for stay whole
    assert "Traceback" in text and "ValueError" in text
