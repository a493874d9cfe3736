"""The durable store: packets exactly as received, delivery jobs, attempts, audit trail."""

from gateway.store.api import (AcceptResult, Admit, ApiClientRecord, AttemptRecord, AttemptView, BatchNotAdmitted, BreakerState,
                               ClaimedJob, DestinationState, JobFilter, JobState, JobView, NewPacket, NotAdmitted,
                               OnDead, PacketView, Store, open_store)

__all__ = ["AcceptResult", "Admit", "ApiClientRecord", "AttemptRecord", "AttemptView", "BatchNotAdmitted", "BreakerState", "ClaimedJob",
           "DestinationState", "JobFilter", "JobState", "JobView", "NewPacket", "NotAdmitted", "OnDead", "PacketView",
           "Store", "open_store"]
