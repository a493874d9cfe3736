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
from signing.report import VerificationReport, Verdict
from signing.trust import ZONE, TrustError, TrustPolicy

_VERDICT_VI = {Verdict.PASSED: "hợp lệ", Verdict.FAILED: "không hợp lệ", Verdict.INDETERMINATE: "chưa xác định"}


def _usage_error(vi: str, en: str) -> typer.Exit:
    typer.echo(f"{vi} / {en}", err=True)
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
        raise _usage_error("Cấu hình tin cậy không dùng được", str(exc)) from None
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
    console.print(f"{mark} {path}  {report.format}: {_VERDICT_VI[verdict]} / {verdict.value}", highlight=False)
    for number, signature in enumerate(report.signatures, 1):
        etsi = signature.to_dict()
        indication = " / ".join(filter(None, (etsi["indication"], etsi.get("sub_indication"))))
        console.print(f"    chữ ký / signature {number}: {_VERDICT_VI[signature.verdict]} / {signature.verdict.value}"
                      f"  [bold]{signature.reason.value}[/]  (ETSI EN 319 102-1: {indication})", highlight=False)
        for label, value in (("người ký / signer", signature.signer), ("bên cấp / issuer", signature.issuer),
                             ("phạm vi / covers", signature.covered),
                             ("thời điểm ký / signing time", signature.signing_time and
                              f"{signature.signing_time} ({signature.signing_time_source})"),
                             ("thuật toán / algorithms",
                              ", ".join(f"{k}={v}" for k, v in signature.algorithms.items())),
                             ("chi tiết / detail", signature.detail)):
            if value:
                console.print(f"      {label}: {value}", highlight=False, markup=False)
        for item in signature.notes:
            console.print(f"      ghi chú / note: {item}", highlight=False, markup=False)
        for item in signature.checks_not_done:
            console.print(f"      chưa kiểm tra được / not checked: {item}", style="yellow", highlight=False,
                          markup=False)


def _print_trust(console: Console, trust: Path, read: dict[str, list[str]]) -> None:
    console.print(f"tin cậy / trust {trust}:", highlight=False, markup=False)
    for key, label in (("anchors", "điểm tin cậy / anchor"), ("intermediates", "CA trung gian / intermediate"),
                       ("crls", "CRL của / CRL from")):
        for name in read[key]:
            console.print(f"    {label}: {name}", highlight=False, markup=False)


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
            raise _usage_error("Thời điểm --at không đúng định dạng ISO 8601", f"--at {at!r} is not ISO 8601") from None
        when = when if when.tzinfo else when.replace(tzinfo=ZONE)
    with file.open("rb") as handle:
        data = handle.read(settings.max_bytes + 1)
    report = verify_bytes(data, policy, at=when, max_bytes=settings.max_bytes)
    read = policy.describe() if trust is not None else None
    if as_json:
        typer.echo(json.dumps({**report.to_dict(), **({"trust": read} if read else {})}, ensure_ascii=False, indent=2))
    else:
        console = Console(soft_wrap=True)
        if read:
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
        raise _usage_error("--cover là packet hoặc body, --jws là compact hoặc json",
                           "--cover is packet or body, --jws is compact or json")
    password = os.environ.get(password_env).encode() if password_env and os.environ.get(password_env) else None
    try:
        signer = load_signer(key, cert, password)
    except SignerError as exc:
        raise _usage_error("Không dùng được khóa ký", str(exc)) from None
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
        raise _usage_error("Không ký được tệp", f"cannot sign {file}: {detail}") from None
    if out is None:
        sys.stdout.buffer.write(signed)
    else:
        out.write_bytes(signed)
        typer.echo(f"Đã ký / signed: {out}", err=True)
