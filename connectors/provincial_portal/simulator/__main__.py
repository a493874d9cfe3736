"""``python -m connectors.provincial_portal.simulator --port 8811 --trust DIR``: the webhook simulator."""

import argparse

import uvicorn

from connectors.provincial_portal.simulator.app import PortalSimulatorSettings, create_app
from gateway.kit import TrustPolicy


def main() -> None:
    parser = argparse.ArgumentParser(description="Provincial portal webhook simulator")
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument("--trust", default="", help="folder with the gateway's CA (anchors/, intermediates/)")
    args = parser.parse_args()
    trust = TrustPolicy.from_directory(args.trust, "gateway") if args.trust else None
    uvicorn.run(create_app(PortalSimulatorSettings(trust, require_signature=trust is not None)),
                host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
