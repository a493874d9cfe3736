"""A simulated public postal service (VNPost-style): strict orders, cancellations, a clock that moves
shipments (delivered, failed attempts, returns) with a time-scale knob, the cursor feed, and faults."""

from connectors.postal.simulator.app import SimulatorSettings, create_app

__all__ = ["SimulatorSettings", "create_app"]
