"""Connector to the online payment platform (the national portal's, or a PayGov-style provincial one):
INIT from a status-6 dossier with fees, the CONFIRM callback, GET_BILL, the bank's receipt verified before
a BienLaiThanhToan goes to the provincial portal; and a simulator of the platform."""

from pathlib import Path

from connectors.payment import cli, connector, inbound
from gateway.kit import ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="payment",
    packet_types=frozenset({"HoSo"}),
    create=connector.create,
    routes=inbound.install,
    cli=cli.make,
    defaults=Path(__file__).with_name("defaults.toml"),
)
