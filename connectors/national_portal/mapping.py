"""The province's mapping tables: local status (and sub-status) → national status 1–10, and
local procedure codes → national MaTTHC.

One TOML file per province (``national_portal.mapping_file``)::

    [[status]]                 # one row per local status, or status + sub-status
    local = "DANG_XU_LY"
    sub = "CHO_BO_SUNG"        # optional: a sub-status refines its status
    national = 5

    [procedures]               # local variant → national code
    "1.003560.000.00.00.H56" = "1.003560"

A row wins; a status without a row passes unchanged when it is already a national code 1–10
(QCVN 120 packets carry national codes), and anything else cannot be sent.
"""

from dataclasses import dataclass, field
import hashlib
from pathlib import Path
import re
import tomllib
from typing import Any
import unicodedata

from gateway.kit import line, text

NATIONAL_PROCEDURE = re.compile(r"^[0-9]\.[0-9]{6}$")
NATIONAL_STATUSES = range(1, 11)


class MappingError(ValueError):
    """A value the mapping cannot translate; the message is for the operator (Vietnamese / English)."""


@dataclass(frozen=True)
class Problem:
    where: str
    message_vi: str
    message_en: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.where}: {self.message_vi} / {self.message_en}"


def _key(value: object) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


@dataclass(frozen=True)
class Mapping:
    statuses: dict[tuple[str, str | None], int] = field(default_factory=dict)
    procedures: dict[str, str] = field(default_factory=dict)
    source: str = line("national_portal.no_mapping")  # which file, which version (its SHA-256)

    def national_status(self, local: object, sub: object | None = None) -> int:
        local_key = _key(local)
        sub_key = _key(sub) if sub not in (None, "") else None
        national = self.statuses.get((local_key, sub_key)) or self.statuses.get((local_key, None))
        if national is not None:
            return national
        if local_key.isdigit() and int(local_key) in NATIONAL_STATUSES:
            return int(local_key)
        where = f"{local_key}/{sub_key}" if sub_key else local_key
        raise MappingError(line("national_portal.unmapped_status", status=repr(where)))

    def national_procedure(self, code: str) -> str:
        """Mapped code, else the code itself when it is already national; a local variant must be mapped."""
        mapped = self.procedures.get(_key(code))
        if mapped is not None:
            return mapped
        if NATIONAL_PROCEDURE.match(code):
            return code
        raise MappingError(line("national_portal.unmapped_procedure", code=repr(code)))


def check(raw: dict[str, Any]) -> list[Problem]:
    """Every problem in a mapping document, so an operator can fix them all at once."""
    problems: list[Problem] = []
    unknown = set(raw) - {"status", "procedures"}
    for name in sorted(unknown):
        problems.append(Problem(name, *text("national_portal.mapping.table")))
    rows = raw.get("status", [])
    if not isinstance(rows, list):
        return problems + [Problem("status", *text("national_portal.mapping.status_rows"))]
    seen: dict[tuple[str, str | None], int] = {}
    covered: set[int] = set()
    for number, row in enumerate(rows, 1):
        where = f"status[{number}]"
        if not isinstance(row, dict):
            problems.append(Problem(where, *text("national_portal.mapping.row")))
            continue
        extra = set(row) - {"local", "sub", "national", "note"}
        if extra:
            problems.append(Problem(where, *text("national_portal.mapping.keys", keys=", ".join(sorted(extra)))))
        local, sub, national = row.get("local"), row.get("sub"), row.get("national")
        if local is None or _key(local) == "":
            problems.append(Problem(where, *text("national_portal.mapping.no_local")))
            continue
        if not isinstance(national, int) or isinstance(national, bool) or national not in NATIONAL_STATUSES:
            problems.append(Problem(where, *text("national_portal.mapping.national", value=repr(national))))
            continue
        key = (_key(local), _key(sub) if sub not in (None, "") else None)
        if key in seen:
            label = "/".join(k for k in key if k)
            problems.append(Problem(where, *text("national_portal.mapping.duplicate", row=seen[key], label=label)))
            continue
        seen[key] = number
        covered.add(national)
    for local, sub in seen:
        if sub is not None and (local, None) not in seen:
            problems.append(Problem(f"status {local}/{sub}", *text("national_portal.mapping.sub_only", status=repr(local)),
                                    "warning"))
    if rows:
        missing = [str(code) for code in NATIONAL_STATUSES if code not in covered]
        if missing:
            problems.append(Problem("status", *text("national_portal.mapping.uncovered", codes=", ".join(missing)),
                                    "warning"))
    procedures = raw.get("procedures", {})
    if not isinstance(procedures, dict):
        return problems + [Problem("procedures", *text("national_portal.mapping.procedures"))]
    for local, national in procedures.items():
        where = f"procedures.{local}"
        if not isinstance(national, str) or not NATIONAL_PROCEDURE.match(national):
            problems.append(Problem(where, *text("national_portal.mapping.procedure", value=repr(national))))
    return problems


def load(path: str | Path | None) -> Mapping:
    """The mapping at ``path`` (empty: none), refusing a file with any error."""
    if not path:
        return Mapping()
    raw, digest = _read(path)
    errors = [p for p in check(raw) if p.severity == "error"]
    if errors:
        raise MappingError("; ".join(str(p) for p in errors))
    statuses = {(_key(row["local"]), _key(row["sub"]) if row.get("sub") not in (None, "") else None): row["national"]
                for row in raw.get("status", [])}
    procedures = {_key(local): national for local, national in raw.get("procedures", {}).items()}
    return Mapping(statuses, procedures, f"{Path(path).name} sha256:{digest[:16]}")


def read(path: str | Path) -> dict[str, Any]:
    return _read(path)[0]


def _read(path: str | Path) -> tuple[dict[str, Any], str]:
    """The table and the SHA-256 of the very bytes it was read from."""
    try:
        data = Path(path).read_bytes()
        return tomllib.loads(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{line('national_portal.mapping_unreadable', path=path)}: {exc}") from None
