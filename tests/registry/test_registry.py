"""The connector registry on real configuration files, a real app, the real CLI and a real worker process:
a connector package written to disk at test time (``sample``) registers itself through ``[connectors]``
and contributes its defaults, routes, sub-commands, destination connector and background task; the
national portal does the same through the embedded defaults."""

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import textwrap
import time

from fastapi.testclient import TestClient
import pytest

from gateway import registry
from gateway.config import Config, ConfigError
from gateway.deliver.engine import make_connector
from gateway.deliver.http_connector import HttpConnector
from gateway.deliver.policy import load_policies, policy_from
from gateway.api import create_app

SAMPLE = '''
"""A connector as small as the contract allows."""
from pathlib import Path
import threading

from gateway.kit import ConnectorSpec, Outcome, OutcomeKind


class Echo:
    transform = None

    def __init__(self, policy, config):
        self.name, self.max_batch = policy.name, 1
        self.greeting = config.section("sample")["greeting"]

    def deliver(self, batch):
        return [Outcome(OutcomeKind.DELIVERED) for _ in batch]

    def close(self):
        pass


def routes(app, config, services):
    @app.get("/sample/ping")
    def ping() -> dict:
        section = config.section("sample")
        return {"greeting": section["greeting"], "limit": section["limit"], "services": type(services).__name__}


def cli():
    import typer

    app = typer.Typer(no_args_is_help=True)

    @app.command()
    def hello() -> None:
        typer.echo("xin chào / hello from sample")

    @app.command()
    def limit() -> None:
        typer.echo(str(Config_load().section("sample")["limit"]))

    return app


def Config_load():
    from gateway.kit import Config
    return Config.load()


def tasks(config, services):
    folder = Path(config.section("sample")["folder"])

    def loop(stop: threading.Event) -> None:
        (folder / "started").write_text(type(services).__name__)
        stop.wait()
        (folder / "stopped").write_text("yes")

    return [loop]


CONNECTOR = ConnectorSpec(name="sample", packet_types=frozenset({"VanDonBuuChinh"}), create=Echo, routes=routes,
                          cli=cli, cli_name="sample-peer", defaults=Path(__file__).with_name("defaults.toml"),
                          tasks=tasks)
'''

FRAGMENT = '''
[sample]
greeting = "xin chào"
limit = 1
folder = ""

[destinations.sample]
connector = "sample"
concurrency = 1
'''


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample connector's package on disk, importable; returns the folder holding it."""
    root = tmp_path / "pkgs"
    package = root / "sample_connector"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(SAMPLE), encoding="utf-8")
    (package / "defaults.toml").write_text(FRAGMENT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)
    return root


def deployment(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


REGISTERED = '''
[connectors]
sample = "sample_connector"

[sample]
limit = 5
folder = "{folder}"

[store]
url = "sqlite:///{folder}/gateway.db"

[[routes.rules]]
name = "Vận đơn cho mẫu — shipments to the sample"
types = ["VanDonBuuChinh"]
to = ["sample"]
'''


def test_defaults_fragments_sit_under_the_deployment_file(sample: Path, tmp_path: Path) -> None:
    config = Config.load(deployment(tmp_path, REGISTERED.format(folder=tmp_path)))
    assert list(registry.specs(config)) == ["national_portal", "population_db", "postal", "payment", "provincial_portal",
                                            "sample"]
    assert config.section("sample") == {"greeting": "xin chào", "limit": 5, "folder": str(tmp_path)}
    assert config.section("destinations")["sample"] == {"connector": "sample", "concurrency": 1}
    # the national portal's fragment, through the embedded [connectors] table
    assert config.section("national_portal")["protocol"] == "classic"
    assert config.section("destinations")["national_portal"]["connector"] == "national_portal"
    assert config.section("inbound_classic")["enabled"] is True
    # without the registration, the sample's defaults are not there
    assert "sample" not in Config.load().raw


def test_the_api_installs_each_connectors_routes(sample: Path, tmp_path: Path) -> None:
    config = Config.load(deployment(tmp_path, REGISTERED.format(folder=tmp_path)))
    with TestClient(create_app(config)) as client:
        assert client.get("/sample/ping").json() == {"greeting": "xin chào", "limit": 5, "services": "PacketIntake"}
        # the national portal's classic endpoint, installed the same way: it answers in the portal's format
        answer = client.post("/adapter/auth", json={"username": "nobody", "password": "x" * 12})
        assert answer.status_code == 200 and answer.json()["error_code"] == 6


def test_the_cli_adds_each_connectors_sub_app(sample: Path, tmp_path: Path) -> None:
    path = deployment(tmp_path, REGISTERED.format(folder=tmp_path))
    env = {**os.environ, "GATEWAY_CONFIG": str(path), "PYTHONPATH": f"{sample}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    gateway = [sys.executable, "-c", "from gateway.cli import main; main()"]
    hello = subprocess.run([*gateway, "sample-peer", "hello"], capture_output=True, text=True, env=env, timeout=60)
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout.strip() == "xin chào / hello from sample"
    limit = subprocess.run([*gateway, "sample-peer", "limit"], capture_output=True, text=True, env=env, timeout=60)
    assert limit.stdout.strip() == "5"
    # `gateway portal …` comes from the national portal's spec (cli_name "portal")
    mapping = Path(__file__).resolve().parents[2] / "connectors" / "national_portal" / "mapping-example.toml"
    checked = subprocess.run([*gateway, "portal", "check-mapping", str(mapping)], capture_output=True, text=True,
                             env=env, timeout=60)
    assert checked.returncode == 0 and "dùng được / " in checked.stdout, checked.stdout + checked.stderr


def test_the_worker_runs_each_connectors_tasks_and_stops_them(sample: Path, tmp_path: Path) -> None:
    path = deployment(tmp_path, REGISTERED.format(folder=tmp_path))
    env = {**os.environ, "PYTHONPATH": f"{sample}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    worker = subprocess.Popen([sys.executable, "-c", "from gateway.cli import main; main()", "worker",
                               "--config", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert worker.poll() is None and time.monotonic() < deadline, worker.stdout.read() if worker.stdout else ""
            time.sleep(0.1)
        assert (tmp_path / "started").read_text() == "PacketIntake"  # the worker's services: the real intake (originate)
        assert not (tmp_path / "stopped").exists()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert (tmp_path / "stopped").read_text() == "yes"


def test_a_destination_names_a_registered_connector_or_http_or_a_factory(sample: Path, tmp_path: Path) -> None:
    config = Config.load(deployment(tmp_path, REGISTERED.format(folder=tmp_path)))
    policies = load_policies(config)
    echo = make_connector(policies["sample"], config)
    assert type(echo).__name__ == "Echo" and echo.greeting == "xin chào"
    generic = make_connector(policy_from("peer", {"url": "http://127.0.0.1:9/x"}), config)
    by_factory = make_connector(policy_from("peer", {"url": "http://127.0.0.1:9/x",
                                                     "connector": "gateway.deliver.http_connector:create"}), config)
    assert isinstance(generic, HttpConnector) and isinstance(by_factory, HttpConnector)
    for made in (echo, generic, by_factory):
        made.close()
    with pytest.raises(ConfigError, match=r"destinations\.ghost\.connector: no registered connector 'nowhere'"):
        make_connector(policy_from("ghost", {"connector": "nowhere"}), config)


def test_a_route_sending_a_type_the_connector_does_not_carry_is_refused_at_start_up(tmp_path: Path) -> None:
    rule = '[[routes.rules]]\nname = "Sai — wrong"\ntypes = ["HoSo", "VanDonBuuChinh"]\nto = ["national_portal"]\n'
    with pytest.raises(ConfigError) as refused:
        Config.load(deployment(tmp_path, rule))
    assert "Sai — wrong" in str(refused.value) and "VanDonBuuChinh" in str(refused.value)
    assert str(refused.value).startswith("routes.rules[0] (Sai — wrong)")  # a deployment's rules replace the embedded ones
    every = '[[routes.rules]]\nname = "Tất cả — everything"\nto = ["national_portal"]\n'
    with pytest.raises(ConfigError, match="Tất cả — everything.*every packet type"):
        Config.load(deployment(tmp_path, every))


def test_a_sample_route_outside_its_types_is_refused_too(sample: Path, tmp_path: Path) -> None:
    text = REGISTERED.format(folder=tmp_path) + '\n[[routes.rules]]\nname = "Hồ sơ — dossiers"\ntypes = ["HoSo"]\nto = ["sample"]\n'
    with pytest.raises(ConfigError, match=r"Hồ sơ — dossiers.*sample \(sample\) does not carry HoSo"):
        Config.load(deployment(tmp_path, text))


def test_a_connector_that_is_not_one_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="connectors.ghost: cannot import no_such_package"):
        Config.load(deployment(tmp_path, '[connectors]\nghost = "no_such_package"\n'))
    with pytest.raises(ConfigError, match="connectors.fake: gateway.kit exports no CONNECTOR"):
        Config.load(deployment(tmp_path, '[connectors]\nfake = "gateway.kit"\n'))


def test_a_destination_without_an_address_is_refused_when_used_not_at_load(tmp_path: Path) -> None:
    config = Config.load()  # the product's defaults: postal, payment, … have no url
    assert "url" not in config.section("destinations")["postal"]
    with pytest.raises(ConfigError, match=r"destinations\.postal\.url chưa đặt .* / destinations\.postal\.url is not set"):
        make_connector(load_policies(config)["postal"], config)
    store = f"sqlite:///{tmp_path}/gateway.db"
    asked = subprocess.run([sys.executable, "-c", "from gateway.cli import main; main()", "worker", "--store", store,
                            "-d", "postal"], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG"})
    assert asked.returncode == 2 and "destinations.postal.url is not set" in asked.stderr


def test_the_product_registers_every_peer_and_their_destinations_name_them() -> None:
    config = Config.load()  # the embedded defaults, every fragment merged
    assert list(registry.specs(config)) == ["national_portal", "population_db", "postal", "payment",
                                            "provincial_portal"]
    destinations = config.section("destinations")
    for name in ("national_portal", "postal", "payment", "provincial_portal"):
        assert destinations[name]["connector"] == name  # from the connector's own fragment
        assert not destinations[name].get("url")  # a deployment gives the address
    assert not config.section("postal")["url"] and not config.section("payment")["url"]
    assert config.section("postal")["answers"]["accepted"] == ["100", "101"]  # fragment tables, merged
    assert config.section("population_db")["fault_codes"]["Client"] == "refuse"
    # nothing in the product's defaults points at this machine
    texts = [(Path(__file__).resolve().parents[2] / "gateway" / "defaults.toml").read_text(encoding="utf-8")] + [
        Path(spec.defaults).read_text(encoding="utf-8") for spec in registry.specs(config).values() if spec.defaults]
    assert not any(re.search(r'"https?://(127\.0\.0\.1|localhost)', text) for text in texts)
    # the routes' packet types are each carried by the connector they name (checked by Config.load itself)
    registry.check_routes(config)
