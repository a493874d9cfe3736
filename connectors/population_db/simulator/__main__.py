"""``python -m connectors.population_db.simulator --port 8091``: the simulated population database.

Its credentials come from GATEWAY_POPULATION_USERNAME / _SECRET / _API_KEY (defaults: made-up values)."""

import argparse
import os

import uvicorn

from connectors.population_db.simulator import SimulatorSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.population_db.simulator",
                                     description="CSDLQG về dân cư mô phỏng — simulated population database")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--timestamp-unit", choices=("seconds", "milliseconds"), default="milliseconds")
    parser.add_argument("--x-road-client", default=SimulatorSettings.x_road_client)
    parser.add_argument("--size", type=int, default=500, help="people in the synthetic population")
    args = parser.parse_args()
    defaults = SimulatorSettings()
    settings = SimulatorSettings(username=os.environ.get("GATEWAY_POPULATION_USERNAME", defaults.username),
                                 secret=os.environ.get("GATEWAY_POPULATION_SECRET", defaults.secret),
                                 api_key=os.environ.get("GATEWAY_POPULATION_API_KEY", defaults.api_key),
                                 timestamp_unit=args.timestamp_unit, population_size=args.size,
                                 x_road_client=args.x_road_client)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
