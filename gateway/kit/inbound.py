"""What a connector's inbound endpoint (a peer calling the gateway) needs beyond ``gateway.kit``: the
packet intake it adapts, the caller's identity and the refusal of an unknown one (audited), bounded body
reading, request limits, login lockout, password hashing, the hardened JSON reader, the status history a
batch is checked against, and the audit batcher. The intake's answers (Accepted, Refused, TryLater) are
``gateway.kit``'s: a delivery-side connector meets them too. Each name is exported in one place.
Imported only by connectors that receive, so that delivery-only ones stay light."""

from gateway.receive.auth import Client, Denied
from gateway.receive.body import Unread, read_body
from gateway.receive.denials import audit_denied
from gateway.receive.lifespan import close_on_shutdown
from gateway.receive.limits import Limited
from gateway.receive.lockout import account_key, audit_lock
from gateway.receive.ownership import Ownership
from gateway.receive.intake import PacketIntake, Prepared
from gateway.receive.passwords import hash_password, is_hash, is_legacy, verify_password, waste_time
from gateway.store.trail import AuditBatcher
from gateway.validate import wellformed
from gateway.validate.schema import field_label
from gateway.validate.semantic import NoHistory, StatusHistory, status_of

__all__ = ["AuditBatcher", "Client", "Denied", "Limited", "NoHistory", "Ownership", "PacketIntake", "Prepared",
           "StatusHistory", "Unread", "account_key", "audit_denied", "audit_lock", "close_on_shutdown", "field_label",
           "hash_password", "is_hash", "is_legacy", "read_body", "status_of", "verify_password", "waste_time",
           "wellformed"]
