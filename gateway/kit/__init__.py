"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the intake's answers (what its inbound side maps to its peer's protocol),
the bounded HTTP client, personal-data masking, and the ``ConnectorSpec`` it registers itself with. Everything else in ``gateway`` is private to it.
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.spec import ConnectorSpec, secret
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
from gateway.receive.outcomes import Accepted, IntakeOutcome, Refusal, Refused, TryLater

__all__ = ["Accepted", "Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery", "DestinationPolicy",
           "HttpClient", "HttpError", "HttpTimeout", "IntakeOutcome", "Outcome", "OutcomeKind", "Refusal", "Refused",
           "Reply", "TryLater", "mask", "mask_digits_in", "mask_identifier", "scrub", "secret"]
