"""What a destination connector promises the delivery engine.

The engine owns durability, ordering, retries, circuit breaking and dead letters;
a connector only turns a batch of stored packets into calls to its peer and says,
for each, how it went — so the engine can decide what happens next.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from collections.abc import Sequence

from gateway.packets.envelope import GoiTin


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # try again later (timeouts, 5xx, 429, maintenance)
    PERMANENT = "permanent"  # the peer refuses this content: dead letter, with its message


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message: str = ""  # the peer's own answer, kept for the operator (no personal data)
    retry_after: float | None = None  # seconds, when the peer said (HTTP Retry-After)
    peer_status: str | None = None  # HTTP status and/or the peer's error code
    warnings: tuple[str, ...] = ()  # e.g. fields cut to the peer's length limits
    # About this packet's dossier only (not on the peer yet, one item refused), not the peer's health:
    # it never moves the circuit breaker.
    dossier_only: bool = False
    max_age_seconds: float | None = None  # a tighter bound than the destination's max age for this retry


@dataclass(frozen=True)
class Delivery:
    """One job handed to a connector: the packet, the key that makes retries idempotent, and its attempt."""

    job_id: str
    idempotency_key: str  # the sender's MaGoiTin: the same on every retry and replay
    packet: GoiTin
    raw: bytes  # exactly the bytes received (and signed)
    attempt: int


class Connector(Protocol):
    """A destination. ``max_batch`` > 1 lets the engine hand over several jobs of one
    ordering key at once (in order); the outcomes come back in the same order, and
    the engine stops at the first job that was not delivered."""

    name: str
    max_batch: int
    # What turns packets into the peer's calls, recorded with every attempt — e.g. the status mapping
    # table's digest, so that a replay after a corrected mapping shows which table each attempt ran.
    # None: the packet travels as received.
    transform: str | None

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]: ...

    def close(self) -> None: ...
