"""The provincial one-stop system as a destination: what the gateway originates (payment receipts, postal
tracking, look-up results) goes back as a signed webhook; with a simulator that records what it got."""

from pathlib import Path

from connectors.provincial_portal import connector
from gateway.kit import ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="provincial_portal",
    packet_types=connector.ProvincialPortalConnector.carries,
    create=connector.create,
    defaults=Path(__file__).with_name("defaults.toml"),
)
