"""The authorisation matrix over real HTTP, on both stores: every client kind (REST key, classic account) ×
every route that touches a dossier × its own agency's dossier / another agency's / an unknown one → allowed
or refused, as asserted below. A refusal never tells whether the dossier exists or where it stands."""

from collections.abc import Callable
import copy
import hashlib
import json
from typing import Any
import uuid

import httpx
import pytest

from connectors.national_portal.client import ClassicClient
from gateway.packets.bodies import HoSo
from gateway.receive.ownership import refusal
from gateway.store.api import JobFilter, Store

from .conftest import EXAMPLES, wait_for
from .test_inbound_http import AGENCY, OTHER_PASSWORD, OTHER_USER, Gateway, dossier, sha, start_gateway, step

__all__ = ["start_gateway"]  # the fixture, for pytest

OTHER = "000.00.99.H99"  # so_nganh's agency (the classic account of test_inbound_http's CONFIG)
KEYS = {"rest_a": "khoa-co-quan-a-" + uuid.uuid4().hex, "rest_b": "khoa-co-quan-b-" + uuid.uuid4().hex}
REST = f"""
[clients.rest_a]
key_sha256 = "{sha(KEYS['rest_a'])}"
agencies = ["{AGENCY}"]

[clients.rest_b]
key_sha256 = "{sha(KEYS['rest_b'])}"
agencies = ["{OTHER}"]
"""
ENVELOPE = {k: v for k, v in json.loads((EXAMPLES / "TienDoXuLy.json").read_text(encoding="utf-8")).items()
            if k != "NoiDung"}


def code(agency: str = AGENCY) -> str:
    return f"{agency}-241201-{uuid.uuid4().hex[:8]}"


def rest_packet(agency: str, body: dict[str, Any]) -> bytes:
    kind = "HoSo" if "TrangThaiHoSo" in body else "TienDoXuLy"
    packet = {**copy.deepcopy(ENVELOPE), "MaGoiTin": str(uuid.uuid4()), "LoaiGoiTin": kind, "NoiGui": agency,
              "NoiDung": {kind: body}}
    return json.dumps(packet, ensure_ascii=False).encode("utf-8")


class Rest:
    def __init__(self, url: str, who: str | None) -> None:
        self.http = httpx.Client(base_url=url, timeout=15, trust_env=False)
        self.headers = {"content-type": "application/json"} | (
            {"authorization": f"Bearer {KEYS[who]}"} if who else {})

    def send(self, agency: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/v1/packets", content=rest_packet(agency, body), headers=self.headers)

    def validate(self, agency: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/v1/validate", content=rest_packet(agency, body), headers=self.headers)


@pytest.fixture
def world(start_gateway: Callable[..., Gateway], client: ClassicClient, store: Store) -> dict[str, Any]:
    """Agency A's dossier, created by A's REST client and known to the portal; both classic accounts logged in."""
    gateway = start_gateway(extra=REST)
    own = code()
    assert Rest(gateway.url, "rest_a").send(AGENCY, dossier(own)).status_code == 202
    assert Rest(gateway.url, "rest_a").send(AGENCY, step(own, 1, status=4)).status_code == 202
    assert client.sync_dossier(HoSo.model_validate(dossier(own)), updating=False)[0].ok  # on the portal too
    mot_cua, so_nganh = gateway.client(), gateway.client()
    assert mot_cua.login()["error_code"] == 0
    assert so_nganh.login(OTHER_USER, OTHER_PASSWORD)["error_code"] == 0
    return {"gateway": gateway, "own": own, "a": mot_cua, "b": so_nganh, "store": store}


def test_rest_packets_own_other_unknown(world: dict[str, Any]) -> None:
    gateway, own, store = world["gateway"], world["own"], world["store"]
    a, b = Rest(gateway.url, "rest_a"), Rest(gateway.url, "rest_b")
    assert a.send(AGENCY, step(own, 2, status=5)).status_code == 202  # own agency: allowed
    other = b.send(OTHER, step(own, 3, status=8))  # another agency's dossier: refused, nothing about it said
    assert other.status_code == 403 and other.json() == refusal(own)
    assert b.send(OTHER, dossier(own)).json() == refusal(own)  # a HoSo (a "create") too
    fresh = code(OTHER)
    assert b.send(OTHER, dossier(fresh)).status_code == 202  # unknown: the first packet creates it, for B
    assert store.dossier_owner(fresh) == OTHER and store.dossier_owner(own) == AGENCY
    assert a.send(AGENCY, step(fresh, 1)).json() == refusal(fresh)  # and now A is the other agency
    assert a.send(AGENCY, step(own, 4, status=4)).status_code == 202  # A's dossier went on undisturbed
    assert len(store.find_jobs(JobFilter(dossier=own))) == 4  # no packet of B's among them
    assert Rest(gateway.url, None).send(AGENCY, step(own, 5)).status_code == 401  # no key: nothing is read


def test_rest_validate_needs_a_key_and_reads_no_dossier(world: dict[str, Any]) -> None:
    gateway, own = world["gateway"], world["own"]
    assert Rest(gateway.url, None).validate(AGENCY, step(own, 2)).status_code == 401
    for who, agency, dossier_ in (("rest_a", AGENCY, own), ("rest_b", OTHER, own), ("rest_b", OTHER, code())):
        report = Rest(gateway.url, who).validate(agency, step(dossier_, 2, status=8)).json()
        assert report["valid"] and "warnings" not in report  # the store's history is never consulted here


def classic_step_answer(world: dict[str, Any], who: str, service: str, target: str) -> dict[str, Any]:
    one_stop, madonvi = (world["a"], AGENCY) if who == "a" else (world["b"], OTHER)
    if service == "DongBoHoSoMC":
        return one_stop.call(service, madonvi=madonvi, isUpdating="True", data=[dossier(target)])
    return one_stop.call(service, madonvi=madonvi, data=[step(target, 7, status=4)])


@pytest.mark.parametrize("service", ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"])
def test_classic_writes_own_other_unknown(world: dict[str, Any], service: str) -> None:
    own, store = world["own"], world["store"]
    assert classic_step_answer(world, "a", service, own)["error_code"] == 0
    other = classic_step_answer(world, "b", service, own)
    assert other["error_code"] == 8 and "warnings" not in other  # denied; A's status is not mentioned
    assert [(e["index"], e["rule"], e["message_en"]) for e in other["errors"]] == [
        (0, "auth.dossier", refusal(own)["message_en"])]
    fresh = code(OTHER)
    if service == "CapNhatTienDoHoSoMC":  # a step of a dossier neither the gateway nor the portal knows: as the portal
        assert classic_step_answer(world, "b", service, fresh)["error_code"] == 2
        assert store.dossier_owner(fresh) is None
        return
    assert classic_step_answer(world, "b", service, fresh)["error_code"] == 0  # its first packet creates it
    assert store.dossier_owner(fresh) == OTHER
    assert classic_step_answer(world, "a", service, fresh)["errors"][0]["rule"] == "auth.dossier"


@pytest.mark.parametrize("share", [False, True])
def test_classic_look_ups_own_other_unknown(world: dict[str, Any], client: ClassicClient, share: bool) -> None:
    own, store = world["own"], world["store"]
    found = world["a"].call("TraCuuHoSo", share=share, mahoso=own)
    assert int(found["error_code"]) == 0 and [r["MaHoSo"] for r in found["result"]] == [own]  # the portal's words
    other = world["b"].call("TraCuuHoSo", share=share, madonvi=OTHER, mahoso=own)
    unknown = world["b"].call("TraCuuHoSo", share=share, madonvi=OTHER, mahoso=code(OTHER))
    assert other == unknown == {"error_code": 0, "message": "Thành công", "result": []}
    # one code for the check and another for the portal: never relayed
    smuggled = world["b"].call("TraCuuHoSo", share=share, madonvi=OTHER, MaHoSo=code(OTHER), mahoso=own)
    assert smuggled == unknown
    # On the portal but not in the gateway: the portal's answer is checked against the caller's agencies.
    portal_only = code()
    assert client.sync_dossier(HoSo.model_validate(dossier(portal_only)), updating=False)[0].ok
    assert [r["MaHoSo"] for r in world["a"].call("TraCuuHoSo", share=share, mahoso=portal_only)["result"]] == [
        portal_only]
    assert world["b"].call("TraCuuHoSo", share=share, madonvi=OTHER, mahoso=portal_only)["result"] == []

    def audited() -> list[tuple[str, str]]:  # look-ups are audited within half a second, in batches
        return [(row["actor"], row["detail"]["outcome"]) for row in store.audit_log(own) if row["action"] == "lookup"]

    wait_for(lambda: len(audited()) == 2, timeout=10, what="the look-ups' audit rows")
    assert audited() == [("classic:so_nganh", "refused"), ("classic:mot_cua", "relayed")]  # newest first


def test_catalogue_look_ups_need_a_session_only(world: dict[str, Any]) -> None:
    for who, madonvi in (("a", AGENCY), ("b", OTHER)):
        answer = world[who].call("LayThuTuc", share=True, madonvi=madonvi, maTTHC="1.005129")
        assert int(answer["error_code"]) == 0 and answer["result"]
    world["b"].session = "forged.session"
    assert world["b"].call("LayThuTuc", share=True, madonvi=OTHER, maTTHC="1.005129")["error_code"] == -1


def test_a_client_kind_is_refused_at_the_others_door(world: dict[str, Any]) -> None:
    gateway = world["gateway"]
    rest_key_as_session = world["a"].post("/adapter/integration", {"session": KEYS["rest_a"], "madonvi": AGENCY,
                                                                   "service": "TraCuuHoSo", "MaHoSo": world["own"]})
    assert rest_key_as_session["error_code"] == -1
    session_as_key = httpx.post(f"{gateway.url}/v1/packets", content=rest_packet(AGENCY, step(world["own"], 9)),
                                headers={"content-type": "application/json",
                                         "authorization": f"Bearer {world['a'].session}"}, timeout=15)
    assert session_as_key.status_code == 401


def _without_code(answer: dict[str, Any], code_: str) -> str:
    """An answer with the dossier code it names taken out: what is left must not depend on the dossier."""
    return json.dumps(answer, ensure_ascii=False, sort_keys=True).replace(code_, "<MaHoSo>")


def test_rest_another_agencys_dossier_is_answered_as_an_unknown_one(world: dict[str, Any]) -> None:
    """Issue 14: a write to another agency's dossier and to an unknown dossier of that agency's code get the
    same status and body (the code's agency decides, before the store is asked); the audit log keeps the
    real reason."""
    gateway, own, store = world["gateway"], world["own"], world["store"]
    b = Rest(gateway.url, "rest_b")
    for body_of in (lambda c: step(c, 3, status=8), lambda c: step(c, 3, status=4), dossier):
        unknown = code()  # A's agency, never sent
        existing, never = b.send(OTHER, body_of(own)), b.send(OTHER, body_of(unknown))
        assert existing.status_code == never.status_code == 403
        assert _without_code(existing.json(), own) == _without_code(never.json(), unknown)
        assert store.dossier_owner(unknown) is None  # nothing was created for B under A's code
    data = rest_packet(OTHER, step(code(), 3))
    assert b.http.post("/v1/packets", content=data, headers=b.headers).status_code == 403
    audited = [row for row in store.audit_log(hashlib.sha256(data).hexdigest()) if row["action"] == "packet.refused"]
    assert audited and audited[0]["actor"] == "rest_b" and audited[0]["detail"]["reason"] == "dossier.receiving_agency"
    assert Rest(gateway.url, "rest_a").send(AGENCY, step(own, 4, status=5)).status_code == 202  # A goes on


@pytest.mark.parametrize("service", ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"])
def test_classic_another_agencys_dossier_is_answered_as_an_unknown_one(world: dict[str, Any], service: str) -> None:
    own = world["own"]
    unknown = code()  # A's agency code: unknown to the gateway and to the portal
    existing = classic_step_answer(world, "b", service, own)
    never = classic_step_answer(world, "b", service, unknown)
    assert existing["error_code"] == never["error_code"] == 8  # not "2, not found" for the unknown one
    assert _without_code(existing, own) == _without_code(never, unknown)
    creating = world["b"].call("DongBoHoSoMC", madonvi=OTHER, isUpdating="False", data=[dossier(own)])
    creating_unknown = world["b"].call("DongBoHoSoMC", madonvi=OTHER, isUpdating="False", data=[dossier(unknown)])
    assert creating["error_code"] == 8 and _without_code(creating, own) == _without_code(creating_unknown, unknown)
    assert world["store"].dossier_owner(unknown) is None


def test_a_dossier_belongs_to_the_agency_of_its_code(start_gateway: Callable[..., Gateway], store: Store) -> None:
    """A client allowed for every agency (the province's portal) creates a dossier under A's code with
    another NoiGui: it is A's, so A's client sends its steps; B's client cannot claim A's future codes."""
    anyone = "khoa-cong-tinh-" + uuid.uuid4().hex
    gateway = start_gateway(extra=REST + f'\n[clients.province]\nkey_sha256 = "{sha(anyone)}"\n')
    KEYS["province"] = anyone
    try:
        created = code()
        assert Rest(gateway.url, "province").send(OTHER, dossier(created)).status_code == 202
        assert store.dossier_owner(created) == AGENCY
        assert Rest(gateway.url, "rest_a").send(AGENCY, step(created, 1)).status_code == 202
        assert Rest(gateway.url, "rest_b").send(OTHER, step(created, 2)).json() == refusal(created)
        future = code()
        assert Rest(gateway.url, "rest_b").send(OTHER, dossier(future)).json() == refusal(future)
        assert store.dossier_owner(future) is None
        odd = f"HS-{uuid.uuid4().hex[:8]}"  # a code of another shape: first sender wins, as before
        assert Rest(gateway.url, "rest_b").send(OTHER, dossier(odd)).status_code == 202
        assert store.dossier_owner(odd) == OTHER
    finally:
        del KEYS["province"]


def test_the_receiving_agency_check_can_be_turned_off(start_gateway: Callable[..., Gateway], store: Store) -> None:
    gateway = start_gateway(extra=REST + "\n[ownership]\ncheck_receiving_agency = false\n")
    claimed = code()  # A's code, sent first by B: first sender wins
    assert Rest(gateway.url, "rest_b").send(OTHER, dossier(claimed)).status_code == 202
    assert store.dossier_owner(claimed) == OTHER
    assert Rest(gateway.url, "rest_a").send(AGENCY, step(claimed, 1)).json() == refusal(claimed)
