"""A faithful fake of the national portal over real HTTP:
``python -m connectors.national_portal.simulator --port N``."""

from connectors.national_portal.simulator.app import create_app
from connectors.national_portal.simulator.settings import Faults, SimulatorSettings

__all__ = ["Faults", "SimulatorSettings", "create_app"]
