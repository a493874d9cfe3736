"""Configuration: embedded defaults (``defaults.toml``) overlaid by a deployment's TOML file."""

from dataclasses import dataclass, field
from functools import cached_property
import os
from pathlib import Path
import tomllib
from typing import Any
from zoneinfo import ZoneInfo

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")


# Tables a deployment replaces whole instead of merging: a province must be able to
# narrow a code list (or a status's required fields), not only add to it.
_REPLACED = {("code_lists", "*"), ("status", "required_fields"), ("status", "transitions")}


def _merge(base: dict[str, Any], override: dict[str, Any], at: tuple[str, ...] = ()) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        here = (*at, key)
        replaced = here in _REPLACED or (*at, "*") in _REPLACED
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not replaced:
            merged[key] = _merge(merged[key], value, here)
        else:
            merged[key] = value
    return merged


def _merge_fragment(raw: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    """A connector's fragment merged under the embedded defaults; its ``[[routes.rules]]`` are added to the
    product's (a connector brings the routes to it), while a deployment's own rules still replace them all."""
    rules = fragment.get("routes", {}).get("rules", [])
    if not rules:
        return _merge(raw, fragment)
    routes = {key: value for key, value in fragment["routes"].items() if key != "rules"}
    merged = _merge(raw, {**fragment, "routes": routes})
    merged["routes"] = {**merged.get("routes", {}), "rules": [*merged.get("routes", {}).get("rules", []), *rules]}
    return merged


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Config:
    raw: dict[str, Any] = field(repr=False)
    source: str = "defaults"

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "Config":
        """Defaults, then the file at ``path`` or ``$GATEWAY_CONFIG`` if given."""
        from gateway import registry  # it imports this module

        raw = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
        path = path or os.environ.get("GATEWAY_CONFIG")
        deployment: dict[str, Any] = {}
        if path:
            try:
                deployment = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
        # Each registered connector's fragment sits between the embedded defaults and the deployment's file.
        declared = {"connectors": _merge(raw.get("connectors", {}), deployment.get("connectors", {}))}
        for fragment in registry.fragments(declared):
            raw = _merge_fragment(raw, fragment)
        config = cls(_merge(raw, deployment), str(path or "defaults"))
        config.check()
        return config

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}

    def check(self) -> None:
        """Fails early, with the offending key named, on values the gateway cannot use."""
        for policy in ("transition_policy", "after_terminal_policy"):
            if self.section("status").get(policy) not in ("warn", "reject"):
                raise ConfigError(f"status.{policy} must be \"warn\" or \"reject\"")
        for name, values in self.section("code_lists").items():
            if not isinstance(values, dict) or not all(k.isdigit() for k in values):
                raise ConfigError(f"code_lists.{name} must map numeric codes to labels")
        self.zone  # noqa: B018 - raises on an unknown zone
        from gateway import registry

        registry.check_routes(self)

    @cached_property
    def max_bytes(self) -> int:
        return int(self.section("limits").get("max_bytes", 4_194_304))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.section("time").get("zone", "Asia/Ho_Chi_Minh"))

    @cached_property
    def future_tolerance_minutes(self) -> int:
        return int(self.section("time").get("future_tolerance_minutes", 10))

    @cached_property
    def code_lists(self) -> dict[str, dict[int, str]]:
        return {name: {int(k): str(v) for k, v in values.items()}
                for name, values in self.section("code_lists").items()}

    @cached_property
    def identifier_digits(self) -> dict[int, int]:
        return {int(k): int(v) for k, v in self.section("identifiers").get("digits", {}).items()}

    @cached_property
    def status_names(self) -> dict[int, str]:
        return {int(k): str(v) for k, v in self.section("status").get("names", {}).items()}

    @cached_property
    def transitions(self) -> dict[int, frozenset[int]]:
        return {int(k): frozenset(v) for k, v in self.section("status").get("transitions", {}).items()}

    @cached_property
    def terminal_statuses(self) -> frozenset[int]:
        return frozenset(self.section("status").get("terminal", ()))

    @cached_property
    def required_by_status(self) -> dict[int, tuple[str, ...]]:
        return {int(k): tuple(v) for k, v in self.section("status").get("required_fields", {}).items()}

    @property
    def transition_policy(self) -> str:
        return str(self.section("status")["transition_policy"])

    @property
    def after_terminal_policy(self) -> str:
        return str(self.section("status")["after_terminal_policy"])
