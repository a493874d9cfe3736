"""Packets the gateway originates itself (``PacketIntake.originate``), on both stores: validated, routed,
stored with their jobs and kept in order per dossier exactly like a received packet, under the configured
originator; and the intake's outcomes as values, without HTTP."""

from collections.abc import Iterator
import hashlib
from pathlib import Path
import re
import uuid

import pytest

from gateway.config import Config, ConfigError
from gateway.receive.auth import Client
from gateway.receive.intake import PacketIntake
from gateway.receive.outcomes import Accepted, Refusal, Refused
from gateway.store import JobFilter

EXAMPLES = Path(__file__).parents[2] / "examples"
_ID = re.compile(rb"MaGoiTin(?:>|\":\s*\")([0-9a-f-]{36})")
pytestmark = pytest.mark.postgres


def example(kind: str, encoding: str = "xml") -> bytes:
    data = (EXAMPLES / f"{kind}.{encoding}").read_bytes()
    return data.replace(_ID.search(data).group(1), str(uuid.uuid4()).encode(), 1)


def step(status: int) -> bytes:
    return re.sub(rb"<TrangThai>\d+</TrangThai>", f"<TrangThai>{status}</TrangThai>".encode(), example("TienDoXuLy"))


def packet_id(data: bytes) -> str:
    return _ID.search(data).group(1).decode()


def configured(store_url: str, tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\nbatch_wait_ms = 1\n'
                    f'[clients.portal]\nkey_sha256 = "{hashlib.sha256(b"k").hexdigest()}"\n{extra}', encoding="utf-8")
    return Config.load(path)


@pytest.fixture
def intake(store_url: str, tmp_path: Path) -> Iterator[PacketIntake]:
    opened = PacketIntake(configured(store_url, tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def test_an_originated_packet_is_stored_routed_and_receipted_under_the_originator(intake: PacketIntake) -> None:
    data = example("HoSo")
    outcome = intake.originate(data, "xml")
    assert isinstance(outcome, Accepted) and not outcome.duplicate, outcome
    assert outcome.packet_id == packet_id(data) and outcome.receipt.result.destinations == ["national_portal"]
    assert f"<MaGoiTinNhan>{packet_id(data)}</MaGoiTinNhan>".encode() in outcome.receipt.document
    kept = intake.store.get_packet(packet_id(data))
    assert kept is not None and kept.raw == data and kept.sender == "gateway"
    assert kept.verdicts["validation"]["valid"] and kept.verdicts["signature"]["verdict"] == "unsigned"
    assert intake.store.count_jobs(JobFilter(destination="national_portal")) == 1
    again = intake.originate(data, "xml")  # the same bytes again: the original's receipt
    assert isinstance(again, Accepted) and again.duplicate
    assert again.receipt.result.received_at == outcome.receipt.result.received_at


def test_originated_and_received_steps_of_a_dossier_are_checked_in_one_order(intake: PacketIntake) -> None:
    """The gateway's own step and a sender's share the dossier's history: after the terminal status 10
    that the gateway originated, a sender's status 4 is refused; and the other way round."""
    assert isinstance(intake.receive(Client("portal"), step(9), "xml"), Accepted)
    finished = intake.originate(step(10), "xml")  # 9 → 10, from the gateway
    assert isinstance(finished, Accepted), finished
    late = intake.receive(Client("portal"), step(4), "xml")
    assert isinstance(late, Refused) and late.kind is Refusal.INVALID and late.about_the_data
    assert late.rule == "semantic.after_terminal" and late.status == 422
    assert [e["rule"] for e in late.report["errors"]] == ["semantic.after_terminal"]
    also_late = intake.originate(step(4), "xml")
    assert isinstance(also_late, Refused) and also_late.rule == "semantic.after_terminal"
    dossier = intake.store.get_packet(finished.packet_id).dossier
    assert dossier is not None and intake.store.previous_status(dossier) == 10


def test_an_invalid_originated_packet_is_refused_with_its_report_and_audited(intake: PacketIntake) -> None:
    data = (EXAMPLES / "invalid" / "bad-date.xml").read_bytes()
    outcome = intake.originate(data, "xml")
    assert isinstance(outcome, Refused) and outcome.kind is Refusal.INVALID
    assert outcome.report["valid"] is False and outcome.rule == outcome.report["errors"][0]["rule"]
    assert outcome.message_vi and outcome.message_en
    (entry,) = [e for e in intake.store.audit_entries() if e.action == "packet.refused"]
    assert entry.actor == "gateway" and entry.subject == hashlib.sha256(data).hexdigest()
    assert entry.detail == {"status": 422, "rules": outcome.rules(), "signature": None}


def test_the_originator_is_configured_and_never_a_clients_name(store_url: str, tmp_path: Path) -> None:
    named = PacketIntake(configured(store_url, tmp_path, '[intake]\noriginator = "buu_chinh_noi_bo"\n'))
    try:
        data = example("HoSo")
        assert isinstance(named.originate(data, "xml"), Accepted)
        assert named.store.get_packet(packet_id(data)).sender == "buu_chinh_noi_bo"
    finally:
        named.close()
    with pytest.raises(ConfigError, match="originator"):
        PacketIntake(configured(store_url, tmp_path, '[intake]\noriginator = "portal"\n'))
