"""The durable store: packets exactly as received, delivery jobs, attempts, audit trail."""

from gateway.store.api import (AcceptResult, AttemptRecord, AttemptView, BreakerState, ClaimedJob,
                               DestinationState, JobFilter, JobState, JobView, NewPacket, OnDead,
                               PacketView, Store, open_store)

__all__ = ["AcceptResult", "AttemptRecord", "AttemptView", "BreakerState", "ClaimedJob", "DestinationState",
           "JobFilter", "JobState", "JobView", "NewPacket", "OnDead", "PacketView", "Store", "open_store"]
