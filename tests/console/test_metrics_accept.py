"""gateway_accept_seconds: the intake's times are kept in the process and handed to the histogram in batches; a
scrape still counts every answer already given, each in the bucket a direct observation would have put it in."""

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.parser import text_string_to_metric_families

from gateway.observe import metrics
from gateway.store import open_store


def _accept_samples(text: str) -> dict[tuple[str, str, str], float]:
    return {(s.name, s.labels.get("status", ""), s.labels.get("le", "")): s.value
            for family in text_string_to_metric_families(text) if family.name == "gateway_accept_seconds"
            for s in family.samples if s.name != "gateway_accept_seconds_created"}


def test_a_scrape_counts_every_answer_given(tmp_path: object) -> None:
    app = FastAPI()
    store = open_store(f"sqlite:///{tmp_path}/empty.db")
    metrics.install(app, lambda: store.engine)
    answers = iter([202] * 7 + [400] * 3)

    @app.post("/v1/packets")
    def intake() -> Response:
        return Response(status_code=next(answers))

    with TestClient(app) as client:
        before = _accept_samples(metrics.generate_latest(metrics.REGISTRY).decode())
        for _ in range(10):
            client.post("/v1/packets", content=b"{}")
        after = _accept_samples(client.get("/metrics").text)  # at once: the flush a second later has not run
    store.close()
    grown = {key: value - before.get(key, 0.0) for key, value in after.items()}
    assert grown[("gateway_accept_seconds_count", "202", "")] == 7
    assert grown[("gateway_accept_seconds_count", "400", "")] == 3
    assert grown[("gateway_accept_seconds_bucket", "202", "+Inf")] == 7
    assert 0 < grown[("gateway_accept_seconds_sum", "202", "")] < 60


def test_a_flush_fills_the_buckets_as_observing_would() -> None:
    times = [0.0005, 0.002, 0.0021, 0.004, 0.01, 0.3, 0.3, 4.9, 7.5]
    reference = Histogram("reference_seconds", "same buckets", ["status"], registry=CollectorRegistry(),
                          buckets=metrics.ACCEPT_SECONDS.labels("299")._upper_bounds)
    child = reference.labels("299")
    for seconds in times:
        child.observe(seconds)
    kept = metrics.ACCEPT_SECONDS.labels("299")
    before = [b.get() for b in kept._buckets], kept._sum.get()
    metrics._PENDING.extend((299, seconds) for seconds in times)
    metrics.flush_accept_times()
    assert not metrics._PENDING
    assert [b.get() - was for b, was in zip(kept._buckets, before[0])] == [b.get() for b in child._buckets]
    assert abs(kept._sum.get() - before[1] - child._sum.get()) < 1e-9
