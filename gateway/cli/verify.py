"""``gateway verify FILE`` and ``gateway sign FILE``: signatures from the command line.

verify: XML (XML-DSig), JSON (JWS) or PDF (PAdES) against a purpose's trust; exit 0 only
when every signature passed, 1 when any failed or is indeterminate, 2 on usage errors.
sign: an XML packet with an enveloped XML-DSig, or a JSON packet as a JWS.
"""

import dataclasses
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config
from gateway.config import Config
from gateway.messages import line
from signing.report import VerificationReport, Verdict
from signing.trust import ZONE, TrustError, TrustPolicy

def _verdict(verdict: Verdict) -> str:
    """"hợp lệ / passed": the verdict in both languages."""
    return line(f"cli.verdict.{verdict.value}")


def _usage_error(rule: str, **fields: object) -> typer.Exit:
    typer.echo(line(rule, **fields), err=True)
    return typer.Exit(2)


def _policy(config: Config, purpose: str, trust: Path | None, crls: list[Path]) -> TrustPolicy:
    """The purpose's configured trust, or ``--trust DIR`` with the purpose's algorithm policy."""
    try:
        policy = TrustPolicy.from_config(config, purpose)
        if trust is not None:
            directory = TrustPolicy.from_directory(trust, purpose)
            policy = dataclasses.replace(policy, anchors=directory.anchors, intermediates=directory.intermediates,
                                         crls=directory.crls, pinned=())
        if crls:
            extra = TrustPolicy.from_paths(purpose, crls=crls)
            policy = dataclasses.replace(policy, crls=policy.crls + extra.crls)
    except TrustError as exc:
        raise _usage_error("cli.trust_unusable", error=exc) from None
    return policy


def verify_bytes(data: bytes, policy: TrustPolicy, *, at: datetime | None, max_bytes: int) -> VerificationReport:
    """Dispatches on content: PDF, XML, else JSON (JWS)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:8]
    if head.startswith(b"%PDF"):
        from signing.pades import verify_pdf  # pyhanko is heavy: only for PDFs
        return verify_pdf(data, policy, at=at)
    if head.startswith(b"<"):
        from signing.xmldsig import verify_xml
        return verify_xml(data, policy, at=at, max_bytes=max_bytes)[0]
    from signing.jws import verify_jws
    return verify_jws(data, policy, at=at, max_bytes=max_bytes)[0]


def _print_human(console: Console, path: Path, report: VerificationReport) -> None:
    verdict = report.verdict
    mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "indeterminate": "[yellow]?[/]"}[verdict.value]
    console.print(f"{mark} {path}  {report.format}: {_verdict(verdict)}", highlight=False)
    for number, signature in enumerate(report.signatures, 1):
        etsi = signature.to_dict()
        indication = " / ".join(filter(None, (etsi["indication"], etsi.get("sub_indication"))))
        console.print(f"    {line('cli.verify.signature', number=number)}: {_verdict(signature.verdict)}"
                      f"  [bold]{signature.reason.value}[/]  (ETSI EN 319 102-1: {indication})", highlight=False)
        for rule, value in (("cli.verify.signer", signature.signer), ("cli.verify.issuer", signature.issuer),
                            ("cli.verify.covers", signature.covered),
                            ("cli.verify.signing_time", signature.signing_time and
                             f"{signature.signing_time} ({signature.signing_time_source})"),
                            ("cli.verify.algorithms",
                             ", ".join(f"{k}={v}" for k, v in signature.algorithms.items())),
                            ("cli.verify.detail", signature.detail)):
            if value:
                console.print(f"      {line(rule)}: {value}", highlight=False, markup=False)
        for item in signature.notes:
            console.print(f"      {line('cli.verify.note')}: {item}", highlight=False, markup=False)
        for item in signature.checks_not_done:
            console.print(f"      {line('cli.verify.not_checked')}: {item}", style="yellow", highlight=False,
                          markup=False)


def _print_trust(console: Console, trust: Path, read: dict[str, list[str]]) -> None:
    console.print(f"{line('cli.verify.trust', path=trust)}:", highlight=False, markup=False)
    for key in ("anchors", "intermediates", "crls"):
        for name in read[key]:
            console.print(f"    {line(f'cli.verify.{key}')}: {name}", highlight=False, markup=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="Signed file: .xml (XML-DSig), .json (JWS) or .pdf (PAdES).",
                                         exists=True, dir_okay=False)],
    trust: Annotated[Path | None, typer.Option("--trust", help="Trust: a directory (anchors/, intermediates/, crls/, "
                                                                "or a flat folder), or a PEM bundle file; in a flat "
                                                                "folder or bundle self-issued certificates are "
                                                                "anchors, the others intermediates.",
                                               exists=True)] = None,
    crl: Annotated[list[Path] | None, typer.Option("--crl", help="Extra CRL file (repeatable).", exists=True,
                                                    dir_okay=False)] = None,
    purpose: Annotated[str, typer.Option("--purpose", help="Trust purpose: citizen, organisation, bank, partner, "
                                                           "gateway.")] = "citizen",
    at: Annotated[str | None, typer.Option("--at", help="Validate at this ISO 8601 time instead of the "
                                                        "signing time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Verify the signatures of a file. Exit 0 all passed, 1 failed or indeterminate, 2 usage error."""
    settings = load_config(config)
    policy = _policy(settings, purpose, trust, crl or [])
    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise _usage_error("cli.verify.at", at=repr(at)) from None
        when = when if when.tzinfo else when.replace(tzinfo=ZONE)
    with file.open("rb") as handle:
        data = handle.read(settings.max_bytes + 1)
    report = verify_bytes(data, policy, at=when, max_bytes=settings.max_bytes)
    read = policy.describe() if trust is not None else None
    if as_json:
        typer.echo(json.dumps({**report.to_dict(), **({"trust": read} if read else {})}, ensure_ascii=False, indent=2))
    else:
        console = Console(soft_wrap=True)
        if read and trust is not None:
            _print_trust(console, trust, read)
        _print_human(console, file, report)
    raise typer.Exit(0 if report.verdict is Verdict.PASSED else 1)


@app.command()
def sign(
    file: Annotated[Path, typer.Argument(help="Packet to sign: .xml (enveloped XML-DSig) or .json (JWS).",
                                         exists=True, dir_okay=False)],
    key: Annotated[Path, typer.Option("--key", help="Private key (PEM) or PKCS#12 (.p12/.pfx).", exists=True,
                                      dir_okay=False)],
    cert: Annotated[Path | None, typer.Option("--cert", help="Certificate (PEM; chain may follow). Not needed "
                                                              "with PKCS#12.", exists=True, dir_okay=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    password_env: Annotated[str | None, typer.Option("--password-env", help="Environment variable holding the key "
                                                                            "password.")] = None,
    cover: Annotated[str, typer.Option("--cover", help="XML: sign the whole packet or only its body.")] = "packet",
    jws_form: Annotated[str, typer.Option("--jws", help="JSON: compact or json serialisation.")] = "compact",
) -> None:
    """Sign a packet with a key and certificate (operators and tests)."""
    from signing.signer import SignerError, load_signer
    from signing.safe_input import Unreadable

    if cover not in ("packet", "body") or jws_form not in ("compact", "json"):
        raise _usage_error("cli.sign.forms")
    secret = os.environ.get(password_env) if password_env else None
    password = secret.encode() if secret else None
    try:
        signer = load_signer(key, cert, password)
    except SignerError as exc:
        raise _usage_error("cli.sign.key_unusable", error=exc) from None
    data = file.read_bytes()
    try:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            from signing.xml_sign import sign_xml
            signed = sign_xml(data, signer, cover=cover)  # type: ignore[arg-type]  # cover was checked against the allowed values above
        else:
            from signing.jws import sign_jws
            signed = sign_jws(data, signer, serialization_form=jws_form).encode("ascii")
    except (Unreadable, ValueError) as exc:
        detail = exc.message_en if isinstance(exc, Unreadable) else str(exc)
        raise _usage_error("cli.sign.failed", path=file, error=detail) from None
    if out is None:
        sys.stdout.buffer.write(signed)
    else:
        out.write_bytes(signed)
        typer.echo(line("cli.sign.signed", path=out), err=True)
