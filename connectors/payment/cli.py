"""``gateway payment …`` (the spec's ``cli``): operators see a dossier's payments with their state and
reason, and ask the platform about one (QUERY) — no personal data printed."""

import json
from pathlib import Path
from typing import Annotated

import typer

from connectors.payment.client import platform_for
from connectors.payment.settings import PaymentSettings
from connectors.payment.messages import words
from gateway.kit import Config, line, open_store


def _config(path: Path | None) -> Config:
    return Config.load(path)


def make() -> typer.Typer:
    cli = typer.Typer(no_args_is_help=True, help=line("payment.cli.help"))
    ConfigPath = Annotated[Path | None, typer.Option("--config", help="Gateway configuration (TOML).")]

    @cli.command("status")
    def status(dossier: Annotated[str, typer.Argument(help="MaHoSo")], config: ConfigPath = None) -> None:
        """A dossier's payments: reference, amount, state, and why when stopped (reason, verification verdict)."""
        settings = _config(config)
        store = open_store(str(settings.section("store").get("url", "sqlite:///gateway.db")))
        try:
            rows = store.payments_of(dossier)
        finally:
            store.close()
        if not rows:
            typer.echo(words("payment.cli.none"))
            raise typer.Exit(1)
        for row in rows:
            detail = row["detail"]
            verdict = (detail.get("verification") or {}).get("verdict", "-")
            typer.echo(json.dumps({"MaThamChieu": row["reference"], "SoTien": row["amount"], "state": row["state"],
                                   "MaGiaoDich": row["transaction_id"], "verification": verdict,
                                   "reason": detail.get("reason") or detail.get("reason_en") or detail.get("bill_error")
                                   or detail.get("forward_error") or "",
                                   "attempts": row.get("attempts", 0),
                                   "next_try": row["next_attempt_at"].isoformat()
                                   if row.get("next_attempt_at") and row["state"] in ("confirmed", "verified") else "",
                                   "packet": detail.get("packet", "")}, ensure_ascii=False))

    @cli.command("query")
    def query(reference: Annotated[str, typer.Argument(help="MaThamChieu")], config: ConfigPath = None) -> None:
        """QUERY: what the platform says about a payment (e.g. a callback that never came)."""
        platform = platform_for(PaymentSettings.from_config(_config(config)))
        try:
            answer = platform.query(reference)
        finally:
            platform.close()
        shown = {k: v for k, v in answer.data.items() if k not in ("MaXacThuc", "checksum")}
        typer.echo(json.dumps({"kind": answer.kind, "code": answer.code, "message": answer.message, **shown},
                              ensure_ascii=False))
        raise typer.Exit(0 if answer.kind == "ok" else 1)

    return cli
