"""Trust configuration per purpose, and certificate path validation at a signing time.

A ``TrustPolicy`` says, for one purpose (citizen or organisation submissions, bank
receipts, partner systems, the gateway's own), which anchors to build to, which extra
intermediates and CRLs to use, whether to fetch revocation data online (OCSP/CRL
URLs in the certificates), which algorithms are acceptable and how far a claimed
signing time may be trusted. ``validate_chain`` is the one place every signature
format (XML-DSig, JWS, PAdES) checks a signer's certificate, with pyhanko-certvalidator
as the engine; ``validation_context`` gives that engine's context for a signing time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asn1crypto import crl as asn1_crl, ocsp as asn1_ocsp, pem, x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.policy_decl import (CertRevTrustPolicy, DisallowWeakAlgorithmsPolicy,
                                               RevocationCheckingPolicy, RevocationCheckingRule)

from signing.masking import mask_digits_in, mask_identifier
from signing.messages import said
from signing import ocsp
from signing.report import Reason, Verdict, verdict_for

ANCHORS_DIR = Path(__file__).with_name("anchors")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PURPOSES = ("citizen", "organisation", "bank", "partner", "gateway")
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
CRL_SUFFIXES = (".crl",)
REVOCATION_MODES = ("soft-fail", "hard-fail", "require")
MAX_CERTIFICATES = 10  # certificates a signature may carry: a chain; more only makes the verifier parse


class TrustError(ValueError):
    """A trust configuration that cannot be used; the message names the file or key."""


# --- loading certificates and CRLs -------------------------------------------------------

def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Every certificate in a PEM bundle, or the one DER certificate."""
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"]
    return [asn1_x509.Certificate.load(data)]


def load_crls(data: bytes) -> list[asn1_crl.CertificateList]:
    if pem.detect(data):
        return [asn1_crl.CertificateList.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "X509 CRL"]
    return [asn1_crl.CertificateList.load(data)]


def _read_certs(path: Path) -> list[asn1_x509.Certificate]:
    try:
        certs = load_certificates(path.read_bytes())
        for cert in certs:
            cert.native  # noqa: B018 - parse fully now, so a broken file fails at load time
    except (OSError, ValueError, TypeError) as exc:
        raise TrustError(f"cannot read certificate {path}: {exc}") from exc
    if not certs:
        raise TrustError(f"no certificate in {path}")
    return certs


def _read_crls(path: Path) -> list[asn1_crl.CertificateList]:
    try:
        crls = load_crls(path.read_bytes())
        for crl in crls:
            crl.native  # noqa: B018 - idem: a broken CRL fails at load time
    except (OSError, ValueError, TypeError) as exc:
        raise TrustError(f"cannot read CRL {path}: {exc}") from exc
    return crls


def _files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


@lru_cache(maxsize=2048)
def certificate_from_der(der: bytes) -> asn1_x509.Certificate:
    """A parsed certificate, fully decoded once: signers repeat, decoding is the costly part."""
    cert = asn1_x509.Certificate.load(der)
    cert.native  # noqa: B018 - parse everything now: a broken certificate fails here, and only once
    return cert


def fingerprint(cert: asn1_x509.Certificate) -> str:
    """SHA-256 of the DER encoding, upper-case hex pairs separated by colons."""
    digest = hashlib.sha256(cert.dump()).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- the policy --------------------------------------------------------------------------

@dataclass(frozen=True)
class AlgorithmPolicy:
    """What a signature (and the certificates behind it) may use."""

    digests: frozenset[str] = frozenset({"sha256", "sha384", "sha512"})
    min_rsa_bits: int = 2048
    curves: frozenset[str] = frozenset({"secp256r1", "secp384r1"})  # P-256, P-384
    allow_hmac: bool = False  # never by default: a shared key proves nothing about a signer

    def digest_ok(self, name: str) -> bool:
        return name.lower().replace("-", "") in self.digests


_CURVE_NAMES = {"p-256": "secp256r1", "p256": "secp256r1", "p-384": "secp384r1", "p384": "secp384r1",
                "p-521": "secp521r1", "p521": "secp521r1"}


@dataclass(frozen=True)
class TrustPolicy:
    """Trust for one purpose. Build with ``TrustPolicy.from_paths`` / ``from_config`` / ``from_directory``."""

    purpose: str
    anchors: tuple[asn1_x509.Certificate, ...] = ()
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[asn1_crl.CertificateList, ...] = ()
    ocsps: tuple[bytes, ...] = ()  # OCSP responses held as evidence (a PAdES-LT file's DSS), DER
    fetch_revocation: bool = False  # ask the OCSP responders / CRL URLs named in the certificates
    ocsp_urls: tuple[str, ...] = ()  # responders of our own to ask (for certificates that declare OCSP)
    revocation_mode: str = "soft-fail"  # pyhanko-certvalidator: soft-fail | hard-fail | require
    algorithms: AlgorithmPolicy = AlgorithmPolicy()
    claimed_time_tolerance: timedelta = timedelta(minutes=10)
    max_signatures: int = 1
    pinned: tuple[asn1_x509.Certificate, ...] = ()  # end-entity certificates trusted as they are
    chain_cache_seconds: float = 300.0
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.revocation_mode not in REVOCATION_MODES:
            raise TrustError(f"signing.purposes.{self.purpose}.revocation_mode must be one of {REVOCATION_MODES}")

    # -- construction --

    @classmethod
    def from_paths(cls, purpose: str, *, anchors: Iterable[str | Path] = (), intermediates: Iterable[str | Path] = (),
                   crls: Iterable[str | Path] = (), base: Path = ANCHORS_DIR, **options: Any) -> TrustPolicy:
        """Files or directories; relative names are looked up in ``base`` (the shipped anchors) first."""
        def resolve(name: str | Path) -> Path:
            path = Path(name)
            if not path.is_absolute() and not path.exists() and (base / path).exists():
                return base / path
            if not path.exists():
                raise TrustError(f"signing.purposes.{purpose}: no such file or directory: {name}")
            return path

        def certs(names: Iterable[str | Path]) -> tuple[asn1_x509.Certificate, ...]:
            found: list[asn1_x509.Certificate] = []
            for name in names:
                path = resolve(name)
                for file in (_files(path, CERT_SUFFIXES) if path.is_dir() else [path]):
                    found.extend(_read_certs(file))
            return tuple(found)

        crl_list: list[asn1_crl.CertificateList] = []
        for name in crls:
            path = resolve(name)
            for file in (_files(path, CRL_SUFFIXES) if path.is_dir() else [path]):
                crl_list.extend(_read_crls(file))
        pinned = certs(options.pop("pinned", ()))
        return cls(purpose, certs(anchors), certs(intermediates), tuple(crl_list), pinned=pinned, **options)

    @classmethod
    def from_directory(cls, directory: str | Path, purpose: str = "custom", **options: Any) -> TrustPolicy:
        """Trust as people hand it: sub-folders ``anchors/``, ``intermediates/``, ``crls/``; or a flat
        folder, or one PEM bundle file, whose self-issued certificates are anchors and the others
        intermediates (``*.crl`` files and CRLs inside a bundle are CRLs)."""
        root = Path(directory)
        if root.is_file():
            return cls.from_bundle(root, purpose, **options)
        if not root.is_dir():
            raise TrustError(f"trust directory {root} does not exist")
        sub = {name: root / name for name in ("anchors", "intermediates", "crls") if (root / name).is_dir()}
        if sub:
            return cls.from_paths(purpose, anchors=[sub["anchors"]] if "anchors" in sub else [],
                                  intermediates=[sub["intermediates"]] if "intermediates" in sub else [],
                                  crls=[sub["crls"]] if "crls" in sub else [], **options)
        certs = [cert for file in _files(root, CERT_SUFFIXES) for cert in _read_certs(file)]
        crls = [crl for file in _files(root, CRL_SUFFIXES) for crl in _read_crls(file)]
        return cls._sorted(purpose, certs, crls, **options)

    @classmethod
    def from_bundle(cls, path: str | Path, purpose: str = "custom", **options: Any) -> TrustPolicy:
        """One PEM file with several certificates (and perhaps CRLs): self-issued ones are anchors."""
        path = Path(path)
        certs = _read_certs(path)
        crls = _read_crls(path) if b"X509 CRL" in path.read_bytes() else []
        return cls._sorted(purpose, certs, crls, **options)

    @classmethod
    def _sorted(cls, purpose: str, certs: list[asn1_x509.Certificate], crls: list[asn1_crl.CertificateList],
                **options: Any) -> TrustPolicy:
        anchors = tuple(cert for cert in certs if cert.self_issued)
        intermediates = tuple(cert for cert in certs if not cert.self_issued)
        return cls(purpose, anchors, intermediates, tuple(crls), **options)

    def describe(self) -> dict[str, list[str]]:
        """Which certificate the policy takes as what — for the operator to see a trust folder's reading."""
        return {"anchors": [describe_name(cert.subject) for cert in self.anchors],
                "intermediates": [describe_name(cert.subject) for cert in self.intermediates],
                "crls": [describe_name(crl.issuer) for crl in self.crls]}

    @classmethod
    def from_config(cls, config: Any, purpose: str) -> TrustPolicy:
        """The ``[signing.purposes.<purpose>]`` table of a ``gateway.config.Config``, over ``[signing]`` defaults."""
        section = config.section("signing")
        purposes = section.get("purposes", {})
        if purpose not in purposes:
            raise TrustError(f"unknown signing purpose {purpose!r}; configured: {', '.join(sorted(purposes))}")
        table = {key: value for key, value in section.items() if key != "purposes" and not isinstance(value, dict)}
        table.update(purposes[purpose])
        return cls.from_table(purpose, table)

    @classmethod
    def from_table(cls, purpose: str, table: dict[str, Any]) -> TrustPolicy:
        curves = frozenset(_CURVE_NAMES.get(str(c).lower(), str(c)) for c in table.get("curves", ("P-256", "P-384")))
        algorithms = AlgorithmPolicy(
            digests=frozenset(str(d).lower().replace("-", "")
                              for d in table.get("digests", ("sha256", "sha384", "sha512"))),
            min_rsa_bits=int(table.get("min_rsa_bits", 2048)), curves=curves,
            allow_hmac=bool(table.get("allow_hmac", False)))
        return cls.from_paths(
            purpose, anchors=table.get("anchors", ()), intermediates=table.get("intermediates", ()),
            crls=table.get("crls", ()), pinned=table.get("pinned", ()),
            fetch_revocation=bool(table.get("fetch_revocation", False)),
            ocsp_urls=tuple(str(url) for url in table.get("ocsp_urls", ())),
            revocation_mode=str(table.get("revocation_mode", "soft-fail")), algorithms=algorithms,
            claimed_time_tolerance=timedelta(minutes=float(table.get("claimed_time_tolerance_minutes", 10))),
            max_signatures=int(table.get("max_signatures", 1)),
            chain_cache_seconds=float(table.get("chain_cache_seconds", 300)))

    # -- use --

    def validation_context(self, at: datetime | None = None, *, ee_revocation_required: bool = False,
                           ca_revocation_required: bool = False, ocsps: Sequence[bytes] = (),
                           path_only: bool = False, ee_unchecked: bool = False) -> ValidationContext:
        """pyhanko-certvalidator's context for checking a chain as it stood at ``at`` (default: now).

        The engine only consults CRLs for certificates that declare a distribution point; ours are
        configured locally, so where a local CRL covers the end entity (or every CA) it is made mandatory.
        Revocation information issued after the signing time is accepted (it is the better evidence).
        ``path_only`` skips revocation: for finding the path whose certificates to ask responders about;
        ``ee_unchecked`` skips it for the end entity only (its revocation was settled otherwise)."""
        weak = frozenset({"md5", "md2"} | ({"sha1", "sha224"} - self.algorithms.digests))
        default = RevocationCheckingPolicy(RevocationCheckingRule.NO_CHECK, RevocationCheckingRule.NO_CHECK) \
            if path_only else RevocationCheckingPolicy.from_legacy(self.revocation_mode)
        rules = RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.NO_CHECK if ee_unchecked
            else RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if ee_revocation_required
            else default.ee_certificate_rule,
            intermediate_ca_cert_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if ca_revocation_required
            else default.intermediate_ca_cert_rule)
        return ValidationContext(
            trust_roots=list(self.anchors) + list(self.pinned), other_certs=list(self.intermediates),
            crls=list(self.crls), ocsps=[*self.ocsps, *ocsps],
            moment=(at or datetime.now(UTC)).astimezone(UTC),
            allow_fetching=self.fetch_revocation, revinfo_policy=CertRevTrustPolicy(rules, retroactive_revinfo=True),
            algorithm_usage_policy=DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]  # pyhanko: unannotated
                weak_hash_algos=weak, rsa_key_size_threshold=self.algorithms.min_rsa_bits),
        )

    def has_local_crl(self, cert: asn1_x509.Certificate) -> bool:
        """Whether a configured CRL was issued by ``cert``'s issuer."""
        return any(crl.issuer.sha256 == cert.issuer.sha256 for crl in self.crls)

    def signing_time(self, *, timestamp: datetime | None = None, claimed: datetime | None = None,
                     now: datetime | None = None) -> tuple[datetime, str]:
        """The time to validate at and where it came from: a trusted timestamp, else the signer's claimed
        time when it is within the tolerance of now, else now."""
        now = now or datetime.now(UTC)
        if timestamp is not None:
            return timestamp, "timestamp"
        if claimed is not None and abs(now - claimed) <= self.claimed_time_tolerance:
            return claimed, "claimed"
        return now, "now"


def parse_packet_time(text: str | None) -> datetime | None:
    """A packet's ``yyyyMMddHHmmss`` (Vietnam time) as an aware datetime, or None."""
    if not text or len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:]), tzinfo=ZONE)
    except ValueError:
        return None


def time_note(source: str) -> list[str]:
    """The check-not-done line for a signing time that no trusted timestamp vouches for.
    Notes start with a stable English key (``revocation:``, ``chain:``, ``key usage:``, ``signing time:``)
    that programs may match, then Vietnamese — English."""
    return {"claimed": [said("time.claimed")], "now": [said("time.now")]}.get(source, [])


# --- chain validation --------------------------------------------------------------------

@dataclass
class ChainResult:
    """The outcome of validating a signer certificate; ``verdict`` PASSED means every check done held."""

    verdict: Verdict
    reason: Reason
    detail: str = ""
    path: tuple[asn1_x509.Certificate, ...] = ()
    checks_not_done: list[str] = field(default_factory=list)
    sub_indication: str | None = None  # where the reason alone does not say (OUT_OF_BOUNDS_NOT_REVOKED)
    notes: list[str] = field(default_factory=list)  # facts that left the verdict as it is


_DIGITAL_SIGNATURE_USAGES = {"digital_signature", "non_repudiation"}


def _run(coro: Any) -> Any:
    """Runs a coroutine to completion from sync code, also when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _error_result(exc: Exception) -> ChainResult:
    message = mask_digits_in(str(exc))  # the engine quotes subjects, citizen IDs included
    match exc:
        case cv_errors.RevokedError():
            reason = Reason.REVOKED
        case cv_errors.ExpiredError():
            reason = Reason.EXPIRED
        case cv_errors.NotYetValidError():
            reason = Reason.NOT_YET_VALID
        case cv_errors.DisallowedAlgorithmError() | cv_errors.AlgorithmNotSupported():
            reason = Reason.CRYPTO_CONSTRAINTS_FAILURE
        case cv_errors.InsufficientRevinfoError() | cv_errors.StaleRevinfoError():
            reason = Reason.REVOCATION_UNKNOWN
        case cv_errors.PathBuildingError() | cv_errors.InvalidCertificateError() | cv_errors.PathValidationError():
            # No path, or one with a broken certificate signature, a wrong issuer, a CA constraint:
            # ETSI's NO_CERTIFICATE_CHAIN_FOUND / CERTIFICATE_CHAIN_GENERAL_FAILURE, both indeterminate.
            reason = Reason.NO_CERTIFICATE_CHAIN_FOUND
        case _:
            reason = Reason.TRY_LATER
    return ChainResult(verdict_for(reason), reason, message)


def _within_validity(cert: asn1_x509.Certificate, at: datetime) -> Reason | None:
    validity = cert["tbs_certificate"]["validity"]
    if at < validity["not_before"].native:
        return Reason.NOT_YET_VALID
    if at > validity["not_after"].native:
        return Reason.EXPIRED
    return None


def _revocation_gaps(policy: TrustPolicy, path: Sequence[asn1_x509.Certificate],
                     answered: set[bytes]) -> list[str]:
    """Certificates of the path that no configured CRL, OCSP answer (or online source) could speak for."""
    if policy.fetch_revocation:
        return []
    gaps = []
    for cert in path[1:]:  # path[0] is the anchor: anchors are not revocation-checked
        if not policy.has_local_crl(cert) and cert.sha256 not in answered:
            gaps.append(said("revocation.gap", subject=describe_name(cert.subject), issuer=describe_name(cert.issuer)))
    return gaps


def _held_ocsp_covers(policy: TrustPolicy, path: Sequence[asn1_x509.Certificate]) -> set[bytes]:
    """Certificates of the path (SHA-256) that an OCSP response the policy holds speaks for."""
    if not policy.ocsps:
        return set()
    answered: set[tuple[int, bytes]] = set()
    for data in policy.ocsps:
        try:
            basic = asn1_ocsp.OCSPResponse.load(data).basic_ocsp_response
            for single in basic["tbs_response_data"]["responses"]:
                cert_id = single["cert_id"]
                answered.add((cert_id["serial_number"].native, cert_id["issuer_name_hash"].native))
        except (ValueError, TypeError, KeyError):
            continue  # unreadable evidence is no evidence; the engine says the same
    return {cert.sha256 for issuer, cert in zip(path, path[1:])
            if (cert.serial_number, hashlib.sha1(issuer.subject.dump()).digest()) in answered}  # noqa: S324 - RFC 6960 CertID issuer-name hash, not a security digest


def _ocsp_responses(policy: TrustPolicy, path: Sequence[asn1_x509.Certificate]) -> tuple[dict[bytes, bytes], list[str]]:
    """Answers from the configured responders for the path's certificates that declare OCSP,
    keyed by certificate SHA-256; and what could not be asked."""
    responses: dict[bytes, bytes] = {}
    problems: list[str] = []
    if not policy.ocsp_urls:
        return responses, problems
    for issuer, cert in zip(path, path[1:]):
        if not cert.ocsp_urls:
            continue  # the engine only consults OCSP for certificates that declare it
        for url in policy.ocsp_urls:
            try:
                responses[cert.sha256] = ocsp.fetch(url, cert, issuer)
                break
            except ocsp.OcspError as exc:
                problems.append(said("revocation.ocsp_unreachable", error=exc))
    return responses, problems


@dataclass(frozen=True)
class _Cached:
    result: ChainResult
    stored: float  # time.monotonic() when validated
    validated_at: datetime  # the time the chain was validated for
    fresh: bool  # validated for "now" or later: every revocation we hold was dated before it


def _reusable(entry: _Cached, policy: TrustPolicy, at: datetime) -> bool:
    """A pass holds for earlier times (revocation only ever starts), and for later times when it was
    validated for "now" (no revocation we hold can be dated after that)."""
    return time.monotonic() - entry.stored < policy.chain_cache_seconds and (at <= entry.validated_at or entry.fresh)


def validate_chain(policy: TrustPolicy, signer: asn1_x509.Certificate,
                   extra_certs: Iterable[asn1_x509.Certificate] = (), at: datetime | None = None, *,
                   time_proven: bool = False) -> ChainResult:
    """Path to one of the purpose's anchors at ``at``, key usage, revocation. ``time_proven``: a trusted
    timestamp proves the signature existed at ``at``; only then does an expired or revoked certificate
    fail it (ETSI EN 319 102-1), else it is indeterminate — OUT_OF_BOUNDS_NOT_REVOKED when the
    certificate held, revocation checked, up to its expiry, OUT_OF_BOUNDS_NO_POE / REVOKED_NO_POE otherwise.
    A pass at a proven time notes a revocation dated after it."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    result = _validate_cached(policy, signer, tuple(extra_certs), at)
    if time_proven and result.reason in (Reason.REVOCATION_UNKNOWN, Reason.REVOKED):
        result = _ocsp_revoked_later(policy, signer, tuple(extra_certs), at) or result
    if result.verdict is Verdict.PASSED:
        revoked = _revoked_later(policy, result.path, at) if time_proven else []
        return dataclasses.replace(result, notes=[*result.notes, *revoked]) if revoked else result
    if result.reason not in (Reason.EXPIRED, Reason.REVOKED) or time_proven:
        return result
    settled = dataclasses.replace(result, verdict=Verdict.INDETERMINATE)
    if result.reason is Reason.EXPIRED:
        path = result.path or (signer,)
        end = min(cert["tbs_certificate"]["validity"]["not_after"].native for cert in path)
        if end < at:
            before = _validate_cached(policy, signer, tuple(extra_certs), end - timedelta(seconds=1))
            if before.verdict is Verdict.PASSED and not any(n.startswith("revocation:") for n in before.checks_not_done):
                settled.sub_indication = "OUT_OF_BOUNDS_NOT_REVOKED"
                settled.detail += "; " + said("revocation.valid_to_expiry", expiry=end.astimezone(ZONE).isoformat())
    return settled


def _ocsp_revoked_later(policy: TrustPolicy, signer: asn1_x509.Certificate,
                        extra: tuple[asn1_x509.Certificate, ...], at: datetime) -> ChainResult | None:
    """The chain engine reads an OCSP "revoked" answer as "not known good" whatever its date. When an
    authentic answer (held, or from a configured/declared responder) dates the signer's revocation after
    the proven signing time ``at``, the signer's revocation is settled: the rest of the chain is validated
    as usual at ``at`` and a pass carries the revocation as a note (ETSI EN 319 102-1: revoked after the
    POE). None when no such answer exists."""
    def attempt(**options: Any) -> Any:
        return _run(CertificateValidator(signer, intermediate_certs=list(extra), validation_context=
                                         policy.validation_context(at, **options)).async_validate_path())

    try:
        certs = tuple(attempt(path_only=True).iter_certs(include_root=True))
    except Exception:  # noqa: BLE001 - no path: the engine's own reason stands
        return None
    if len(certs) < 2 or certs[-1].sha256 != signer.sha256:
        return None
    issuer = certs[-2]
    fetched, _ = _ocsp_responses(policy, certs) if (policy.ocsp_urls or policy.fetch_revocation) else ({}, [])
    if policy.fetch_revocation and signer.sha256 not in fetched:
        for url in signer.ocsp_urls:
            try:
                fetched[signer.sha256] = ocsp.fetch(url, signer, issuer)
                break
            except ocsp.OcspError:
                continue
    dates = [when for data in (*policy.ocsps, *fetched.values())
             if (when := ocsp.revocation_time(data, signer, issuer)) is not None]
    if not dates:
        return None
    revoked = min(dates)
    if revoked <= at:
        return ChainResult(verdict_for(Reason.REVOKED), Reason.REVOKED,
                           f"revoked at {revoked.astimezone(ZONE).isoformat()} (OCSP), before the proven time", certs)
    ca_required = len(certs) > 2 and all(policy.has_local_crl(c) for c in certs[1:-1])
    try:
        attempt(ee_unchecked=True, ca_revocation_required=ca_required, ocsps=list(fetched.values()))
    except Exception as exc:  # noqa: BLE001 - the rest of the chain does not hold
        return _error_result(exc)
    note = said("revocation.after_proof_ocsp", subject=describe_name(signer.subject),
                when=revoked.astimezone(ZONE).isoformat())
    return ChainResult(Verdict.PASSED, Reason.OK, "", certs, _revocation_gaps(policy, certs[:-1], set()), notes=[note])


def _revoked_later(policy: TrustPolicy, path: Sequence[asn1_x509.Certificate], at: datetime) -> list[str]:
    """Revocations in the CRLs held that are dated after ``at``: they do not touch a signature proven older."""
    notes = []
    for cert in path[1:]:
        for crl in policy.crls:
            if crl.issuer.sha256 != cert.issuer.sha256:
                continue
            for entry in crl["tbs_cert_list"]["revoked_certificates"]:
                when = entry["revocation_date"].native
                if entry["user_certificate"].native == cert.serial_number and when > at:
                    notes.append(said("revocation.after_proof_crl", subject=describe_name(cert.subject),
                                      when=when.astimezone(ZONE).isoformat()))
    return notes


def _validate_cached(policy: TrustPolicy, signer: asn1_x509.Certificate, extra: tuple[asn1_x509.Certificate, ...],
                     at: datetime) -> ChainResult:
    """Passes are cached per signer and candidate chain for ``chain_cache_seconds`` (see ``_reusable``);
    validity periods are re-checked at every call."""
    started = datetime.now(UTC)
    key = (signer.sha256, tuple(c.sha256 for c in extra))
    with policy._lock:
        cached: _Cached | None = policy._cache.get(key)
    if cached is not None and _reusable(cached, policy, at):
        for cert in cached.result.path:
            if (reason := _within_validity(cert, at)) is not None:
                return ChainResult(verdict_for(reason), reason, f"{describe_name(cert.subject)} "
                                   f"is not valid at {at.astimezone(ZONE).isoformat()}", cached.result.path)
        return cached.result
    result = _validate_uncached(policy, signer, extra, at)
    if result.verdict is Verdict.PASSED:  # failures are not cached: they must be re-examined
        entry = _Cached(result, time.monotonic(), at, fresh=at >= started - timedelta(seconds=5))
        with policy._lock:
            if len(policy._cache) > 10_000:
                policy._cache.clear()
            policy._cache[key] = entry
    return result


def _validate_uncached(policy: TrustPolicy, signer: asn1_x509.Certificate, extra: tuple[asn1_x509.Certificate, ...],
                       at: datetime) -> ChainResult:
    if any(signer.sha256 == pinned.sha256 for pinned in policy.pinned):
        if (reason := _within_validity(signer, at)) is not None:
            return ChainResult(verdict_for(reason), reason, "pinned certificate outside its validity period", (signer,))
        return ChainResult(Verdict.PASSED, Reason.OK, "pinned certificate", (signer,),
                           [said("chain.pinned"), said("revocation.pinned")])
    if (reason := _within_validity(signer, at)) is not None:  # proven wrong whatever the anchors
        return ChainResult(verdict_for(reason), reason, f"the signer's certificate is not valid at "
                                                   f"{at.astimezone(ZONE).isoformat()}", (signer,))
    if signer.self_signed != "no" and signer.sha256 not in {anchor.sha256 for anchor in policy.anchors}:
        return ChainResult(Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND,
                           "a self-signed certificate that is not a configured anchor", (signer,))
    if not policy.anchors:
        return ChainResult(Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND,
                           f"no trust anchors configured for purpose {policy.purpose!r}")
    def attempt(**options: Any) -> Any:
        context = policy.validation_context(at, **options)
        return _run(CertificateValidator(signer, intermediate_certs=list(extra),
                                         validation_context=context).async_validate_path())

    try:
        # First the path alone, then revocation: where local CRLs or our responders' answers speak
        # for the path's certificates, checking them is mandatory.
        certs = tuple(attempt(path_only=True).iter_certs(include_root=True))
        responses, not_done = _ocsp_responses(policy, certs)
        covered = set(responses) | _held_ocsp_covers(policy, certs)
        ee_required = policy.has_local_crl(signer) or signer.sha256 in covered
        ca_required = len(certs) > 2 and all(policy.has_local_crl(c) or c.sha256 in covered for c in certs[1:-1])
        attempt(ee_revocation_required=ee_required, ca_revocation_required=ca_required, ocsps=list(responses.values()))
    except Exception as exc:  # noqa: BLE001 - every engine error becomes a reason code
        return _error_result(exc)
    usage = signer.key_usage_value
    if usage is not None and not (set(usage.native) & _DIGITAL_SIGNATURE_USAGES):
        return ChainResult(Verdict.INDETERMINATE, Reason.KEY_USAGE_FAILURE,
                           f"key usage {sorted(usage.native)} allows neither digitalSignature nor nonRepudiation",
                           certs)
    not_done += _revocation_gaps(policy, certs, covered)
    if usage is None:
        not_done.append(said("key_usage.missing"))
    return ChainResult(Verdict.PASSED, Reason.OK, "", certs, not_done)


# --- describing certificates without leaking identifiers -----------------------------------

_IDENTIFIER_ATTRIBUTES = {"serial_number", "0.9.2342.19200300.100.1.1", "user_id", "unique_identifier"}


def describe_name(name: asn1_x509.Name) -> str:
    """``CN=…, O=…, UID=0010****1234`` — identifier attributes (UID, serialNumber, tax codes) masked."""
    return _describe(name.dump())


@lru_cache(maxsize=2048)
def _describe(der: bytes) -> str:
    name = asn1_x509.Name.load(der)
    parts = []
    for rdn in name.chosen:
        for attribute in rdn:
            kind = attribute["type"]
            label = {"common_name": "CN", "organization_name": "O", "organizational_unit_name": "OU",
                     "country_name": "C", "locality_name": "L", "state_or_province_name": "ST",
                     "serial_number": "serialNumber", "0.9.2342.19200300.100.1.1": "UID",
                     "email_address": "E", "user_id": "UID"}.get(kind.native, kind.dotted)
            value = str(attribute["value"].native)
            if kind.native in _IDENTIFIER_ATTRIBUTES or kind.dotted in _IDENTIFIER_ATTRIBUTES or "@" in value:
                value = _mask_value(value)
            elif any(ch.isdigit() for ch in value):
                value = mask_digits_in(value)
            parts.append(f"{label}={value}")
    return ", ".join(parts)


def _mask_value(value: str) -> str:
    # "MST:0101234567" / "CMND:012345678" keep their prefix, mask the number.
    prefix, sep, number = value.rpartition(":")
    return f"{prefix}{sep}{mask_identifier(number)}" if sep else mask_identifier(value)
