"""Routing rules from the ``[routes]`` configuration section.

Every rule that matches adds its destinations (fan-out: one job per destination, each
with its own fate). A rule matches when the packet type is one of ``types`` (or ``types``
is absent) and every ``where`` condition holds on the body:

- ``Field = [v1, v2]``: the field's value is one of these (compared as text, so 9 and "9" agree);
- ``Field = true`` / ``false``: the field is present and not empty / absent or empty;
- ``"A|B" = [...]``: the first of A, B present in the body is the one tested (HoSo says
  ``TrangThaiHoSo`` where TienDoXuLy says ``TrangThai``);
- dotted names reach into records: ``NguoiPhanAnh.SoDienThoai = true``.
"""

from dataclasses import dataclass
from typing import Any, Literal

from gateway.config import Config, ConfigError
from gateway.packets.envelope import BODY_TYPES, GoiTin

Condition = list[str] | bool


class Unrouted(Exception):
    """No rule matched and the policy is to refuse such packets."""


def _lookup(body: dict[str, Any], names: str) -> Any:
    for name in names.split("|"):
        value: Any = body
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _holds(value: Any, condition: Condition) -> bool:
    present = value not in (None, "", [], {})
    if isinstance(condition, bool):
        return present is condition
    return present and not isinstance(value, (list, dict)) and str(value) in condition


@dataclass(frozen=True)
class RouteRule:
    name: str
    to: tuple[str, ...]
    types: frozenset[str] | None = None
    where: tuple[tuple[str, Condition], ...] = ()

    def matches(self, packet_type: str, body: dict[str, Any]) -> bool:
        if self.types is not None and packet_type not in self.types:
            return False
        return all(_holds(_lookup(body, names), condition) for names, condition in self.where)

    @classmethod
    def parse(cls, index: int, raw: dict[str, Any]) -> "RouteRule":
        where_ = f"routes.rules[{index}]"
        name = str(raw.get("name", f"rule-{index + 1}"))
        to = raw.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(d, str) and d for d in to):
            raise ConfigError(f"{where_} ({name}): 'to' must be a non-empty list of destination names")
        types = raw.get("types")
        if types is not None:
            unknown = set(types) - set(BODY_TYPES)
            if not isinstance(types, list) or unknown:
                raise ConfigError(f"{where_} ({name}): unknown packet types {sorted(unknown)}")
        conditions: list[tuple[str, Condition]] = []
        for field, condition in dict(raw.get("where", {})).items():
            if isinstance(condition, bool):
                conditions.append((field, condition))
            elif isinstance(condition, list) and condition:
                conditions.append((field, [str(value) for value in condition]))
            else:
                raise ConfigError(f"{where_} ({name}): where.{field} must be a list of values, true or false")
        return cls(name, tuple(to), frozenset(types) if types is not None else None, tuple(conditions))


@dataclass(frozen=True)
class Router:
    rules: tuple[RouteRule, ...]
    unrouted: Literal["reject", "keep"] = "reject"

    @classmethod
    def from_config(cls, config: Config) -> "Router":
        section = config.section("routes")
        policy = section.get("unrouted", "reject")
        if policy not in ("reject", "keep"):
            raise ConfigError('routes.unrouted must be "reject" or "keep"')
        return cls(tuple(RouteRule.parse(i, raw) for i, raw in enumerate(section.get("rules", []))), policy)

    def route(self, packet: GoiTin) -> list[str]:
        """The destinations, in rule order, each once. Raises Unrouted when none matched
        and the policy refuses (a packet stored for nobody would be silently lost)."""
        body = packet.body.model_dump(mode="json", exclude_none=True)
        destinations: dict[str, None] = {}
        for rule in self.rules:
            if rule.matches(packet.LoaiGoiTin, body):
                destinations.update(dict.fromkeys(rule.to))
        if not destinations and self.unrouted == "reject":
            raise Unrouted(packet.LoaiGoiTin)
        return list(destinations)
