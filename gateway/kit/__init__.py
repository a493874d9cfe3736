"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out) and the classification of HTTP answers into outcomes, the bounded HTTP
client, personal-data masking, the packet model it transforms, the store types its inbound side writes
through, and the ``ConnectorSpec`` it registers itself with. An inbound endpoint's services (the
intake, body reading, limits) are in ``gateway.kit.inbound``; the simulator harness for tests and demos
in ``gateway.kit.harness``. Everything else in ``gateway`` is private to it.

Names other than the configuration and the spec are imported on first use: the configuration loads
each registered connector's package, which must stay cheap to import.
"""

import importlib
from typing import TYPE_CHECKING, Any

from gateway.config import Config, ConfigError
from gateway.kit.spec import ConnectorSpec, secret

if TYPE_CHECKING:
    from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
    from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
    from gateway.deliver.policy import DestinationPolicy
    from gateway.kit.answers import AnswerReading, outcome_of_error, outcome_of_reply
    from gateway.packets.bodies import HoSo, Record, ThuTucHanhChinh, TienDoXuLy
    from gateway.packets.catalogue import field_map
    from gateway.packets.envelope import GoiTin
    from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
    from gateway.store import open_store
    from gateway.store.api import BatchNotAdmitted, NewPacket, Store
    from gateway.store.engines import private_file

_LAZY = {
    "gateway.deliver.connector": ("Connector", "Delivery", "Outcome", "OutcomeKind"),
    "gateway.deliver.http_client": ("HttpClient", "HttpError", "HttpTimeout", "Reply"),
    "gateway.deliver.policy": ("DestinationPolicy",),
    "gateway.kit.answers": ("AnswerReading", "outcome_of_error", "outcome_of_reply"),
    "gateway.packets.bodies": ("HoSo", "Record", "ThuTucHanhChinh", "TienDoXuLy"),
    "gateway.packets.catalogue": ("field_map",),
    "gateway.packets.envelope": ("GoiTin",),
    "gateway.pii": ("mask", "mask_digits_in", "mask_identifier", "scrub"),
    "gateway.store": ("open_store",),
    "gateway.store.api": ("BatchNotAdmitted", "NewPacket", "Store"),
    "gateway.store.engines": ("private_file",),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = sorted(["Config", "ConfigError", "ConnectorSpec", "secret", *_WHERE])


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway.kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once
    return value
