"""The provincial one-stop system as a destination: what the gateway originates (payment receipts, postal
tracking, look-up results) goes back as a signed webhook; with a simulator that records what it got.

Registered as ``provincial_portal`` in ``[connectors]``; its modules are imported when a part is used."""

from pathlib import Path
from typing import Any

from gateway.kit import Config, ConnectorSpec, DestinationPolicy

# What the one-stop system is sent back (the connector refuses any other type as not carried).
CARRIES = frozenset({"BienLaiThanhToan", "TrangThaiVanDon", "PhanAnhKienNghi", "DanhGiaHaiLong"})


def _create(policy: DestinationPolicy, config: Config) -> Any:
    from connectors.provincial_portal.connector import create

    return create(policy, config)


CONNECTOR = ConnectorSpec(
    name="provincial_portal",
    packet_types=CARRIES,
    create=_create,
    defaults=Path(__file__).with_name("defaults.toml"),
)
