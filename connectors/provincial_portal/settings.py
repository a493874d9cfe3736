"""The provincial portal connector's settings: its defaults fragment under [provincial_portal]."""

from dataclasses import dataclass

from gateway.kit import Config



@dataclass(frozen=True)
class PortalSettings:
    sign: bool
    signature_header: str
    transient_statuses: frozenset[int]

    @classmethod
    def from_config(cls, config: Config) -> "PortalSettings":
        table = config.section("provincial_portal")  # the fragment merged under the deployment by Config.load
        return cls(bool(table["sign"]), str(table["signature_header"]),
                   frozenset(int(s) for s in table["transient_statuses"]))
