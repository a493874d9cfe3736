"""Who may look up which dossier (``TraCuuHoSo``), decided before anything is relayed to the portal and
audited: a dossier the gateway holds goes by its owner (``Ownership.may_read``); one it does not hold is
relayed, and the portal's answer keeps only records of the caller's agencies — named by the record
(``MaDonViTiepNhan``, ``MaDonVi``) or by its code (``agency-date-sequence``). Another agency's dossier and
an unknown one get the same answer, the gateway's own ``NOTHING`` (whatever words the portal uses)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.national_portal.classic.settings import InboundClient
from gateway.kit.inbound import AuditBatcher, Ownership
from gateway.kit import Store, text

DOSSIER_LOOKUPS = ("TraCuuHoSo",)
NOTHING = {"error_code": 0, "message": text("national_portal.success")[0], "result": []}  # no dossier the caller may read
_AGENCY_FIELDS = ("MaDonViTiepNhan", "MaDonVi")


def looked_up_dossier(body: dict[str, Any]) -> str | None:
    """The dossier code a look-up asks for, under any spelling of its key (``MaHoSo``, ``mahoso``); None
    when there is none, or more than one (a body must not name one dossier to the check and another to
    the portal)."""
    codes = [value for key, value in body.items() if key.lower() == "mahoso"]
    if len(codes) != 1 or not isinstance(codes[0], str) or not codes[0].strip():
        return None
    return codes[0].strip()


def relayed_look_up(body: dict[str, Any], dossier: str) -> dict[str, Any]:
    """The look-up as relayed: exactly the checked code, under the key the portal reads."""
    return {**{k: v for k, v in body.items() if k.lower() != "mahoso"}, "mahoso": dossier}


@dataclass(frozen=True)
class DossierReads:
    ownership: Ownership
    store_of: Callable[[], Store]  # opened on first use
    trail: AuditBatcher

    def held(self, client: InboundClient, dossier: str) -> bool | None:
        """True: the gateway holds the dossier and the client may read it; False: it may not, or the gateway
        holds it for another agency; None: the gateway does not hold it (the portal's answer decides)."""
        owner = self.store_of().dossier_owner(dossier)
        return None if owner is None else self.ownership.may_act(client.madonvi, owner)

    def readable_records(self, client: InboundClient, answer: dict[str, Any], dossier: str,
                         held: bool) -> dict[str, Any]:
        """The portal's answer with only records of ``dossier`` the client may read (all of them when the
        gateway holds it for the client: ``held``; else by the record's agency); ``NOTHING`` when none is left."""
        result = answer.get("result")
        if not isinstance(result, list):
            # an error carries no records; a success without a list is no record the caller may read
            return NOTHING if str(answer.get("error_code", 0)) in ("0", "00") else answer
        readable = [record for record in result if isinstance(record, dict) and record.get("MaHoSo") == dossier
                    and (held or self._readable(client, record))]
        return {**answer, "result": readable} if readable else NOTHING

    def _readable(self, client: InboundClient, record: Any) -> bool:
        if not isinstance(record, dict):
            return False
        agencies = {str(record[name]) for name in _AGENCY_FIELDS if record.get(name)}
        if not agencies and isinstance(record.get("MaHoSo"), str):
            agencies = {record["MaHoSo"].partition("-")[0]}
        return any(self.ownership.may_act(client.madonvi, agency) for agency in agencies)

    def audit(self, client: InboundClient, service: str, dossier: str | None, outcome: str) -> None:
        """Who looked up what, and what they were given (written within ``trail``'s interval)."""
        self.trail.add(f"classic:{client.name}", "lookup", dossier or "", {"service": service, "outcome": outcome})
