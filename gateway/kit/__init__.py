"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the bounded HTTP client, personal-data masking, its own tables
in the store, and the ``ConnectorSpec`` it registers itself with. Everything else in ``gateway`` is private to it.
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.records import store_engine, store_table, store_url
from gateway.kit.spec import ConnectorSpec, secret
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub

__all__ = ["Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery", "DestinationPolicy", "HttpClient",
           "HttpError", "HttpTimeout", "Outcome", "OutcomeKind", "Reply", "mask", "mask_digits_in",
           "mask_identifier", "scrub", "secret", "store_engine", "store_table", "store_url"]
