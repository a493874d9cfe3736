"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the bounded HTTP client, personal-data masking, and the
``ConnectorSpec`` it registers itself with. Everything else in ``gateway`` is private to it.

For inbound sides (callbacks, look-ups installed by ``ConnectorSpec.routes``): the bounded body reader
(``read_body``, ``Refused``), the hardened JSON and XML readers (``parse_json_document``, ``parse_any_xml``,
``Unreadable``), the refusals of the services' checks (``Denied``, ``Limited``) and ``open_store`` (reports
from the audit trail); ``store_engine``/``store_table`` for a connector's own tables in the store. For SOAP peers: ``ZeepTransport``, zeep over ``HttpClient`` (imported on first use).
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import AnswerTooLarge, HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.records import store_engine, store_table, store_url
from gateway.kit.spec import ConnectorSpec, secret
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
from gateway.receive.auth import Denied
from gateway.receive.body import Refused, read_body
from gateway.receive.limits import Limited
from gateway.store import open_store
from gateway.validate.wellformed import Unreadable, parse_any_xml, parse_json_document

__all__ = ["AnswerTooLarge", "Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery", "Denied",
           "DestinationPolicy", "HttpClient", "HttpError", "HttpTimeout", "Limited", "Outcome", "OutcomeKind",
           "Refused", "Reply", "Unreadable", "ZeepTransport", "mask", "mask_digits_in", "mask_identifier",
           "open_store", "parse_any_xml", "parse_json_document", "read_body", "scrub", "secret", "store_engine", "store_table", "store_url"]


def __getattr__(name: str) -> object:
    # zeep is imported only by the connectors that speak SOAP
    if name == "ZeepTransport":
        from gateway.kit.zeep_transport import ZeepTransport

        return ZeepTransport
    raise AttributeError(name)
