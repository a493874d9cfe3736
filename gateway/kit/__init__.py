"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the bounded HTTP client, personal-data masking, and the
``ConnectorSpec`` it registers itself with. Everything else in ``gateway`` is private to it.
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.spec import ConnectorSpec, secret
from gateway.packets.stored import packet_bytes
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
from gateway.store.api import Store, open_store
from gateway.validate.pipeline import sniff
from gateway.validate.wellformed import Unreadable, parse_json
from signing.jws import b64url, canonical as canonical_json, sign_jws, verify_jws
from signing.pades import verify_pdf
from signing.report import Verdict
from signing.signer import Signer, SignerError, load_signer
from signing.trust import TrustError, TrustPolicy
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml

__all__ = ["Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery", "DestinationPolicy", "HttpClient",
           "HttpError", "HttpTimeout", "Outcome", "OutcomeKind", "Reply", "mask", "mask_digits_in",
           "mask_identifier", "scrub", "secret",
           # connectors with a ledger of their own in the store (payments), and signatures (signing/):
           "Signer", "SignerError", "Store", "TrustError", "TrustPolicy", "Unreadable", "Verdict", "b64url",
           "canonical_json", "load_signer", "open_store", "packet_bytes", "parse_json", "sniff", "sign_jws", "sign_xml", "verify_jws",
           "verify_pdf", "verify_xml"]
