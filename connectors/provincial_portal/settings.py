"""The provincial portal connector's settings: its defaults fragment under [provincial_portal]."""

from dataclasses import dataclass
from pathlib import Path
import tomllib

from gateway.kit import Config

DEFAULTS = Path(__file__).with_name("defaults.toml")


@dataclass(frozen=True)
class PortalSettings:
    sign: bool
    signature_header: str
    transient_statuses: frozenset[int]

    @classmethod
    def from_config(cls, config: Config) -> "PortalSettings":
        table = {**tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))["provincial_portal"],
                 **config.section("provincial_portal")}
        return cls(bool(table["sign"]), str(table["signature_header"]),
                   frozenset(int(s) for s in table["transient_statuses"]))
