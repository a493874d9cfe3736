"""``gateway demo``: the main job on embedded defaults, for a newcomer to watch.

1. validate every bundled example (valid ones, then deliberately broken ones);
2. start the gateway in one process (API + delivery, SQLite in a temporary folder) and a local
   destination with switchable faults; push the examples and a few hundred generated dossier
   packets; show them delivered, each dossier in order;
3. switch an outage on at the destination: retries, the circuit opens; switch it off: recovery;
4. the destination refuses one packet: a dead letter holds its dossier; an operator replays it.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
import hashlib
import json
import os
from pathlib import Path
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx
from rich.console import Console
import typer

from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config, validate_file
from gateway.deliver.testpeer import FaultyPeer
from gateway.deliver.traffic import Packet, Traffic
from gateway.store import JobFilter, JobState, Store, open_store
from gateway.validate.pipeline import Validator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DESTINATIONS = ("national_portal", "postal", "payment", "provincial_portal", "catalogue")
console = Console(soft_wrap=True, highlight=False)


def _validate_examples(validator: Validator) -> None:
    for title, folder in (("Gói tin mẫu hợp lệ / valid examples", EXAMPLES),
                          ("Gói tin mẫu có lỗi / broken examples", EXAMPLES / "invalid")):
        console.rule(title)
        for path in sorted(folder.glob("*.xml")) + sorted(folder.glob("*.json")):
            report = validate_file(validator, path)
            mark = "[green]✓ hợp lệ / valid[/]" if report.valid else f"[red]✗ {len(report.errors)} lỗi / errors[/]"
            console.print(f"{path.relative_to(EXAMPLES.parent)}  {mark}")
            for issue in report.errors:
                console.print(f"    {issue.path or '—'} [dim]{issue.rule}[/]  {issue.message_vi}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path, peer: FaultyPeer, key: str) -> Path:
    lines = [f'[store]\nurl = "sqlite:///{folder}/gateway.db"\n',
             f'[clients.demo]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n',
             '[delivery]\npoll_seconds = 0.02\nhold_check_seconds = 0.2\n']
    for name in DESTINATIONS:  # the embedded destinations, pointed at the local one, with demo-sized timings
        lines.append(f'[destinations.{name}]\nurl = "{peer.base}/{name}"\ntimeout_seconds = 2.0\n'
                     'backoff_base_seconds = 0.2\nbackoff_cap_seconds = 1.0\nbreaker_threshold = 5\n'
                     'breaker_cooldown_seconds = 2.0\nlease_seconds = 10.0\n')
    path = folder / "demo.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@contextmanager
def _gateway(config: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``gateway run`` — the API and delivery in one process — stopped with SIGTERM at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "from gateway.cli import main; main()", "run",
                                    "--config", str(config), "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not start; see {log}:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


class _Sender:
    def __init__(self, base: str, key: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"},
                                   limits=httpx.Limits(max_connections=8))

    def post(self, raw: bytes, encoding: str) -> httpx.Response:
        return self.client.post("/v1/packets", content=raw, headers={"Content-Type": f"application/{encoding}"})

    def dossiers(self, dossiers: list[list[Packet]]) -> float:
        """Sends every dossier, each in order, four dossiers at a time; seconds taken."""
        def one(packets: list[Packet]) -> None:
            for packet in packets:
                answer = self.post(packet.raw, packet.encoding)
                if answer.status_code not in (200, 202):
                    raise RuntimeError(f"{packet.packet_id}: {answer.status_code} {answer.text[:300]}")
        began = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, dossiers))
        return time.perf_counter() - began


def _wait(condition: Callable[[], bool], timeout: float = 40.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _in_order(peer: FaultyPeer, dossiers: list[list[Packet]]) -> tuple[int, int]:
    """(dossiers whose packets arrived in sending order, dossiers checked), first arrivals only."""
    seen: set[str] = set()
    arrived: dict[str, list[str]] = defaultdict(list)
    for d in peer.deliveries():
        if d["key"] not in seen:
            seen.add(d["key"])
            arrived[d["dossier"]].append(d["key"])
    good = sum(1 for d in dossiers if arrived.get(d[0].dossier) == [p.packet_id for p in d])
    return good, len(dossiers)


def _delivered(store: Store, packets: list[Packet]) -> Callable[[], bool]:
    ids = {p.packet_id for p in packets}
    return lambda: ids <= {j.packet_id for j in store.find_jobs(JobFilter(state=JobState.DELIVERED, limit=100_000))}


def _step(n: int, vi: str, en: str) -> None:
    console.rule(f"Bước {n} — {vi} / Step {n} — {en}")


def _flow() -> None:
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="gateway-demo-") as tmp, FaultyPeer() as peer:
        folder = Path(tmp)
        config, port = _config(folder, peer, key), _free_port()
        _step(1, "khởi động cổng (API + chuyển tiếp, một tiến trình, SQLite)",
              "start the gateway (API + delivery, one process, SQLite)")
        console.print(f"Đích nhận thử / local destination: {peer.base}  ·  kho / store: {folder}/gateway.db")
        with _gateway(config, port, folder / "gateway.log"):
            store = open_store(f"sqlite:///{folder}/gateway.db", migrate=False)
            sender = _Sender(f"http://127.0.0.1:{port}", key)
            try:
                _examples(sender, store, peer)
                _traffic(sender, store, peer)
                _outage(sender, store, peer)
                _dead_letter(sender, store, peer)
            finally:
                store.close()
                sender.client.close()
        console.rule("Xong / done")
        console.print("Cổng đã dừng sạch (SIGTERM): việc chưa gửi được trả lại kho, không mất gì. / "
                      "The gateway stopped cleanly (SIGTERM): unsent jobs went back to the store, nothing lost.")


def _examples(sender: _Sender, store: Store, peer: FaultyPeer) -> None:
    _step(2, "gửi các gói tin mẫu", "send the bundled examples")
    sent = []
    for path in sorted(EXAMPLES.glob("*.json"), key=lambda p: (p.stem != "HoSo", p.stem)):
        answer = sender.post(path.read_bytes(), "json")
        body = answer.json()
        if answer.status_code == 202:
            sent.append(body["MaGoiTin"])
            console.print(f"  {path.name:24} [green]202[/] nhận / accepted → {', '.join(body['NoiNhan'])}")
        else:
            console.print(f"  {path.name:24} [yellow]{answer.status_code}[/] {body.get('message_vi')} / {body.get('message_en')}")
    twin = sender.post((EXAMPLES / "HoSo.xml").read_bytes(), "xml")
    console.print(f"  HoSo.xml (cùng MaGoiTin với HoSo.json / same MaGoiTin as HoSo.json): [yellow]{twin.status_code}[/] "
                  f"{twin.json().get('message_vi', '')} / {twin.json().get('message_en', '')}")
    again = sender.post((EXAMPLES / "HoSo.json").read_bytes(), "json")
    console.print(f"  HoSo.json gửi lại / resent: [green]{again.status_code}[/] {again.json().get('KetQua')} — "
                  "biên nhận gốc, không chuyển tiếp lần hai / the original receipt, no second delivery")
    ids = set(sent)
    _wait(lambda: ids <= {j.packet_id for j in store.find_jobs(JobFilter(state=JobState.DELIVERED, limit=1000))})
    routes = defaultdict(int)
    for d in peer.deliveries():
        routes[d["key"]] += 1
    console.print(f"  Đã chuyển / delivered: {len([k for k in ids if routes[k]])}/{len(ids)} gói tin, "
                  f"{sum(routes.values())} lần giao tới các đích / deliveries to the destinations")


def _traffic(sender: _Sender, store: Store, peer: FaultyPeer) -> None:
    _step(3, "vài trăm gói tin hồ sơ và tiến độ", "a few hundred dossier packets and progress steps")
    traffic = Traffic(seed=int(time.time()))
    dossiers = [traffic.dossier(n, steps=5, encoding="json" if n % 4 else "xml") for n in range(1, 61)]
    packets = [p for d in dossiers for p in d]
    seconds = sender.dossiers(dossiers)
    console.print(f"  {len(packets)} gói tin của {len(dossiers)} hồ sơ được nhận bền vững trong {seconds:.1f} s / "
                  f"{len(packets)} packets of {len(dossiers)} dossiers durably accepted")
    began = time.perf_counter()
    _wait(_delivered(store, packets))
    good, total = _in_order(peer, dossiers)
    console.print(f"  Đã chuyển hết sau {time.perf_counter() - began:.1f} s / all delivered; "
                  f"[green]{good}/{total} hồ sơ đúng thứ tự / dossiers in order[/] "
                  f"(bước của một hồ sơ được gộp tối đa 10 gói mỗi lần gọi / steps of one dossier batched up to 10 per call: "
                  f"{max(d['batch'] for d in peer.deliveries())} nhiều nhất / at most)")


def _breaker(store: Store) -> str:
    return str(store.destination_state("national_portal").breaker_state)


def _outage(sender: _Sender, store: Store, peer: FaultyPeer) -> None:
    _step(4, "Cổng DVC quốc gia gặp sự cố", "the national portal has an outage")
    peer.set_faults(error_rate=1.0)
    console.print("  Bật lỗi / fault on: mọi lời gọi trả 500 / every call answers 500")
    traffic = Traffic(seed=int(time.time()) + 1)
    dossiers = [traffic.dossier(n, steps=3, prefix="241202") for n in range(1, 11)]
    packets = [p for d in dossiers for p in d]
    sender.dossiers(dossiers)
    console.print(f"  {len(packets)} gói tin vẫn được nhận (202) trong lúc đích lỗi / still accepted during the outage")
    _wait(lambda: _breaker(store) == "open", 20)
    retried = [j for j in store.find_jobs(JobFilter(destination="national_portal", state=JobState.PENDING, limit=1000))
               if j.attempts > 0]
    console.print(f"  Mạch ngắt / circuit: [red]{_breaker(store)}[/] — sau 5 lỗi liên tiếp ngừng gọi, thử lại sau "
                  f"2 s / after 5 failures in a row calls stop, a probe after 2 s; {len(retried)} việc chờ thử lại "
                  "(lùi dần, ngẫu nhiên) / jobs waiting to retry (backoff with jitter)")
    time.sleep(1.0)
    peer.clear_faults()
    console.print("  Tắt lỗi / fault off: đích hoạt động lại / the destination is back")
    began = time.perf_counter()
    _wait(_delivered(store, packets))
    good, total = _in_order(peer, dossiers)
    console.print(f"  Mạch / circuit: [green]{_breaker(store)}[/]; đã chuyển hết sau {time.perf_counter() - began:.1f} s "
                  f"/ all delivered; [green]{good}/{total} hồ sơ đúng thứ tự / dossiers in order[/]")


def _dead_letter(sender: _Sender, store: Store, peer: FaultyPeer) -> None:
    _step(5, "đích từ chối một gói tin: thư chết và gửi lại", "the destination refuses a packet: dead letter and replay")
    dossier = Traffic(seed=int(time.time()) + 2).dossier(1, steps=3, prefix="241203")
    refused = dossier[1]
    peer.set_faults(reject_keys=[refused.packet_id])
    sender.dossiers([dossier])
    job_id = f"{refused.packet_id}/national_portal"
    _wait(lambda: (job := store.get_job(job_id)) is not None and job.state is JobState.DEAD, 20)
    job = store.get_job(job_id)
    assert job is not None
    console.print(f"  Hồ sơ / dossier {refused.dossier}: bước 2 bị từ chối / step 2 refused → [red]{job.state}[/] "
                  f"sau {job.attempts} lần / after {job.attempts} attempt(s)")
    console.print(f"  Lời đích / the destination said: “{job.last_error}”")
    later = store.get_job(f"{dossier[-1].packet_id}/national_portal")
    console.print(f"  Bước sau giữ lại / later steps held: {later.state if later else '—'} (on_dead = \"hold\")")
    peer.clear_faults()
    console.print("  Đích sửa ánh xạ / the destination fixed its mapping; vận hành viên gửi lại / an operator replays:")
    console.print("    gateway jobs replay --dossier … --why \"…\" --yes   (đếm trước / counts first, ghi nhật ký / audited)")
    count = store.replay(JobFilter(dossier=refused.dossier, state=JobState.DEAD), "demo-operator",
                         "Đích đã sửa ánh xạ / destination fixed its mapping", dry_run=True)
    console.print(f"    thử / dry run: {count} việc / job(s)")
    store.replay([job_id], "demo-operator", "Đích đã sửa ánh xạ / destination fixed its mapping")
    _wait(_delivered(store, dossier), 20)
    good, _ = _in_order(peer, [dossier])
    replayed = store.get_job(job_id)
    console.print(f"  Sau khi gửi lại / after replay: {replayed.state if replayed else '—'}, "
                  f"{replayed.attempts if replayed else 0} lần thử được giữ / attempts kept; "
                  f"hồ sơ đúng thứ tự / dossier in order: {'[green]có / yes[/]' if good else '[red]không / no[/]'}")
    trail = [row for row in store.audit_log(limit=20) if "replay" in json.dumps(row, default=str)]
    if trail:
        row = trail[0]
        console.print(f"  Nhật ký / audit: {row.get('actor')} · {row.get('action')} · {row.get('detail')}")


@app.command()
def demo(config: ConfigOption = None,
         validate_only: bool = typer.Option(False, "--validate-only", help="Only the example validation.")) -> None:
    """The main job, narrated: validate the examples, then accept and deliver packets through a local destination
    with faults, a dead letter and its replay / chạy thử toàn bộ luồng."""
    _validate_examples(Validator(load_config(config)))
    if not validate_only:
        os.environ.pop("GATEWAY_CONFIG", None)  # the flow runs on its own temporary configuration
        _flow()
