"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the intake's answers (Accepted, Refused, TryLater: what an inbound
side maps to its peer's protocol and what ``PacketIntake.originate`` returns) and the classification of HTTP answers into outcomes, the bounded HTTP
client and its OAuth client-credentials tokens (``BearerTokens``), personal-data masking, the packet model it transforms, the store types its inbound side writes
through, and the ``ConnectorSpec`` it registers itself with. What only an inbound endpoint needs
beyond this (the intake itself, the caller's identity and its refusal, body reading, limits, lockout) is in
``gateway.kit.inbound``, each name in one place; the simulator harness for tests and demos
in ``gateway.kit.harness``; zeep over ``HttpClient`` for SOAP peers (``ZeepTransport``); the signing
primitives a connector needs to check its peers' documents or sign its own. Everything else in ``gateway`` is private to it.

Names other than the configuration and the spec are imported on first use: the configuration loads
each registered connector's package, which must stay cheap to import.
"""

import importlib
from typing import TYPE_CHECKING, Any

from gateway.config import Config as Config, ConfigError as ConfigError
from gateway.kit.spec import ConnectorSpec as ConnectorSpec, secret as secret

if TYPE_CHECKING:  # "name as name": re-exported (the same names as _LAZY, for the type checker)
    from gateway.deliver.connector import (Connector as Connector, Delivery as Delivery, Outcome as Outcome,
                                           OutcomeKind as OutcomeKind)
    from gateway.deliver.http_client import (AnswerTooLarge as AnswerTooLarge, HttpClient as HttpClient,
                                             HttpError as HttpError, HttpTimeout as HttpTimeout, Reply as Reply)
    from gateway.deliver.policy import DestinationPolicy as DestinationPolicy
    from gateway.kit.answers import (AnswerReading as AnswerReading, outcome_of_error as outcome_of_error,
                                     outcome_of_reply as outcome_of_reply)
    from gateway.kit.oauth import (BearerTokens as BearerTokens, ClientCredentials as ClientCredentials,
                                   TokenFailure as TokenFailure)
    from gateway.messages import add_messages as add_messages, line as line, refusal as refusal, text as text
    from gateway.packets.bodies import (HoSo as HoSo, Record as Record, ThuTucHanhChinh as ThuTucHanhChinh,
                                        TienDoXuLy as TienDoXuLy)
    from gateway.packets.catalogue import field_map as field_map
    from gateway.packets.envelope import GoiTin as GoiTin
    from gateway.pii import (mask as mask, mask_digits_in as mask_digits_in, mask_identifier as mask_identifier,
                             scrub as scrub)
    from gateway.kit.records import store_engine as store_engine, store_table as store_table, store_url as store_url
    from gateway.kit.zeep_transport import ZeepTransport as ZeepTransport
    from gateway.packets.stored import packet_bytes as packet_bytes
    from gateway.receive.outcomes import (Accepted as Accepted, IntakeOutcome as IntakeOutcome, Refusal as Refusal,
                                          Refused as Refused, TryLater as TryLater)
    from gateway.store.api import (BatchNotAdmitted as BatchNotAdmitted, NewPacket as NewPacket, Store as Store,
                                   open_store as open_store)
    from gateway.validate.pipeline import sniff as sniff
    from gateway.validate.wellformed import (Unreadable as Unreadable, parse_any_xml as parse_any_xml,
                                             parse_json as parse_json, parse_json_document as parse_json_document)
    from signing.jws import (b64url as b64url, canonical as canonical_json, sign_jws as sign_jws,  # noqa: F401 - renamed
                             verify_jws as verify_jws)
    from signing.pades import verify_pdf as verify_pdf
    from signing.report import Verdict as Verdict
    from signing.signer import Signer as Signer, SignerError as SignerError, load_signer as load_signer
    from signing.trust import TrustError as TrustError, TrustPolicy as TrustPolicy
    from signing.xml_sign import sign_xml as sign_xml
    from signing.xmldsig import verify_xml as verify_xml
    from gateway.store.engines import private_file as private_file

_LAZY = {
    "gateway.deliver.connector": ("Connector", "Delivery", "Outcome", "OutcomeKind"),
    "gateway.deliver.http_client": ("AnswerTooLarge", "HttpClient", "HttpError", "HttpTimeout", "Reply"),
    "gateway.deliver.policy": ("DestinationPolicy",),
    "gateway.kit.answers": ("AnswerReading", "outcome_of_error", "outcome_of_reply"),
    "gateway.kit.oauth": ("BearerTokens", "ClientCredentials", "TokenFailure"),  # client-credentials tokens
    "gateway.messages": ("add_messages", "line", "refusal", "text"),  # a connector's sentences: its messages.py
    "gateway.packets.bodies": ("HoSo", "Record", "ThuTucHanhChinh", "TienDoXuLy"),
    "gateway.packets.catalogue": ("field_map",),
    "gateway.packets.envelope": ("GoiTin",),
    "gateway.packets.stored": ("packet_bytes",),
    "gateway.kit.records": ("store_engine", "store_table", "store_url"),
    "gateway.kit.zeep_transport": ("ZeepTransport",),  # zeep only for the connectors that speak SOAP
    "gateway.receive.outcomes": ("Accepted", "IntakeOutcome", "Refusal", "Refused", "TryLater"),
    "gateway.validate.pipeline": ("sniff",),
    "gateway.validate.wellformed": ("Unreadable", "parse_any_xml", "parse_json", "parse_json_document"),
    # signatures: the connectors that verify their peers' documents (payment receipts) or sign their own
    "signing.jws": ("b64url", "canonical_json", "sign_jws", "verify_jws"),
    "signing.pades": ("verify_pdf",),
    "signing.report": ("Verdict",),
    "signing.signer": ("Signer", "SignerError", "load_signer"),
    "signing.trust": ("TrustError", "TrustPolicy"),
    "signing.xml_sign": ("sign_xml",),
    "signing.xmldsig": ("verify_xml",),
    "gateway.pii": ("mask", "mask_digits_in", "mask_identifier", "scrub"),
    "gateway.store.api": ("BatchNotAdmitted", "NewPacket", "Store", "open_store"),
    "gateway.store.engines": ("private_file",),
}
_ALIASES = {"canonical_json": "canonical"}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = sorted(["Config", "ConfigError", "ConnectorSpec", "secret", *_WHERE])


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway.kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value  # once
    return value
