"""A simulated National Population Database (CSDLQG về dân cư): a SOAP peer for tests, benches and demos."""

from connectors.population_db.simulator.app import create_app
from connectors.population_db.simulator.settings import SimulatorSettings

__all__ = ["SimulatorSettings", "create_app"]
