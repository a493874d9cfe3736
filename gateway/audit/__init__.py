"""The tamper-evident audit log: a hash chain of entries with signed checkpoints, and its verification."""
