"""The verify step of the data path (receive → validate → verify → persist → route → deliver → receipt):
a sender's signature checked on the received bytes, before validation reads what it covers."""

from gateway.verify.result import SignatureCheck, not_checked
from gateway.verify.settings import IntakeSettings, Rule
from gateway.verify.verifier import SignatureVerifier

__all__ = ["IntakeSettings", "Rule", "SignatureCheck", "SignatureVerifier", "not_checked"]
