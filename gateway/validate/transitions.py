"""The status transition of a packet about to be stored: the one semantic rule checked inside the
store's accepting transaction.

Validation checks a packet against the store's history as it reads it; the accepting transaction reads
it again with the dossier locked, so two steps of one dossier sent at the same instant are checked one
after the other. This re-check takes the verdict validation gave and the status the transaction found,
and returns the verdict to store — or the refusal the sender is told — without knowing who asked.
"""

from dataclasses import dataclass
from typing import Any

from gateway.config import Config
from gateway.validate.semantic import TRANSITION_RULES, status_path, transition_issues


@dataclass(frozen=True)
class Rechecked:
    """``validation`` as it stands after the transition; ``refusal`` (a full report: valid false, the
    errors, the packet's heading) when the transition is refused, else None."""

    validation: dict[str, Any]
    refusal: dict[str, Any] | None = None
    changed: bool = False  # the warnings differ from validation's: the stored verdict must be the new one


def recheck_transition(config: Config, validation: dict[str, Any], *, packet_id: str, packet_type: str,
                       dossier: str, status: int, previous: int | None) -> Rechecked:
    """A dossier's move from ``previous`` (the store's, in the accepting transaction) to ``status``, on the
    verdict ``validation`` gave (``Report.to_dict``): refused with the report, or let through with a policy's
    warning. A transition warning validation found against an older history gives way to this one."""
    path = status_path(packet_type)
    errors, warnings = transition_issues(config, dossier, status, previous, path)
    before = validation.get("warnings", [])
    found = [w for w in before if not (w["path"] == path and w["rule"] in TRANSITION_RULES)]
    found += [issue.to_dict() for issue in warnings]
    amended = {key: value for key, value in validation.items() if key != "warnings"} | (
        {"warnings": found} if found else {})
    if errors:
        heading = {"MaGoiTin": packet_id, "LoaiGoiTin": packet_type, "MaHoSo": dossier}
        return Rechecked(amended, {**amended, "valid": False, "errors": [issue.to_dict() for issue in errors],
                                   "packet": heading}, True)
    if found == before:
        return Rechecked(validation)
    return Rechecked(amended, changed=True)
