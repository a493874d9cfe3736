"""``python -m connectors.payment.simulator --port 8810 --bank-key K --bank-cert C [--chain I] --callback URL``

The payment platform's simulator on its own (the shared secret from $PAYMENT_SIM_SECRET, the PayGov
access key from $PAYMENT_SIM_ACCESS_KEY). Faults and settings through its /_admin endpoints."""

import argparse
import os
from pathlib import Path

import uvicorn

from connectors.payment.simulator.app import SimulatorSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Payment platform simulator")
    parser.add_argument("--port", type=int, default=8810)
    parser.add_argument("--variant", choices=["national", "paygov"], default="national")
    parser.add_argument("--partner", default="000.00.00.H00")
    parser.add_argument("--bank-key", type=Path, required=True)
    parser.add_argument("--bank-cert", type=Path, required=True)
    parser.add_argument("--chain", type=Path, action="append", default=[])
    parser.add_argument("--untrusted-key", type=Path)
    parser.add_argument("--untrusted-cert", type=Path)
    parser.add_argument("--callback", default="http://127.0.0.1:8000/v1/payment/confirm")
    parser.add_argument("--pay-after", type=float, default=60.0, help="seconds until a payment completes")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    secret = os.environ.get("PAYMENT_SIM_SECRET", "")
    if not secret:
        raise SystemExit("PAYMENT_SIM_SECRET is empty")
    settings = SimulatorSettings(secret=secret, partner_code=args.partner, bank_key=args.bank_key,
                                 bank_cert=args.bank_cert, bank_chain=args.chain, untrusted_key=args.untrusted_key,
                                 untrusted_cert=args.untrusted_cert, access_key=os.environ.get("PAYMENT_SIM_ACCESS_KEY", ""),
                                 variant=args.variant, callback_url=args.callback, pay_after_seconds=args.pay_after,
                                 time_scale=args.time_scale)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
