"""POST /v1/packets over real HTTP, on both stores: authentication, validation, routing,
durable acceptance, idempotency, and the receipt."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import hashlib
import re
import socket
import uuid

import httpx
import pytest

from gateway.store import JobFilter, open_store

EXAMPLES = Path(__file__).parents[2] / "examples"
_ID = re.compile(rb"MaGoiTin(?:>|\":\s*\")([0-9a-f-]{36})")
XML, JSON = {"content-type": "application/xml"}, {"content-type": "application/json; charset=utf-8"}


def example(kind: str, encoding: str = "xml") -> bytes:
    """An example packet under a fresh MaGoiTin."""
    data = (EXAMPLES / f"{kind}.{encoding}").read_bytes()
    return data.replace(_ID.search(data).group(1), str(uuid.uuid4()).encode(), 1)


def packet_id(data: bytes) -> str:
    return _ID.search(data).group(1).decode()


def post(gateway, data: bytes, headers: dict[str, str], key: str | None = "portal") -> httpx.Response:
    auth = {"authorization": f"Bearer {gateway.keys[key]}"} if key else {}
    return httpx.post(gateway.url + "/v1/packets", content=data, headers={**headers, **auth}, timeout=30)


def stored(gateway):
    return open_store(gateway.config.section("store")["url"])


def test_accepted_packet_is_stored_exactly_then_receipted(gateway) -> None:
    data = example("HoSo")  # status 10, returned by post: national portal only
    answer = post(gateway, data, XML)
    assert answer.status_code == 202, answer.text
    receipt = answer.json()
    assert receipt["KetQua"] == "accepted" and receipt["MaGoiTin"] == packet_id(data)
    assert receipt["BamSHA256"] == hashlib.sha256(data).hexdigest()
    assert receipt["ThoiGianNhan"].endswith("+07:00") and receipt["NoiNhan"] == ["national_portal"]
    assert receipt["ChuKyBienNhan"] == "unsigned" and "message_vi" in receipt and "message_en" in receipt
    assert f"<MaGoiTinNhan>{packet_id(data)}</MaGoiTinNhan>" in receipt["BienNhan"]
    assert "<KetQuaChuKy>unsigned</KetQuaChuKy>" in receipt["BienNhan"]
    store = stored(gateway)  # a separate connection: the packet is committed before the answer
    try:
        kept = store.get_packet(packet_id(data))
        assert kept is not None and kept.raw == data and kept.sender == "portal" and kept.agency == "000.00.01.H22"
        assert kept.verdicts["signature"]["verdict"] == "unsigned" and kept.verdicts["validation"]["valid"]
        assert kept.destinations == ["national_portal"] and kept.dossier == "000.00.01.H22-241201-0001"
    finally:
        store.close()


def test_json_fans_out_one_job_per_route(gateway) -> None:
    # A dossier waiting for its fees (status 6 with DanhSachLePhi): the portal and payment rules both match.
    data = example("HoSo", "json").replace(b'"TrangThaiHoSo": 10', b'"TrangThaiHoSo": 6', 1)
    assert b'"TrangThaiHoSo": 6' in data and b'"DanhSachLePhi"' in data
    answer = post(gateway, data, JSON)
    assert answer.status_code == 202, answer.text
    assert answer.json()["NoiNhan"] == ["national_portal", "payment"]
    assert answer.json()["BienNhan"]["NoiDung"]["BienNhan"]["KetQua"] == 1
    store = stored(gateway)
    try:
        jobs = store.find_jobs(JobFilter())
        assert sorted(j.destination for j in jobs) == ["national_portal", "payment"]
        assert {j.packet_id for j in jobs} == {packet_id(data)}
    finally:
        store.close()


def test_resend_answers_the_original_receipt_without_a_second_job(gateway) -> None:
    data = example("TienDoXuLy")
    first = post(gateway, data, XML)
    again = post(gateway, data, XML)
    assert (first.status_code, again.status_code) == (202, 200)
    for field in ("MaGoiTin", "BamSHA256", "ThoiGianNhan", "NoiNhan"):
        assert again.json()[field] == first.json()[field]
    assert again.json()["KetQua"] == "duplicate" and "<KetQua>2</KetQua>" in again.json()["BienNhan"]
    store = stored(gateway)
    try:
        assert store.count_jobs(JobFilter()) == 1
    finally:
        store.close()


def test_same_id_other_content_is_409_and_audited(gateway) -> None:
    data = example("TienDoXuLy")
    assert post(gateway, data, XML).status_code == 202
    changed = data.replace(b"<NguoiXuLy>", b"<NguoiXuLy>X", 1)
    assert changed != data
    answer = post(gateway, changed, XML)
    assert answer.status_code == 409 and answer.json()["error"] == "packet.conflict"
    assert "MaGoiTin" in answer.json()["message_vi"] or "gói tin" in answer.json()["message_vi"]
    store = stored(gateway)
    try:
        (row,) = store.audit_log(packet_id(data))  # the acceptance is in its batch's entry
        assert row["action"] == "accept.conflict" and row["actor"] == "portal"
        (accepted,) = [item for entry in store.audit_about(row["dossier"]) for item in entry.accepted()]
        assert accepted["packet_id"] == packet_id(data) and accepted["sha256"] == row["detail"]["sha256_original"]
        assert store.get_packet(packet_id(data)).raw == data
    finally:
        store.close()


@pytest.mark.parametrize("key, headers, rule", [
    (None, {}, "auth.missing"),
    (None, {"authorization": "Bearer khong-dung"}, "auth.invalid"),
    (None, {"x-api-key": "wrong"}, "auth.invalid"),
])
def test_unauthenticated_senders_get_401(gateway, key, headers, rule) -> None:
    answer = post(gateway, example("HoSo"), {**XML, **headers}, key)
    assert answer.status_code == 401 and answer.json()["error"] == rule
    assert answer.json()["message_vi"] and answer.json()["message_en"]
    assert answer.headers["www-authenticate"] == "Bearer"


def test_api_key_header_works_too(gateway) -> None:
    answer = post(gateway, example("HoSo"), {**XML, "x-api-key": gateway.keys["portal"]}, None)
    assert answer.status_code == 202, answer.text


@pytest.mark.parametrize("key, rule", [("limited", "auth.agency"), ("typed", "auth.type")])
def test_clients_limited_to_agencies_and_types_get_403(gateway, key, rule) -> None:
    answer = post(gateway, example("HoSo"), XML, key)
    assert answer.status_code == 403 and answer.json()["error"] == rule
    assert "000.00.01.H22" in answer.json()["message_vi"] or "HoSo" in answer.json()["message_vi"]
    assert post(gateway, example("VanDonBuuChinh"), XML, "typed").status_code == 202


def test_invalid_packet_gets_the_full_report_and_nothing_is_stored(gateway) -> None:
    data = example("HoSo").replace(b"<MaTTHC>1.005129</MaTTHC>", b"<MaTTHC>sai</MaTTHC>")
    answer = post(gateway, data, XML)
    assert answer.status_code == 422
    report = answer.json()
    assert report["valid"] is False and any(e["path"].endswith("MaTTHC") for e in report["errors"])
    assert post(gateway, b"{not json", JSON).status_code == 422
    assert post(gateway, b"<GoiTin/>", {"content-type": "text/plain"}).status_code == 415
    store = stored(gateway)
    try:
        assert store.get_packet(packet_id(data)) is None and store.counts() == {}
    finally:
        store.close()


def test_concurrent_senders_are_all_stored(gateway) -> None:
    packets = [example("TienDoXuLy") for _ in range(40)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda data: post(gateway, data, XML), packets))
    assert [a.status_code for a in answers] == [202] * len(packets)
    store = stored(gateway)
    try:
        assert store.count_jobs(JobFilter(destination="national_portal")) == len(packets)
    finally:
        store.close()
    assert gateway.app.state.intake.committer.commits <= len(packets)  # batching itself: test_committer.py


def test_unreachable_store_answers_503_and_no_receipt(tmp_path: Path) -> None:
    """A store that cannot commit means no receipt: the sender must resend."""
    from fastapi.testclient import TestClient

    from gateway.config import Config
    from gateway.api import create_app

    key = "khoa-503"
    config_file = tmp_path / "gateway.toml"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file.write_text(f'[store]\nurl = "postgresql://postgres@127.0.0.1:{port}/test"\n[clients.portal]\n'
                           f'key_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n', encoding="utf-8")
    with TestClient(create_app(Config.load(config_file))) as client:
        answer = client.post("/v1/packets", content=example("TienDoXuLy"),
                             headers={**XML, "authorization": f"Bearer {key}"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["error"] == "store.unavailable" and answer.json()["message_vi"]


def step(status: int) -> bytes:
    return re.sub(rb"<TrangThai>\d+</TrangThai>", f"<TrangThai>{status}</TrangThai>".encode(), example("TienDoXuLy"))


def test_status_history_comes_from_the_store(gateway) -> None:
    finished, returned = step(9), step(10)
    assert post(gateway, finished, XML).status_code == 202
    assert post(gateway, returned, XML).status_code == 202  # 9 → 10
    late = post(gateway, step(4), XML)  # after the terminal status 10: refused by policy
    assert late.status_code == 422
    assert [e["rule"] for e in late.json()["errors"]] == ["semantic.after_terminal"]
    # A resend of an accepted step still gets its original receipt, though history moved on.
    again = post(gateway, finished, XML)
    assert again.status_code == 200 and again.json()["KetQua"] == "duplicate"


def test_a_skipped_step_is_accepted_with_the_policy_warning_in_receipt_and_verdicts(gateway) -> None:
    """The transition is checked where the packet is stored; a "warn" policy's warning still reaches
    the sender and the stored verdicts."""
    assert post(gateway, step(2), XML).status_code == 202
    skipped = step(9)  # 2 → 9 skips the steps between: the default policy warns
    answer = post(gateway, skipped, XML)
    assert answer.status_code == 202, answer.text
    assert [w["rule"] for w in answer.json()["warnings"]] == ["semantic.transition"]
    assert answer.json()["warnings"][0]["path"] == "NoiDung/TienDoXuLy/TrangThai"
    store = stored(gateway)
    try:
        verdicts = store.get_packet(packet_id(skipped)).verdicts
    finally:
        store.close()
    assert [w["rule"] for w in verdicts["validation"]["warnings"]] == ["semantic.transition"]


def test_two_steps_of_one_dossier_prepared_together_are_checked_in_order(gateway) -> None:
    """Both steps are validated before either is stored — as when a sender sends them at the same
    instant. The one that comes second is still checked against the first: after the terminal
    status 10, status 4 is refused and not stored."""
    from gateway.receive.auth import Client
    from gateway.receive.intake import AT_COMMIT, PacketIntake, Prepared, unchecked

    intake = PacketIntake(gateway.config, verify=unchecked)
    try:
        client = Client("portal")
        terminal, late = step(10), step(4)
        prepared = [intake.prepare(client, data, "xml", AT_COMMIT) for data in (terminal, late)]
        assert all(isinstance(p, Prepared) for p in prepared)  # the transition is left to the store
        futures = [intake.committer.submit(p.new, p.routes) for p in prepared]
        first, second = (future.result(timeout=30) for future in futures)
        assert first.refused is None and not first.duplicate
        assert second.refused is not None and second.refused["valid"] is False
        assert [e["rule"] for e in second.refused["errors"]] == ["semantic.after_terminal"]
        assert second.refused["packet"]["MaGoiTin"] == packet_id(late)
        assert intake.store.get_packet(packet_id(late)) is None
        assert intake.store.previous_status(prepared[0].new.dossier) == 10
    finally:
        intake.close()


def test_another_clients_packet_id_is_answered_as_if_unknown(start_gateway) -> None:
    """Issue 14 item 8: a MaGoiTin another client used is a new packet for this one (stored under an id
    scoped to it), never a 409 that tells it the id exists; its own resends and conflicts keep working."""
    other_key = "khoa-he-thong-khac-51c2"
    gateway = start_gateway(f'[clients.other]\nkey_sha256 = "{hashlib.sha256(other_key.encode()).hexdigest()}"\n'
                            'agencies = ["000.00.01.H22"]\n')
    gateway.keys = {**gateway.keys, "other": other_key}
    mine = example("TienDoXuLy")
    theirs = mine.replace(b"<NguoiXuLy>", b"<NguoiXuLy>B", 1)
    assert theirs != mine and packet_id(theirs) == packet_id(mine)
    first = post(gateway, mine, XML)
    assert first.status_code == 202
    answer = post(gateway, theirs, XML, key="other")
    assert answer.status_code == 202, answer.text  # as for an id never seen
    receipt = answer.json()
    assert receipt["KetQua"] == "accepted" and receipt["MaGoiTin"] == packet_id(mine)
    assert receipt["BamSHA256"] == hashlib.sha256(theirs).hexdigest() 
    assert first.json()["BamSHA256"] not in answer.text and first.json()["ThoiGianNhan"] not in answer.text
    again = post(gateway, theirs, XML, key="other")  # its own resend: its own receipt
    assert again.status_code == 200 and again.json()["KetQua"] == "duplicate"
    assert again.json()["ThoiGianNhan"] == receipt["ThoiGianNhan"]
    changed = post(gateway, theirs.replace(b"<NguoiXuLy>B", b"<NguoiXuLy>C", 1), XML, key="other")
    assert changed.status_code == 409 and changed.json()["error"] == "packet.conflict"  # its own id only
    original = post(gateway, mine, XML)  # the first client's resend is untouched
    assert original.status_code == 200 and original.json()["BamSHA256"] == hashlib.sha256(mine).hexdigest()
    store = stored(gateway)
    try:
        assert store.get_packet(packet_id(mine)).raw == mine
        scoped = store.get_packet(f"other/{packet_id(mine)}")
        assert scoped is not None and scoped.raw == theirs and scoped.sender == "other"
        collisions = [row for row in store.audit_log(packet_id(mine)) if row["action"] == "accept.foreign_id"]
        assert len(collisions) == 3 and collisions[-1]["actor"] == "other"
        assert collisions[-1]["detail"]["owner"] == "portal"
        assert store.count_jobs(JobFilter()) == 2
    finally:
        store.close()
