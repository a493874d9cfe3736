"""Operators' commands over a real store: list and filter jobs, inspect, replay with a dry run first,
pause and resume destinations — all audited with who and why."""

import json

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.store.api import JobFilter, JobState

DEST = "national_portal"  # a configured destination: the commands check names against the configuration


@pytest.fixture
def cli(store):
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, [*args, "--store", store.url])
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def test_list_show_replay_with_dry_run(store, feed, traffic, peer, policy, engines, until, cli):
    packets = traffic.dossier(5, 1)
    peer.set_faults(reject_keys=[packets[0].packet_id])
    feed(packets, destinations=(DEST,))
    engine = engines(policy(name=DEST))
    dead_id = f"{packets[0].packet_id}/{DEST}"
    until(lambda: store.get_job(dead_id).state is JobState.DEAD, what="dead letter")
    engine.stop()

    listed = json.loads(cli("jobs", "list", "--state", "dead", "--dossier", packets[0].dossier, "--json"))
    assert listed["total"] == 1 and listed["jobs"][0]["job_id"] == dead_id
    assert json.loads(cli("jobs", "list", "--state", "dead", "--type", "TienDoXuLy", "--json"))["total"] == 0
    shown = json.loads(cli("jobs", "show", dead_id, "--json"))
    assert shown["attempts"][0]["peer_status"] == "422" and "từ chối" in shown["attempts"][0]["message"]
    assert shown["attempts"][0]["transform"] is None  # the generic connector sends the packet as received

    dry = cli("jobs", "replay", "--destination", DEST, "--why", "đã sửa ánh xạ / mapping fixed", "--actor", "an.nv")
    assert "would replay: 1" in dry and store.get_job(dead_id).state is JobState.DEAD
    done = cli("jobs", "replay", "--destination", DEST, "--why", "đã sửa ánh xạ / mapping fixed", "--actor", "an.nv",
               "--yes")
    assert "replayed 1/1" in done
    assert store.get_job(dead_id).state is JobState.PENDING
    assert any("an.nv" in json.dumps(row, ensure_ascii=False, default=str) and
               "mapping fixed" in json.dumps(row, ensure_ascii=False, default=str) for row in store.audit_log(limit=20))

    peer.clear_faults()
    engines(policy(name=DEST))
    until(lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == 2, what="delivered")
    assert [d["key"] for d in peer.deliveries()] == [p.packet_id for p in packets]


def test_replay_counts_only_what_can_be_sent_again(store, feed, traffic, cli):
    purged, kept = traffic.dossier(6, 1), traffic.dossier(7, 1)
    feed(purged + kept, destinations=(DEST,))
    assert store.purge_dossier(purged[0].dossier, "dpo", "yêu cầu xoá") == 2  # its jobs are dead, payloads gone
    dry = cli("jobs", "replay", "--dossier", purged[0].dossier, "--why", "thử / try")
    assert "would replay: 0" in dry
    assert "would replay: 0" in cli("jobs", "replay", "--destination", DEST, "--why", "thử / try", "--yes")


def test_pause_resume_and_status(store, cli):
    cli("destinations", "pause", DEST, "--why", "Cổng DVC bảo trì / portal maintenance", "--actor", "binh.tt")
    status = json.loads(cli("destinations", "status", "--json"))
    row = next(r for r in status if r["destination"] == DEST)
    assert row["paused"] and "bảo trì" in row["pause_reason"]
    cli("destinations", "resume", DEST, "--actor", "binh.tt")
    assert not store.destination_state(DEST).paused
    trail = json.dumps(store.audit_log(limit=20), ensure_ascii=False, default=str)
    assert "binh.tt" in trail
