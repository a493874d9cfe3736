"""TLS to the database through the kit's HTTP client: its certificate checked against the configured CA bundle,
the gateway's client certificate presented (mutual TLS). Test PKI made here, at test time."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
import pytest
import uvicorn

from connectors.population_db.client import PopulationClient
from connectors.population_db.faults import PopulationFault
from connectors.population_db.settings import PopulationSettings
from connectors.population_db.simulator import SimulatorSettings, create_app
from connectors.population_db.transform import read_query
from tests.population_db.conftest import SECRETS, X_ROAD, free_port, query_for


def _issue(directory: Path, name: str, issuer: tuple[Any, x509.Certificate] | None, *, server: bool = False,
           ca: bool = False) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[1].subject if issuer else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
    cert = builder.sign(issuer[0] if issuer else key, hashes.SHA256())
    (directory / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture(scope="module")
def tls_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    ca = _issue(directory, "ca", None, ca=True)
    _issue(directory, "server", ca, server=True)
    _issue(directory, "client", ca)
    _issue(directory, "stranger", _issue(directory, "other-ca", None, ca=True))
    settings = SimulatorSettings(username=SECRETS["username"], secret=SECRETS["secret"], api_key=SECRETS["api_key"],
                                 x_road_client=X_ROAD)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           ssl_certfile=str(directory / "server.pem"),
                                           ssl_keyfile=str(directory / "server.key"),
                                           ssl_ca_certs=str(directory / "ca.pem"), ssl_cert_reqs=ssl.CERT_REQUIRED))
    import threading
    import time

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"https://127.0.0.1:{port}/dancu", directory
    server.should_exit = True
    thread.join(10)


def _client(url: str, directory: Path, **tls: str) -> PopulationClient:
    return PopulationClient(PopulationSettings(
        wsdl=url + "?wsdl", username=SECRETS["username"], secret=SECRETS["secret"], api_key=SECRETS["api_key"],
        x_road_client=X_ROAD, ma_don_vi="000.00.01.H22", read_timeout=3, connect_timeout=3, retries=0,
        fault_codes={"Client": "refuse", "default": "later"}, http_status={"default": "later"}, **tls))


def test_mutual_tls_with_the_configured_ca(tls_simulator: tuple[str, Path]) -> None:
    url, directory = tls_simulator
    people = _people(url, directory)
    client = _client(url, directory, ca_file=str(directory / "ca.pem"), cert_file=str(directory / "client.pem"),
                     key_file=str(directory / "client.key"))
    found = client.lookup(read_query(query_for(people[0])))
    assert found is not None and found["SoDinhDanh"] == people[0]["SoDinhDanh"]


@pytest.mark.parametrize("which", ["no client certificate", "an untrusted client certificate", "no CA bundle"])
def test_tls_refusals_are_classified(tls_simulator: tuple[str, Path], which: str) -> None:
    url, directory = tls_simulator
    tls = {"ca_file": str(directory / "ca.pem"), "cert_file": str(directory / "client.pem"),
           "key_file": str(directory / "client.key")}
    if which == "no client certificate":
        tls = {"ca_file": tls["ca_file"]}
    elif which == "an untrusted client certificate":
        tls.update(cert_file=str(directory / "stranger.pem"), key_file=str(directory / "stranger.key"))
    else:
        del tls["ca_file"]  # the system's CAs do not know the test CA
    with pytest.raises(PopulationFault) as fault:
        _client(url, directory, **tls).lookup(read_query(query_for(_people(url, directory)[0])))
    assert fault.value.cause == "connection" and fault.value.kind == "later"  # "retry" spent: try later


def _people(url: str, directory: Path) -> list[dict[str, Any]]:
    from gateway.kit import HttpClient

    admin = HttpClient(timeout=5, ca_file=str(directory / "ca.pem"), cert_file=str(directory / "client.pem"),
                       key_file=str(directory / "client.key"))
    return admin.get(url.replace("/dancu", "/_admin/citizens")).json()
