"""A worker process for the concurrency test: claims, "delivers" (a short sleep), completes,
and logs (monotonic time, event, job, key, seq) lines — CLOCK_MONOTONIC is system-wide on Linux."""

from datetime import UTC, datetime
import json
import sys
import time

from gateway.store import AttemptRecord, open_store


def main(url: str, worker: str, log_path: str) -> None:
    store = open_store(url, migrate=False)
    idle = 0
    with open(log_path, "w", encoding="utf-8") as log:
        while idle < 20:
            batches = store.claim("national_portal", worker, limit=4, max_batch=3, lease_seconds=300,
                                  now=datetime.now(UTC))
            if not batches:
                idle += 1
                time.sleep(0.02)
                continue
            idle = 0
            for batch in batches:
                taken = time.monotonic()
                time.sleep(0.002)
                for job in batch:
                    done = store.complete(job.job_id, worker, AttemptRecord(datetime.now(UTC), 2, "delivered", "200"))
                    log.write(json.dumps({"job": job.job_id, "key": job.ordering_key, "seq": job.seq,
                                          "taken": taken, "done": time.monotonic(), "ok": done}) + "\n")
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
