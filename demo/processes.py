"""The demo's local processes — the gateway (``gateway run``), the simulated national portal and the
test timestamp authority — each a real subprocess writing its log to the demo's folder, stopped with
SIGTERM at the end."""

from contextlib import AbstractContextManager
import os
from pathlib import Path
import shlex
import subprocess
import sys

from gateway.kit.harness import StartFailed, free_port, listening, process

__all__ = ["StartFailed", "cli", "free_port", "gateway", "payment", "population_db", "postal", "provincial_portal", "simulator", "tsa"]

GATEWAY = [sys.executable, "-c", "from gateway.cli import main; main()"]


def simulator(port: int, folder: Path, env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return process("Cổng DVC quốc gia mô phỏng / the portal simulator",
                   [sys.executable, "-m", "connectors.national_portal.simulator", "--port", str(port)],
                   f"http://127.0.0.1:{port}/healthz", folder / "simulator.log", env)


def tsa(port: int, root_out: Path, folder: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The test TSA (``signing.tsa_server``); up once it has written its root and listens."""
    return process("TSA thử nghiệm / the test TSA",
                   [sys.executable, "-m", "signing.tsa_server", "--port", str(port), "--root-out", str(root_out)],
                   lambda: root_out.exists() and listening(port), folder / "tsa.log", {})


def gateway(config: Path, port: int, folder: Path,
            env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return process("Cổng kết nối / the gateway", [*GATEWAY, "run", "--config", str(config), "--port", str(port)],
                   f"http://127.0.0.1:{port}/healthz", folder / "gateway.log", env)


def cli(args: list[str], env: dict[str, str], log: Path) -> tuple[int, str]:
    """One ``gateway`` command as an operator would type it; its output is also appended to ``log``."""
    done = subprocess.run([*GATEWAY, *args], capture_output=True, text=True, env={**os.environ, **env,
                                                                                   "COLUMNS": "160"}, timeout=120)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ gateway {shlex.join(args)}\n{done.stdout}{done.stderr}\n")
    return done.returncode, done.stdout + done.stderr


def provincial_portal(port: int, trust: Path, folder: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The provincial one-stop system's webhook simulator, trusting the gateway's certificate of this run: it
    takes only what the gateway signed, and records every packet once, in arrival order per dossier."""
    return process("Cổng tỉnh mô phỏng / the provincial portal simulator",
                   [sys.executable, "-m", "connectors.provincial_portal.simulator", "--port", str(port),
                    "--trust", str(trust)],
                   lambda: listening(port), folder / "provincial-portal.log", {})


def population_db(port: int, x_road_client: str, folder: Path,
                  env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The simulated population database (SOAP), its credentials from ``env`` (the ones given the gateway)."""
    return process("CSDLQG về dân cư mô phỏng / the population database simulator",
                   [sys.executable, "-m", "connectors.population_db.simulator", "--port", str(port),
                    "--x-road-client", x_road_client],
                   lambda: listening(port), folder / "population-db.log", env)


def payment(port: int, bank_key: Path, bank_cert: Path, partner: str, callback: str, folder: Path,
            env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The payment platform's simulator: a payment is paid 60 platform-seconds after INIT, on a clock 100 times
    fast; it calls ``callback`` with CONFIRM and signs receipts with the test bank's key."""
    return process("Nền tảng thanh toán mô phỏng / the payment platform simulator",
                   [sys.executable, "-m", "connectors.payment.simulator", "--port", str(port), "--partner", partner,
                    "--bank-key", str(bank_key), "--bank-cert", str(bank_cert), "--callback", callback,
                    "--pay-after", "60", "--time-scale", "0.01"],
                   lambda: listening(port), folder / "payment.log", env)


def postal(port: int, customer: str, folder: Path,
           env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The postal service's simulator: a shipment moves one step (an hour of the service) every 0.4 s; its
    access token from ``env`` (the one given the gateway)."""
    return process("Bưu chính công ích mô phỏng / the postal service simulator",
                   [sys.executable, "-m", "connectors.postal.simulator", "--port", str(port), "--customer-code",
                    customer, "--step-seconds", "3600", "--time-scale", "9000"],
                   f"http://127.0.0.1:{port}/healthz", folder / "postal.log", env)
