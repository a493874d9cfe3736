"""Dossier ownership: a dossier belongs to the agency of its first packet (recorded by the store when it
accepts it). A client may send a dossier's later steps, or read it, only when it is allowed for that agency
— or for an agency the owner hands its dossiers over to, an explicit relation in ``[ownership] handover``.

``Ownership.may_read`` is the one check every read of a dossier calls (look-ups, the operators' console):
an unknown dossier and another agency's get the same "no", so a refusal never tells whether it exists.
"""

from dataclasses import dataclass
import re
from typing import Any

from gateway.config import Config, ConfigError
from gateway import messages
from gateway.store.api import NewPacket, NotAdmitted, Store

Agencies = frozenset[str] | None  # a client's agencies; None: any agency (the province's own portal)


# The usual dossier code: ``<agency code>-<yyMMdd or yyyyMMdd>-<sequence>`` (000.00.01.H22-241201-0001).
_CODE = re.compile(r"(?P<agency>[^\s-]+)-(?:\d{6}|\d{8})-\S+")


def receiving_agency(dossier: str) -> str | None:
    """The agency part of a dossier code of the usual shape; None for other shapes."""
    match = _CODE.fullmatch(dossier)
    return match.group("agency") if match else None


@dataclass(frozen=True)
class Ownership:
    handover: dict[str, frozenset[str]]  # owner agency → the agencies that may also act on its dossiers
    check_receiving_agency: bool = True  # the code's agency part decides (``[ownership] check_receiving_agency``)

    @classmethod
    def from_config(cls, config: Config) -> "Ownership":
        section = config.section("ownership")
        raw = section.get("handover", {})
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            raise ConfigError('ownership.handover: a table of agency = ["agency", …]')
        check = section.get("check_receiving_agency", True)
        if not isinstance(check, bool):
            raise ConfigError("ownership.check_receiving_agency: true or false")
        return cls({str(owner): frozenset(str(a) for a in to) for owner, to in raw.items()}, check)

    def owner_of_new(self, dossier: str, sender_agency: str | None) -> str | None:
        """Whom a dossier belongs to when a packet creates it: the agency of its code (when checked and
        of the usual shape), else the first packet's NoiGui."""
        agency = receiving_agency(dossier) if self.check_receiving_agency else None
        return agency or sender_agency

    def may_claim(self, agencies: Agencies, dossier: str) -> bool:
        """Whether a client allowed for ``agencies`` may send packets of ``dossier`` at all, judged from its
        code alone (never from the store): False when the code names an agency the client may not act for.
        The same for a dossier that exists and one that does not, so the refusal tells nothing."""
        agency = receiving_agency(dossier) if self.check_receiving_agency else None
        return agency is None or self.may_act(agencies, agency)

    def may_act(self, agencies: Agencies, owner: str) -> bool:
        """Whether a client allowed for ``agencies`` may act on (send steps of, read) a dossier of ``owner``."""
        return agencies is None or owner in agencies or not agencies.isdisjoint(self.handover.get(owner, ()))

    def may_read(self, store: Store, agencies: Agencies, dossier: str) -> bool:
        """Whether a client allowed for ``agencies`` may read ``dossier``: False for another agency's dossier
        and for one the store does not know alike."""
        owner = store.dossier_owner(dossier)
        return owner is not None and self.may_act(agencies, owner)

    def guard(self, packet: NewPacket, owner: str) -> NotAdmitted | None:
        """The store's ``Guard``: a packet of another agency's dossier is refused with words that do not
        say whether the dossier exists or where it stands."""
        if self.may_act(packet.acts_for, owner):
            return None
        return NotAdmitted(refusal(packet.dossier or ""), reason="dossier.owner")


def refusal(dossier: str) -> dict[str, Any]:
    return messages.refusal("auth.dossier", dossier=dossier)


@dataclass(frozen=True)
class GuardedHistory:
    """Validation's status history as one client may see it: another agency's dossier has none, so no
    report tells the client where that dossier stands (the accepting transaction then refuses it)."""

    store: Store
    ownership: Ownership
    agencies: Agencies

    def previous_status(self, dossier: str) -> int | None:
        if self.agencies is not None and not self.ownership.may_read(self.store, self.agencies, dossier):
            return None
        return self.store.previous_status(dossier)
