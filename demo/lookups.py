"""Citizen look-ups through the gateway (``POST /v1/citizens/lookup``) to the simulated population database, a
real SOAP process: a person found, one not found, one refused for lack of a purpose (it never reaches the
database), one met by the database's fault (503 with Retry-After) and tried again. Each call is kept with what
it got, and the check compares them with what the database says it answered."""

from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.kit.harness import AdminClient
from gateway.pii import mask, mask_identifier

OFFICER, SERVICE = "001085000123", "1.004227"  # the one-stop officer asking and the public service served


@dataclass(frozen=True)
class Call:
    case: str  # "found" | "not_found" | "no_purpose" | "fault" | "after_fault"
    who: str  # masked: the identifier and name as asked
    status: int
    body: dict[str, Any]
    retry_after: str | None


@dataclass
class LookupCheck:
    calls: list[Call] = field(default_factory=list)
    database_calls: int = 0  # SOAP calls the database saw (its /_admin/stats)
    database_answered: dict[str, int] = field(default_factory=dict)

    def of(self, case: str) -> Call | None:
        return next((c for c in self.calls if c.case == case), None)

    @property
    def expected(self) -> dict[str, bool]:
        """What each call should have got."""
        found, missing, refused = self.of("found"), self.of("not_found"), self.of("no_purpose")
        fault, after = self.of("fault"), self.of("after_fault")
        return {
            "found": found is not None and found.status == 200 and found.body.get("found") is True
            and bool(found.body.get("citizen")),
            "not_found": missing is not None and missing.status == 200 and missing.body.get("found") is False
            and missing.body.get("citizen") is None,
            "no_purpose": refused is not None and refused.status == 403 and refused.body.get("error") == "lookup.purpose"
            and bool(refused.body.get("message_vi")) and bool(refused.body.get("message_en")),
            "fault": fault is not None and fault.status == 503 and fault.body.get("error") == "population.unavailable"
            and bool(fault.retry_after),
            "after_fault": after is not None and after.status == 200 and after.body.get("found") is True,
            # everything but the refused call reached the database, and nothing else did
            "database_calls": self.database_calls == 4,
        }

    @property
    def ok(self) -> bool:
        return all(self.expected.values())


def _query(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    name = person["HoVaTen"]
    return {"SoDinhDanh": person["SoDinhDanh"], "HoVaTen": " ".join((name["Ho"], name["ChuDem"], name["Ten"])),
            "NgayThangNamSinh": person["NgayThangNamSinh"]["NgayThangNam"], **changes}


def look_up(gateway: httpx.Client, database: AdminClient, dossier: str) -> LookupCheck:
    """The day's look-ups, by an officer serving ``dossier`` (accepted by the gateway already)."""
    people: list[dict[str, Any]] = database.http.get("/_admin/citizens", params={"count": 3}).json()
    purpose = {"MaCanBo": OFFICER, "MaDVC": SERVICE, "MaHoSo": dossier}
    result = LookupCheck()

    def call(case: str, body: dict[str, Any]) -> None:
        answer = gateway.post("/v1/citizens/lookup", json=body)
        try:
            got = answer.json()
        except ValueError:
            got = {"message_en": answer.text[:300]}
        result.calls.append(Call(case, f"{mask_identifier(body['SoDinhDanh'])} {mask(body['HoVaTen'])}",
                                 answer.status_code, got if isinstance(got, dict) else {},
                                 answer.headers.get("retry-after")))

    call("found", _query(people[0], **purpose))
    call("not_found", _query(people[1], **purpose, HoVaTen="Người Không Có Thật"))
    call("no_purpose", _query(people[2], MaHoSo=dossier))  # no officer, no service: refused before the database
    database.faults(soap_fault="soap:Server", times=1)  # the database's own trouble, once
    call("fault", _query(people[2], **purpose))
    call("after_fault", _query(people[2], **purpose))
    stats = database.stats()
    result.database_calls, result.database_answered = int(stats.get("calls", 0)), dict(stats.get("answered", {}))
    return result
