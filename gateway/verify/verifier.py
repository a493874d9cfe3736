"""The verify step of the accept path: a sender's XML-DSig or JWS checked before validation.

Built once at start-up (``SignatureVerifier.from_config``): one ``TrustPolicy`` per purpose in
use, kept for the process so its chain cache stays warm. Per request it answers a
``SignatureCheck``: the verdict stored with the packet and put in the receipt, whether to refuse
(422) or to ask for a resend later (503, revocation status unknown for now), and the signed
content that validation, routing and storage act on — the element the XML signature covers,
or the JWS payload — so a packet is never validated from one reading and signed in another.

Decisions (``signatures`` per client, default ``[signing.intake]``):
  off       nothing is verified; a JWS is still unwrapped (its payload is the packet); verdict "unsigned".
  optional  an unsigned packet passes ("unsigned"); a signed one must pass, or it is refused.
  required  an unsigned packet is refused 422 ``signature.required``; a signed one must pass.
A signature that fails (HASH_FAILURE, SIG_CRYPTO_FAILURE, REVOKED, …) or stays indeterminate for
good (NO_CERTIFICATE_CHAIN_FOUND: an untrusted signer) is refused 422 with the report; indeterminate
for now (TRY_LATER, REVOCATION_UNKNOWN under hard-fail/require) is answered 503 with Retry-After,
nothing stored: the sender resends the same bytes. Parse attacks never reach the cryptography:
the hardened parser reads the document first.
"""

import logging
from typing import Any

from gateway.config import Config, ConfigError
from gateway.messages import text
from gateway.validate.pipeline import Encoding
from gateway.verify.result import SignatureCheck, not_checked
from gateway.verify.settings import Cover, IntakeSettings, Rule
from gateway.verify.signed_xml import SIGNATURE, NotTheSignedBody, signed_content
from signing import jws, xmldsig
from signing.messages import bilingual
from signing.report import Reason, SignatureReport, VerificationReport, Verdict
from signing.safe_input import Unreadable
from signing.trust import TrustError, TrustPolicy

log = logging.getLogger(__name__)

# Indeterminate for now, not for good: the revocation source may answer on the next try.
TRANSIENT = frozenset({Reason.TRY_LATER, Reason.REVOCATION_UNKNOWN})


class SignatureVerifier:
    """``verifier(client_name, data, encoding) -> SignatureCheck``: the intake's verify seam."""

    def __init__(self, settings: IntakeSettings, policies: dict[str, TrustPolicy], max_bytes: int) -> None:
        self.settings, self.policies, self.max_bytes = settings, policies, max_bytes

    @classmethod
    def from_config(cls, config: Config) -> "SignatureVerifier":
        settings = IntakeSettings.from_config(config)
        try:
            policies = {purpose: TrustPolicy.from_config(config, purpose) for purpose in sorted(settings.purposes)}
        except TrustError as exc:
            raise ConfigError(f"signing: {exc}") from exc
        return cls(settings, policies, config.max_bytes)

    def __call__(self, client: str, data: bytes, encoding: Encoding) -> SignatureCheck:
        rule = self.settings.rule(client)
        check = self._xml(rule, data) if encoding == "xml" else self._json(rule, data)
        if check.refuse:
            reasons = sorted({s.get("reason", "") for s in check.report.get("signatures", [])})
            log.info("signature refused for client %s (purpose %s): %s %s", client, rule.purpose, check.verdict,
                     ", ".join(reasons))
        return check

    # -- formats --

    def _xml(self, rule: Rule, data: bytes) -> SignatureCheck:
        if rule.mode == "off":
            return not_checked("signature.off")
        if b"Signature" not in data:  # an element name cannot hide behind a character reference
            return self._unsigned(rule)
        try:
            root = xmldsig.parse(data, self.max_bytes)
        except Unreadable:
            return not_checked()  # not readable: validation refuses it with the parser's own words
        if next(root.iter(SIGNATURE), None) is None:
            return self._unsigned(rule)
        report, covered = xmldsig.verify_xml(data, self.policies[rule.purpose], max_bytes=self.max_bytes)
        if covered is None or report.verdict is not Verdict.PASSED:
            return self._refused(rule, report)
        cover: Cover = "packet" if covered.getparent() is None else "body"
        if cover not in rule.covers:
            return self._refused(rule, _policy_failure(
                report, f"purpose {rule.purpose!r} needs the whole packet signed (URI=\"\" or the GoiTin's Id): "
                        "a signature over NoiDung alone leaves the envelope (sender, recipient, packet id) unsigned"))
        try:
            content = signed_content(covered)
        except NotTheSignedBody as exc:
            return self._refused(rule, _policy_failure(report, str(exc), Reason.FORMAT_FAILURE))
        return self._passed(rule, report, cover, content)

    def _json(self, rule: Rule, data: bytes) -> SignatureCheck:
        if rule.mode == "off":
            return not_checked("signature.off", content=jws.payload_of(data))
        if not jws.looks_like_jws(data):
            return self._unsigned(rule)
        report, packet = jws.verify_jws(data, self.policies[rule.purpose], max_bytes=self.max_bytes)
        if [s.reason for s in report.signatures] == [Reason.NO_SIGNATURE]:
            return self._unsigned(rule)  # a JSON packet that only mentions "payload" and "signature"
        if packet is None or report.verdict is not Verdict.PASSED:
            return self._refused(rule, report)
        return self._passed(rule, report, "packet", jws.canonical(packet))  # the payload: the bytes signed

    # -- outcomes --

    def _described(self, rule: Rule, report: VerificationReport, **extra: Any) -> dict[str, Any]:
        return {**report.to_dict(), "purpose": rule.purpose, "signatures_mode": rule.mode, **extra}

    def _passed(self, rule: Rule, report: VerificationReport, cover: Cover, content: bytes) -> SignatureCheck:
        notes: dict[str, Any] = {"covers": cover}
        if cover == "body":
            notes |= dict(zip(("note_vi", "note_en"), text("signature.body_only")))
        return SignatureCheck("passed", self._described(rule, report, **notes), content=content)

    def _unsigned(self, rule: Rule) -> SignatureCheck:
        described = {"verdict": "unsigned", "checked": True, "purpose": rule.purpose, "signatures_mode": rule.mode}
        if rule.mode == "required":
            detail = bilingual(Reason.NO_SIGNATURE, f"client policy requires a signature (purpose {rule.purpose})")
            return SignatureCheck("unsigned", {**described, "reason": Reason.NO_SIGNATURE.value, "detail": detail},
                                  refuse=True, rule="signature.required")
        return SignatureCheck("unsigned", described)

    def _refused(self, rule: Rule, report: VerificationReport) -> SignatureCheck:
        verdict = report.verdict
        reasons = {s.reason for s in report.signatures if s.verdict is verdict}
        later = verdict is Verdict.INDETERMINATE and bool(reasons & TRANSIENT)
        return SignatureCheck(verdict.value, self._described(rule, report), refuse=True,
                              retry_after=self.settings.retry_after_seconds if later else None)


def _policy_failure(report: VerificationReport, detail: str, reason: Reason = Reason.POLICY_FAILURE
                    ) -> VerificationReport:
    """The report with the gateway's own refusal of an otherwise valid signature added."""
    return VerificationReport(report.format, [*report.signatures,
                                              SignatureReport(Verdict.FAILED, reason, bilingual(reason, detail))])
