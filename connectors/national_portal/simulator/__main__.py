"""``python -m connectors.national_portal.simulator --port 8089``: the simulated portal on localhost.

Credentials come from GATEWAY_PORTAL_USERNAME / GATEWAY_PORTAL_PASSWORD (and _CLIENT_ID /
_CLIENT_SECRET for the token protocol), the same variables the gateway reads.
"""

import argparse
import json
from pathlib import Path

import uvicorn

from connectors.national_portal.simulator import SimulatorSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.national_portal.simulator",
                                     description="Cổng DVC quốc gia mô phỏng — simulated national portal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--madonvi", default=SimulatorSettings.madonvi)
    parser.add_argument("--dstcode", default=SimulatorSettings.dstcode)
    parser.add_argument("--session-ttl", type=float, default=SimulatorSettings.session_ttl,
                        help="seconds a session or token stays valid")
    parser.add_argument("--catalogue", type=Path, help="JSON array of procedures replacing the built-in catalogue")
    parser.add_argument("--faults", help='initial faults as JSON, e.g. \'{"error_rate": 0.3}\'')
    args = parser.parse_args()
    settings = SimulatorSettings(madonvi=args.madonvi, dstcode=args.dstcode, session_ttl=args.session_ttl)
    catalogue = json.loads(args.catalogue.read_text(encoding="utf-8")) if args.catalogue else None
    app = create_app(settings, catalogue)
    if args.faults:
        app.state.simulation.faults.update(json.loads(args.faults))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
