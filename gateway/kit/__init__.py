"""The gateway's public kit: the only part of the gateway a connector imports.

A connector (``connectors/<peer>/``) gets from here its configuration, the delivery contract
(deliveries in, outcomes out), the bounded HTTP client, personal-data masking, the packet model it
transforms, the store types its inbound side writes through, and the ``ConnectorSpec`` it registers
itself with. An inbound endpoint's services (the intake, body reading, limits) are in
``gateway.kit.inbound``, imported only by connectors that receive. Everything else in ``gateway`` is
private to it.
"""

from gateway.config import Config, ConfigError
from gateway.deliver.connector import Connector, Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.kit.spec import ConnectorSpec, secret
from gateway.packets.bodies import HoSo, Record, ThuTucHanhChinh, TienDoXuLy
from gateway.packets.catalogue import field_map
from gateway.packets.envelope import GoiTin
from gateway.pii import mask, mask_digits_in, mask_identifier, scrub
from gateway.store.api import BatchNotAdmitted, NewPacket, Store
from gateway.store.engines import private_file

__all__ = ["BatchNotAdmitted", "Config", "ConfigError", "Connector", "ConnectorSpec", "Delivery",
           "DestinationPolicy", "GoiTin", "HoSo", "HttpClient", "HttpError", "HttpTimeout", "NewPacket", "Outcome",
           "OutcomeKind", "Record", "Reply", "Store", "ThuTucHanhChinh", "TienDoXuLy", "field_map", "mask",
           "mask_digits_in", "mask_identifier", "private_file", "scrub", "secret"]
