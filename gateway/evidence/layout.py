"""What an evidence bundle holds and where: shared by the exporter and the offline verifier."""

import re

KIND = "cong-ket-noi/evidence/1"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.jws"  # the manifest signed by the gateway's key (absent: no key configured)
ENTRIES = "audit/entries.jsonl"  # the chain from the dossier's first entry to the checkpoint
CHECKPOINT = "audit/checkpoint.json"

# Bounds for reading a bundle handed in by someone else.
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(identifier: str) -> str:
    """An id as a file name in the zip (ids are the senders' and may hold anything)."""
    return _UNSAFE.sub("_", identifier)[:80] or "_"
