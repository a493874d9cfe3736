"""The national portal as a destination of the delivery engine.

Per dossier the portal must see the dossier before its progress steps, and the steps in
order. So: a HoSo is synced with ``isUpdating`` from the ledger (falling back to a
``TraCuuHoSo`` look-up), resent as an update when the portal says it already exists; a
run of TienDoXuLy of one dossier goes out in one call of at most ``batch_size`` steps, and
only once the dossier is known to be there — otherwise it is transient, so the engine
retries later and keeps the order. The first packet not delivered ends the batch.
"""

from collections.abc import Sequence

from connectors.national_portal import CARRIES, mapping
from connectors.national_portal.answers import Answer, AnswerKind
from connectors.national_portal.client import ClassicClient, PortalClient
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.mapping import MappingError
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.token_client import TokenClient
from connectors.national_portal.transform import Transformer
from gateway.kit import Config, ConfigError, Delivery, DestinationPolicy, HoSo, Outcome, OutcomeKind, TienDoXuLy, line

NOT_SYNCED = line("national_portal.not_synced")
NOT_SENT = line("national_portal.not_sent")


def outcome_of(answer: Answer, warnings: tuple[str, ...] = ()) -> Outcome:
    kind = {AnswerKind.OK: OutcomeKind.DELIVERED, AnswerKind.PERMANENT: OutcomeKind.PERMANENT,
            AnswerKind.ALREADY_EXISTS: OutcomeKind.PERMANENT}.get(answer.kind, OutcomeKind.TRANSIENT)
    message = answer.message
    if kind is OutcomeKind.PERMANENT:
        message = f"{line('national_portal.refused')}: {answer.message or answer.peer_status}"
    return Outcome(kind, message, retry_after=answer.retry_after, peer_status=answer.peer_status, warnings=warnings,
                   dossier_only=kind is OutcomeKind.PERMANENT)  # a refusal of this item, not of the portal


class NationalPortalConnector:
    name = "national_portal"
    carries = CARRIES  # packet types it delivers; routes send it nothing else (checked at start-up)

    def __init__(self, client: PortalClient, ledger: SyncLedger, batch_size: int = 10,
                 hold_seconds: float = 86400.0) -> None:
        self.client = client
        self.ledger = ledger
        self.max_batch = batch_size
        self.hold_seconds = hold_seconds  # how long a step waits for its dossier to reach the portal
        # The mapping table each attempt runs (a worker reads it at start: restart it after a correction).
        self.transform: str | None = f"{line('national_portal.mapping')}: {client.transformer.mapping.source}"

    @classmethod
    def from_config(cls, config: Config, ledger: SyncLedger | None = None,
                    environ: dict[str, str] | None = None) -> "NationalPortalConnector":
        settings = PortalSettings.from_config(config, environ)
        transformer = Transformer(mapping.load(settings.mapping_file), settings.field_limits, settings.scalars)
        client_type = ClassicClient if settings.protocol == "classic" else TokenClient
        return cls(client_type(settings, transformer), ledger or SyncLedger(settings.ledger_url), settings.batch_size,
                   settings.hold_seconds)

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while len(outcomes) < len(batch):
            start = len(outcomes)
            body = batch[start].packet.body
            if isinstance(body, HoSo):
                outcomes.append(self._dossier(body))
            elif isinstance(body, TienDoXuLy):
                steps = [body]
                for delivery in batch[start + 1:start + self.max_batch]:
                    step = delivery.packet.body
                    if not isinstance(step, TienDoXuLy) or step.MaHoSo != body.MaHoSo:
                        break
                    steps.append(step)
                outcomes.extend(self._progress(steps))
            else:
                outcomes.append(Outcome(OutcomeKind.PERMANENT,
                                        line("national_portal.not_carried", packet_type=type(body).__name__)))
            if outcomes[-1].kind is not OutcomeKind.DELIVERED:
                outcomes.extend(Outcome(OutcomeKind.TRANSIENT, NOT_SENT) for _ in batch[len(outcomes):])
        return outcomes

    def _known_on_portal(self, code: str) -> Answer | None:
        """None when the dossier is on the portal (per the ledger, or a look-up that confirms it);
        otherwise the answer that says why not — ``OK`` with an empty result when it simply is not there."""
        if self.ledger.is_synced(code):
            return None
        if not self.client.supports_lookup:
            return Answer(AnswerKind.OK)
        found = self.client.find_dossier(code)
        if found.ok and found.result:
            self.ledger.mark_synced(code)
            return None
        return found

    def _dossier(self, hoso: HoSo) -> Outcome:
        try:
            missing = self._known_on_portal(hoso.MaHoSo)
            if missing is not None and not missing.ok:
                return outcome_of(missing)
            updating = missing is None
            portal_id = self.ledger.portal_id(hoso.MaHoSo) if updating else None
            answer, warnings = self.client.sync_dossier(hoso, updating=updating, portal_id=portal_id)
            if answer.kind is AnswerKind.ALREADY_EXISTS and not updating:
                answer, warnings = self.client.sync_dossier(hoso, updating=True)
        except MappingError as exc:
            return Outcome(OutcomeKind.PERMANENT, str(exc))
        if answer.ok:
            new_id = answer.data.get("IdHoSo") if isinstance(answer.data, dict) else None
            self.ledger.mark_synced(hoso.MaHoSo, str(new_id) if new_id is not None else None)
        return outcome_of(answer, warnings)

    def _progress(self, steps: list[TienDoXuLy]) -> list[Outcome]:
        code = steps[0].MaHoSo
        try:
            missing = self._known_on_portal(code)
            if missing is not None:
                outcome = outcome_of(missing) if not missing.ok else Outcome(
                    OutcomeKind.TRANSIENT, NOT_SYNCED, dossier_only=True, max_age_seconds=self.hold_seconds)
                return [outcome] * len(steps)
            answer, warnings = self.client.push_progress(steps, self.ledger.portal_id(code))
        except MappingError as exc:  # statuses in packets are national codes, so a row must have broken it
            return [Outcome(OutcomeKind.PERMANENT, str(exc))] * len(steps)
        return [outcome_of(answer, step_warnings) for step_warnings in warnings]

    def close(self) -> None:
        self.client.close()
        self.ledger.close()


def create(policy: DestinationPolicy, config: Config | None = None) -> NationalPortalConnector:
    """The delivery engine's factory (``connector = "connectors.national_portal.connector:create"``):
    the ``[national_portal]`` section of ``config`` (the one the worker loaded; else defaults and
    $GATEWAY_CONFIG), any of whose keys the destination's own table may override."""
    config = config or Config.load()
    options = dict(policy.options)
    section = dict(config.section("national_portal"))
    if "transient_error_codes" in options:  # the engine's generic name for the same setting
        section["answers"] = {**section.get("answers", {}), "transient": options.pop("transient_error_codes")}
    section.update(options)
    if policy.url:
        section["adapter_url"] = policy.url
    if not section.get("adapter_url"):  # the product's defaults name no portal: a deployment gives its address
        raise ConfigError(line("national_portal.no_adapter_url"))
    section["batch_size"] = policy.max_batch
    section["read_timeout"] = policy.timeout_seconds
    return NationalPortalConnector.from_config(Config({**config.raw, "national_portal": section}, config.source))
