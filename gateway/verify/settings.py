"""What the intake asks of a sender's signatures: read once from configuration, checked at start-up.

``[signing.intake]`` gives the defaults (``signatures`` = required | optional | off, ``purpose``);
a client table may override both (``[clients.X] signatures``, ``signature_purpose``). Each purpose
says which parts of a packet a signature may cover (``[signing.purposes.X] cover``): "packet"
(the whole GoiTin) and/or "body" (only NoiDung; the envelope is then not signed).
"""

from dataclasses import dataclass
from typing import Literal, cast

from gateway.config import Config, ConfigError

Mode = Literal["required", "optional", "off"]
Cover = Literal["packet", "body"]
MODES: tuple[Mode, ...] = ("required", "optional", "off")
COVERS: tuple[Cover, ...] = ("packet", "body")


@dataclass(frozen=True)
class Rule:
    """For one sender: whether signatures are required, checked or ignored, and against which trust."""

    mode: Mode
    purpose: str
    covers: frozenset[Cover]


@dataclass(frozen=True)
class IntakeSettings:
    default: Rule
    by_client: dict[str, Rule]
    retry_after_seconds: int

    def rule(self, client: str) -> Rule:
        return self.by_client.get(client, self.default)

    @property
    def purposes(self) -> frozenset[str]:
        """Purposes in use: only their trust is loaded."""
        rules = [self.default, *self.by_client.values()]
        return frozenset(rule.purpose for rule in rules if rule.mode != "off")

    @classmethod
    def from_config(cls, config: Config) -> "IntakeSettings":
        signing = config.section("signing")
        intake = signing.get("intake", {})
        purposes = signing.get("purposes", {})
        if not isinstance(intake, dict) or not isinstance(purposes, dict):
            raise ConfigError("signing.intake and signing.purposes must be tables")

        def covers(purpose: str, where: str) -> frozenset[Cover]:
            if purpose not in purposes:
                raise ConfigError(f"{where}: unknown signing purpose {purpose!r}; "
                                  f"configured: {', '.join(sorted(purposes))}")
            value = purposes[purpose].get("cover", list(COVERS))
            if not isinstance(value, list) or not value or set(value) - set(COVERS):
                raise ConfigError(f"signing.purposes.{purpose}.cover must be a non-empty list of {COVERS}")
            return frozenset(cast(list[Cover], value))

        def rule(table: dict[str, object], base: Rule | None, where: str, mode_key: str,
                 purpose_key: str) -> Rule:
            mode = table.get(mode_key, base.mode if base else "optional")
            if mode not in MODES:
                raise ConfigError(f"{where}.{mode_key} must be one of {MODES}")
            purpose = str(table.get(purpose_key, base.purpose if base else "partner"))
            return Rule(mode, purpose, covers(purpose, f"{where}.{purpose_key}"))

        default = rule(intake, None, "signing.intake", "signatures", "purpose")
        by_client = {name: rule(table, default, f"clients.{name}", "signatures", "signature_purpose")
                     for name, table in config.section("clients").items() if isinstance(table, dict)
                     and ("signatures" in table or "signature_purpose" in table)}
        retry = intake.get("retry_after_seconds", 30)
        if not isinstance(retry, int) or retry < 1:
            raise ConfigError("signing.intake.retry_after_seconds must be a positive whole number")
        return cls(default, by_client, retry)
