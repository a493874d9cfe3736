"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the bounded HTTP client, personal-data masking, and the
``ConnectorSpec`` it registers itself with. Everything else in ``gateway`` is private to it.

For inbound sides (callbacks, look-ups installed by ``ConnectorSpec.routes``): the bounded body reader
(``read_body``, ``Refused``), the hardened JSON and XML readers (``parse_json``, ``parse_json_document``,
``parse_any_xml``, ``Unreadable``), the refusals of the services' checks (``Denied``, ``Limited``);
``open_store``/``Store`` (reports from the audit trail, a connector's own records), ``store_engine``/
``store_table`` for a connector's own tables. Signatures come from ``signing`` (re-exported here for
the connectors that verify their peers' documents). For SOAP peers: ``ZeepTransport``, zeep over
``HttpClient`` (imported on first use).
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import AnswerTooLarge, HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.records import store_engine, store_table, store_url
from gateway.kit.spec import ConnectorSpec, secret
from gateway.packets.stored import packet_bytes
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
from gateway.receive.auth import Denied
from gateway.receive.body import Refused, read_body
from gateway.receive.limits import Limited
from gateway.store.api import Store, open_store
from gateway.validate.pipeline import sniff
from gateway.validate.wellformed import Unreadable, parse_any_xml, parse_json, parse_json_document
from signing.jws import b64url, canonical as canonical_json, sign_jws, verify_jws
from signing.pades import verify_pdf
from signing.report import Verdict
from signing.signer import Signer, SignerError, load_signer
from signing.trust import TrustError, TrustPolicy
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml

__all__ = ["AnswerTooLarge", "Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery", "Denied",
           "DestinationPolicy", "HttpClient", "HttpError", "HttpTimeout", "Limited", "Outcome", "OutcomeKind",
           "Refused", "Reply", "Signer", "SignerError", "Store", "TrustError", "TrustPolicy", "Unreadable",
           "Verdict", "ZeepTransport", "b64url", "canonical_json", "load_signer", "mask", "mask_digits_in",
           "mask_identifier", "open_store", "packet_bytes", "parse_any_xml", "parse_json", "parse_json_document",
           "read_body", "scrub", "secret", "sign_jws", "sign_xml", "sniff", "store_engine", "store_table",
           "store_url", "verify_jws", "verify_pdf", "verify_xml"]


def __getattr__(name: str) -> object:
    # zeep is imported only by the connectors that speak SOAP
    if name == "ZeepTransport":
        from gateway.kit.zeep_transport import ZeepTransport

        return ZeepTransport
    raise AttributeError(name)
