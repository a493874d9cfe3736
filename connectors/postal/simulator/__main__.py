"""``python -m connectors.postal.simulator --port 8091``: the simulated postal service on localhost.

The access token comes from GATEWAY_POSTAL_ACCESS_TOKEN, the variable the gateway reads; OAuth client
credentials are required when POSTAL_SIM_CLIENT_ID (and POSTAL_SIM_CLIENT_SECRET) are set.
"""

import argparse
import json
import os

import uvicorn

from connectors.postal.simulator import SimulatorSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.postal.simulator",
                                     description="Bưu chính công ích mô phỏng — simulated postal service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--customer-code", default=SimulatorSettings.customer_code)
    parser.add_argument("--step-seconds", type=float, default=3600.0, help="simulated seconds between two steps")
    parser.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--faults", help='initial faults as JSON, e.g. \'{"error_rate": 0.3}\'')
    args = parser.parse_args()
    client_id, client_secret = os.environ.get("POSTAL_SIM_CLIENT_ID", ""), os.environ.get("POSTAL_SIM_CLIENT_SECRET", "")
    settings = SimulatorSettings(customer_code=args.customer_code,
                                 access_token=os.environ.get("GATEWAY_POSTAL_ACCESS_TOKEN", ""),
                                 oauth_clients={client_id: client_secret} if client_id else {})
    app = create_app(settings, step_seconds=args.step_seconds, time_scale=args.time_scale)
    if args.faults:
        app.state.faults.update(json.loads(args.faults))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
