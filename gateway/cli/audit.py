"""``gateway audit verify|checkpoint`` and ``gateway evidence MAHOSO`` / ``gateway evidence verify FILE``."""

from pathlib import Path
import getpass
import json
from typing import Annotated

from cryptography import x509
import typer

from gateway.audit.service import checkpoint_now
from gateway.receipt.build import configured_tsa, gateway_signer
from gateway.audit.verify import AuditReport, verify_store
from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config
from gateway.cli.common import StoreOption, open_configured_store
from gateway.config import Config
from gateway.messages import line
from signing.trust import TrustError, TrustPolicy

audit_app = typer.Typer(no_args_is_help=True, help=line("help.audit"))
app.add_typer(audit_app, name="audit")

CertOption = Annotated[list[Path] | None, typer.Option(
    "--cert", help="Trusted certificate (PEM or DER) of the gateway's signing key or its CA (repeatable); "
                   "default for `audit verify`: the configured signing certificate.", exists=True, dir_okay=False)]
TsaTrustOption = Annotated[Path | None, typer.Option(
    "--tsa-trust", help="Trust for checkpoint timestamps: the TSA's root(s) as a PEM bundle or a flat folder "
                        "(self-issued certificates anchors, the others intermediates); default for `audit verify`: "
                        "[signing] tsa_trust. Without one a timestamp is reported present, not checked.",
    exists=True)]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _certificates(paths: list[Path]) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        try:
            found += x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [
                x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            typer.echo(f"{line('cli.audit.certificate_unreadable', path=path)}: {exc}", err=True)
            raise typer.Exit(2) from None
    return found


def _tsa_trust(path: Path | str | None) -> TrustPolicy | None:
    if not path:
        return None
    try:
        return TrustPolicy.from_directory(path, "tsa")
    except (TrustError, OSError, ValueError) as exc:
        typer.echo(f"{line('cli.audit.tsa_trust_unreadable', path=path)}: {exc}", err=True)
        raise typer.Exit(2) from None


def _timestamps(report: AuditReport) -> str:
    """One line on the checkpoints' timestamps: how many hold, the latest time proven, how many unchecked."""
    verdicts = report.checkpoints
    passed = [v for v in verdicts if v.timestamp == "passed"]
    unchecked = sum(1 for v in verdicts if v.timestamp == "not checked")
    said = f"{line('cli.audit.timestamps')}: {len(passed)} {line('cli.audit.timestamps_hold')}"
    if passed:
        last = max(passed, key=lambda v: v.checkpoint.n)
        said += (f" ({line('cli.entry', n=last.checkpoint.n)} "
                 f"{line('cli.audit.existed_at', at=f'{last.proven_at:%Y-%m-%d %H:%M:%S %z}')})")
    if unchecked:
        said += f", {unchecked} {line('cli.audit.timestamps_unchecked')}"
    return said + f", {sum(1 for v in verdicts if v.timestamp == 'absent')} {line('cli.audit.timestamps_absent')}"


def _trusted(config: Config, given: list[Path] | None) -> list[x509.Certificate] | None:
    if given:
        return _certificates(given)
    signer = gateway_signer(config)
    return None if signer is None else [signer.certificate]


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None, store: StoreOption = None, cert: CertOption = None,
                 tsa_trust: TsaTrustOption = None, as_json: AsJson = False) -> None:
    """Kiểm tra toàn bộ chuỗi nhật ký / verify the whole chain. Exit 0 intact, 1 broken (the first place named)."""
    settings = load_config(config)
    trust = _tsa_trust(tsa_trust or str(settings.section("signing").get("tsa_trust") or ""))
    opened = open_configured_store(settings, store)
    try:
        report = verify_store(opened, _trusted(settings, cert), trust)
    finally:
        opened.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        signed = sum(1 for v in report.checkpoints if v.signed)
        typer.echo(f"{report.entries} {line('cli.audit.entries')}; {len(report.checkpoints)} "
                   f"{line('cli.audit.checkpoints')} ({signed} {line('cli.audit.signed')}); "
                   f"{line('cli.audit.signed_up_to', n=report.signed_up_to)}")
        if not signed:
            typer.echo(line("cli.audit.none_signed"))
        typer.echo(_timestamps(report))
        typer.echo(f"✓ {line('cli.audit.intact')}" if report.ok else f"✗ {report.broken}")
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("checkpoint")
def audit_checkpoint(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Ký điểm chốt cho chuỗi hiện tại / write a signed checkpoint of the chain as it stands."""
    settings = load_config(config)
    signer = gateway_signer(settings)
    opened = open_configured_store(settings, store)
    try:
        made = checkpoint_now(opened, signer, configured_tsa(settings))
    finally:
        opened.close()
    if made is None:
        typer.echo(line("cli.audit.empty"))
        return
    signed = line("cli.audit.signed" if made.jws else "cli.audit.unsigned_no_key")
    stamped = f", {line('cli.audit.timestamped')}" if made.timestamp_token else ""
    typer.echo(f"{line('cli.audit.checkpoint')}: {line('cli.entry', n=made.n)} {made.hash[:16]}… ({signed}{stamped})")


@app.command()
def evidence(
    what: Annotated[list[str], typer.Argument(help="MAHOSO to export a dossier's bundle, or: verify FILE.")],
    out: Annotated[Path | None, typer.Option("--out", help="Bundle to write (default: evidence-MAHOSO.zip).")] = None,
    cert: CertOption = None, tsa_trust: TsaTrustOption = None, as_json: AsJson = False,
    config: ConfigOption = None, store: StoreOption = None,
    actor: Annotated[str | None, typer.Option(help="Who (default: the login name); audited.")] = None,
) -> None:
    """Gói bằng chứng của hồ sơ / a dossier's evidence bundle: `evidence MAHOSO`, `evidence verify FILE`."""
    if what[0] == "verify":
        if len(what) != 2:
            typer.echo(line("cli.usage", usage="gateway evidence verify FILE [--cert CERT] [--tsa-trust PEM]"), err=True)
            raise typer.Exit(2)
        _verify_bundle(Path(what[1]), cert, _tsa_trust(tsa_trust), as_json)
        return
    if len(what) != 1:
        typer.echo(line("cli.usage", usage="gateway evidence MAHOSO [--out FILE]"), err=True)
        raise typer.Exit(2)
    from gateway.evidence.export import NoSuchDossier, export_bundle
    from gateway.evidence.layout import safe_name

    dossier = what[0]
    settings = load_config(config)
    target = out or Path(f"evidence-{safe_name(dossier)}.zip")
    opened = open_configured_store(settings, store)
    try:
        exported = export_bundle(opened, dossier, target, signer=gateway_signer(settings),
                                 actor=actor or getpass.getuser(), tsa=configured_tsa(settings))
    except NoSuchDossier:
        typer.echo(line("cli.no_dossier", dossier=dossier), err=True)
        raise typer.Exit(1) from None
    finally:
        opened.close()
    typer.echo(f"{line('cli.wrote', path=target)}: {exported.packets} {line('cli.evidence.packets')}, "
               f"{exported.jobs} {line('cli.evidence.jobs')}, {exported.entries} {line('cli.evidence.entries')}, "
               f"{line('cli.evidence.checkpoint')} {exported.checkpoint} "
               f"({line('cli.audit.signed' if exported.signed else 'cli.audit.unsigned')})")


def _verify_bundle(path: Path, cert: list[Path] | None, tsa_trust: TrustPolicy | None, as_json: bool) -> None:
    from gateway.evidence.check import verify_bundle

    if not path.is_file():
        typer.echo(line("cli.no_file", path=path), err=True)
        raise typer.Exit(2)
    report = verify_bundle(path, _certificates(cert) if cert else None, tsa_trust)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for note in report.notes:
            typer.echo(f"  · {note}")
        for problem in report.problems:
            typer.echo(f"✗ {problem}")
        if report.ok:
            typer.echo(f"✓ {line('cli.evidence.intact', dossier=report.dossier)}")
    raise typer.Exit(0 if report.ok else 1)
