"""The narration behind ``python -m demo`` (what ``./run`` shows): the main job on embedded defaults, for a newcomer to watch.

1. validate every bundled example (valid ones, then deliberately broken ones);
2. start the simulated national portal, a test timestamp authority and the gateway (API + delivery,
   SQLite, a signing key made now: receipts and audit checkpoints signed and timestamped) as local
   processes, with the simulators of the provincial portal, the population database, the payment platform
   (a test bank made now) and the postal service, and a generic local destination for the catalogue;
3. citizen look-ups through the gateway (found, not found, refused for lack of a purpose, a database fault);
4. play a working day of a province's one-stop shops over HTTP — a few hundred dossier and progress
   packets, every national status, JSON and XML, a few wrong ones — while the portal is flaky, loses
   its sessions and goes into maintenance, the payment platform fails its INIT calls and the postal
   service fails or loses answers; fees are paid and their receipts forwarded, results go by post and
   the postal tracking brings status 10;
5. one dossier the portal refuses: a dead letter holds it; once the portal is fixed an operator replays it;
   a payment receipt arrives tampered and is stopped;
6. check, not assume: every peer's record against what was sent, per dossier and in order; the audit
   chain and a dossier's evidence bundle, its checkpoint's timestamp included.
Logs, the store and the portal's record stay in a folder it names.
"""

from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, time as clock_time, timedelta
import hashlib
import json
import os
from pathlib import Path
import secrets
import shlex
import string
import tempfile
import threading
import time
import traceback
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import httpx
from rich.console import Console
from rich.live import Live
from rich.text import Text
import typer

from gateway.cli.validate import load_config, validate_file
from gateway.config import Config
from gateway.console.accounts import Accounts
from demo import check, lookups, payment, postal, processes
from demo.day import Day, build_day
from demo.play import Answer, Moment, Sender, Tally, play
from demo.portal import PortalAdmin, outcomes
from demo.testpeer import FaultyPeer
from gateway.kit.harness import AdminClient
from gateway.store import JobFilter, JobState, Store, open_store
from gateway.validate.pipeline import Validator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CONFIG = Path(__file__).with_name("config.toml")
PEER_DESTINATIONS = ("catalogue",)  # the provincial portal, payment and postal have their simulators
X_ROAD_CLIENT = "VN/GOV/000.00.00.H22/MOTCUA"  # the province's member code, as the database knows it
REFUSAL = "Mã đơn vị tiếp nhận của hồ sơ chưa được khai báo trên Cổng DVC quốc gia"
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


def _step(n: int, vi: str, en: str) -> None:
    console.print(f"\n[bold]━━ Bước {n} — {vi} / Step {n} — {en}[/]")


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _console_account(store: Store, port: int) -> None:
    """A demo operator with a password made up now and printed once (changed at first login)."""
    password = secrets.token_urlsafe(12)
    Accounts(store.engine).add("demo-admin", password, "admin", ["*"], must_change=True)  # type: ignore[attr-defined]  # the SQL store has an engine
    console.print(f"  Bảng điều khiển / operators' console: http://localhost:{port}/console/  —  đăng nhập / log in: "
                  f"demo-admin / {password}  (đổi mật khẩu ở lần đầu / change it at first login)")


# What a run leaves in its folder that the next run must not inherit: the gateway's store (its demo operator,
# its jobs, the packets' ids, which the seeded day repeats) and the portal connector's ledger.
STATE = ("gateway.db", "gateway.db-wal", "gateway.db-shm", "gateway.db-journal", "national_portal_ledger.sqlite",
         "national_portal_ledger.sqlite-wal", "national_portal_ledger.sqlite-shm", "evidence.zip", "summary.json",
         "demo-error.log")


def _fresh(folder: Path) -> None:
    """A folder from an earlier run starts again from an empty store; its old logs are kept, run after run."""
    earlier = [name for name in STATE if (folder / name).exists()]
    if not earlier:
        return
    for name in earlier:
        (folder / name).unlink()
    console.print(f"  Thư mục của lần chạy trước: kho cũ đã xoá, chạy lại từ đầu / a folder from an earlier run: its "
                  f"store was removed, the run starts afresh ({', '.join(earlier)})")


def _signing_key(folder: Path) -> tuple[Path, Path]:
    """The gateway's own key for this run, self-certified: made now, never reused."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cổng kết nối — chạy thử / demo")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=7)).sign(key, hashes.SHA256()))
    key_path, cert_path = folder / "gateway-key.pem", folder / "gateway-cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _config(folder: Path, peer: FaultyPeer, portal_port: int, key: str, tsa_port: int, provincial_port: int,
            population_port: int, payment_port: int, postal_port: int) -> Path:
    """The demo's configuration (``demo/config.toml``) for this run: its store, client, addresses, signing key,
    TSA and demo-sized timings over the embedded defaults."""
    signing_key, signing_cert = _signing_key(folder)
    timings = ('timeout_seconds = 2.0\nbackoff_base_seconds = 0.2\nbackoff_cap_seconds = 1.0\nbreaker_threshold = 5\n'
               'breaker_cooldown_seconds = 2.0\nlease_seconds = 10.0\n')
    text = string.Template(CONFIG.read_text(encoding="utf-8")).substitute(
        folder=folder, signing_key=signing_key, signing_cert=signing_cert, tsa_port=tsa_port,
        key_sha256=hashlib.sha256(key.encode()).hexdigest(), portal_port=portal_port, peer=peer.base,
        provincial_port=provincial_port, population_port=population_port, x_road_client=X_ROAD_CLIENT,
        payment_port=payment_port, payment_partner=payment.PARTNER, postal_port=postal_port,
        postal_customer=postal.CUSTOMER, postal_senders=postal.senders_toml(),
        timings=timings)
    path = folder / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Watch:
    """Polls the store and the portal while the day plays, for the progress line and the breaker's story."""

    def __init__(self, store: Store, portal: PortalAdmin, tally: Tally, echo_seconds: float = 0.0) -> None:
        self.store, self.portal, self.tally = store, portal, tally
        self.echo_seconds = echo_seconds  # > 0: print the line this often (output that is not a terminal)
        self.counts: dict[str, int] = {}
        self.on_portal = {"dossiers": 0, "progress": 0}
        self.breaker = "closed"
        self.breaker_opened = 0
        self.fault = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        echoed = time.monotonic()
        while not self._stop.wait(0.3):
            if self.echo_seconds and time.monotonic() - echoed >= self.echo_seconds:
                console.print(self.__rich__())
                echoed = time.monotonic()
            try:
                self.counts = self.store.counts().get("national_portal", {})
                stats = self.portal.stats()
                self.on_portal = {"dossiers": stats["dossiers"], "progress": stats["progress"]}
                breaker = str(self.store.destination_state("national_portal").breaker_state)
            except Exception:  # noqa: BLE001,S112 - a poll that fails only leaves the line as it was
                continue
            if breaker == "open" and self.breaker != "open":
                self.breaker_opened += 1
            self.breaker = breaker

    def __rich__(self) -> Text:
        t = self.tally
        waiting = self.counts.get("pending", 0) + self.counts.get("leased", 0)
        line = (f"  ⏱ {t.clock} │ gửi/sent {t.sent}/{t.total}, nhận/accepted {t.accepted}, từ chối/refused {t.refused} "
                f"│ cổng/portal {self.on_portal['dossiers']} hồ sơ/dossiers, {self.on_portal['progress']} bước/steps "
                f"│ chờ/waiting {waiting} │ mạch/circuit {self.breaker}")
        return Text(line + (f" │ {self.fault}" if self.fault else ""))

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _examples(sender: Sender, answers: dict[str, Answer], provincial: AdminClient) -> None:
    _step(2, "gửi các gói tin mẫu", "send the bundled examples")
    provincial.faults(fail_next=4, fail_status=503)
    console.print("  [yellow]⚡[/] Cổng tỉnh đang bảo trì: 4 lời gọi webhook đầu trả 503 / the provincial portal is "
                  "under maintenance: its first 4 webhook calls answer 503")
    for path in sorted(EXAMPLES.glob("*.json"), key=lambda p: (p.stem != "HoSo", p.stem)):
        answer = sender.post(path.read_bytes(), "json")
        answers[str(answer.body.get("MaGoiTin", path.stem))] = answer
        if path.stem == "BienNhan":
            console.print(f"  {path.name:24} [yellow]{answer.status}[/] biên nhận do cổng phát hành, không chuyển "
                          "tiếp / the gateway's own receipt type, never routed")
        elif answer.status == 202:
            console.print(f"  {path.name:24} [green]202[/] nhận / accepted → {', '.join(answer.body['NoiNhan'])}")
        else:
            console.print(f"  {path.name:24} [yellow]{answer.status}[/] {answer.body.get('message_vi')} / "
                          f"{answer.body.get('message_en')}")
    twin = sender.post((EXAMPLES / "HoSo.xml").read_bytes(), "xml")
    console.print(f"  HoSo.xml (cùng MaGoiTin với HoSo.json / same MaGoiTin as HoSo.json): [yellow]{twin.status}[/] "
                  f"{twin.body.get('message_vi', '')} / {twin.body.get('message_en', '')}")
    again = sender.post((EXAMPLES / "HoSo.json").read_bytes(), "json")
    console.print(f"  HoSo.json gửi lại / resent: [green]{again.status}[/] {again.body.get('KetQua')} — "
                  "biên nhận gốc, không chuyển tiếp lần hai / the original receipt, no second delivery")


def _lookups(gateway_url: str, key: str, database: AdminClient) -> lookups.LookupCheck:
    """An officer looks citizens up for the example dossier (accepted in step 2) through the gateway."""
    console.print("\n  [bold]Tra cứu công dân qua cổng kết nối / citizen look-ups through the gateway[/] "
                  "(POST /v1/citizens/lookup → CSDLQG về dân cư mô phỏng / the simulated population database, SOAP)")
    dossier = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))["NoiDung"]["HoSo"]["MaHoSo"]
    said = {"found": ("tìm thấy", "found"), "not_found": ("sai họ tên: không tìm thấy", "wrong name: not found"),
            "no_purpose": ("thiếu mục đích (MaCanBo, MaDVC)", "no purpose given (MaCanBo, MaDVC)"),
            "fault": ("CSDL dân cư gặp sự cố (soap:Server) một lần", "the database faults (soap:Server) once"),
            "after_fault": ("hỏi lại sau sự cố", "asked again after the fault")}
    with httpx.Client(base_url=gateway_url, timeout=30, trust_env=False,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        result = lookups.look_up(http, database, dossier)
    for call in result.calls:
        vi, en = said[call.case]
        if call.status == 200:
            outcome = (f"[green]200[/] found={str(call.body.get('found')).lower()}" +
                       (f", MaYeuCau {call.body.get('MaYeuCau')}" if call.body.get("MaYeuCau") else ""))
        else:
            outcome = (f"[yellow]{call.status}[/] {call.body.get('error', '')}: {call.body.get('message_vi', '')} / "
                       f"{call.body.get('message_en', '')}" +
                       (f" (Retry-After {call.retry_after} s)" if call.retry_after else ""))
        console.print(f"  {vi} / {en} — {call.who}: {outcome}")
    return result


def _moments(portal: PortalAdmin, watch: Watch, platform: AdminClient, post: AdminClient) -> list[Moment]:
    def say(vi: str, en: str, fault: str, **changes: Any) -> Callable[[], None]:
        def act() -> None:
            if changes:
                portal.faults(**changes)
            else:
                portal.revoke_sessions()
            watch.fault = fault
            console.print(f"  [yellow]⚡ {watch.tally.clock}[/] {vi} / {en}")
        return act

    def platform_fault(vi: str, en: str, code: str, times: int) -> Callable[[], None]:
        def act() -> None:
            platform.faults(init_error=code, init_error_times=times)
            console.print(f"  [yellow]⚡ {watch.tally.clock}[/] {vi} / {en}")
        return act

    def postal_fault(vi: str, en: str, **changes: Any) -> Callable[[], None]:
        def act() -> None:
            post.faults(**changes)
            console.print(f"  [yellow]⚡ {watch.tally.clock}[/] {vi} / {en}")
        return act

    return [
        Moment(clock_time(10, 0), postal_fault("Bưu chính chập chờn: 30 % lời gọi lỗi 500, 10 % mất câu trả lời",
                                               "the postal service is flaky: 30 % of calls fail with 500, 10 % lose "
                                               "their answer", error_rate=0.3, lost_answer_rate=0.1,
                                               hang_seconds=0.5)),
        Moment(clock_time(15, 30), postal_fault("Bưu chính ổn định lại", "the postal service is stable again",
                                                error_rate=0.0, lost_answer_rate=0.0)),
        # a count, not a time window: however fast the day runs, some INIT calls meet it
        Moment(clock_time(8, 0), platform_fault("Nền tảng thanh toán lỗi hệ thống: 3 lần khởi tạo thanh toán tới "
                                                "trả mã 96", "the payment platform has a system error: its next 3 "
                                                "INIT calls answer code 96", "96", times=3)),
        Moment(clock_time(9, 30), say("Cổng DVC quốc gia chập chờn: 30 % lời gọi lỗi 500, 5 % treo quá thời gian chờ",
                                      "the portal is flaky: 30 % of calls fail with 500, 5 % hang past the timeout",
                                      "sự cố / fault: 30 % lỗi", error_rate=0.3, timeout_rate=0.05, hang_seconds=3)),
        Moment(clock_time(11, 0), say("Cổng DVC quốc gia ổn định lại", "the portal is stable again", "",
                                      error_rate=0.0, timeout_rate=0.0)),
        Moment(clock_time(12, 15), say("Cổng DVC quốc gia khởi động lại: mọi phiên đăng nhập mất hiệu lực",
                                       "the portal restarted: every session is void", "")),
        Moment(clock_time(14, 0), say("Cổng DVC quốc gia bảo trì (503, Retry-After 2 s)",
                                      "the portal is under maintenance (503, Retry-After 2 s)", "bảo trì / maintenance",
                                      maintenance=True, maintenance_retry_after=2)),
        Moment(clock_time(15, 0), say("Hết bảo trì", "maintenance over", "", maintenance=False)),
    ]


def _fees(day: Day, answers: dict[str, Answer]) -> list[str]:
    """The day's dossiers whose status-6 HoSo (fees asked) the gateway accepted for payment."""
    return sorted({p.dossier for p in day.packets if p.packet_type == "HoSo" and not p.flaw and p.body
                   and p.body.get("TrangThaiHoSo") == 6 and "payment" in
                   answers.get(p.packet_id, Answer(0, {})).body.get("NoiNhan", [])})


def _settled(store: Store, dossiers: list[str]) -> bool:
    return all((rows := store.payments_of(d)) and rows[-1]["state"] not in ("new", "initiated", "confirmed",
                                                                             "verified") for d in dossiers)


def _tampered(sender: Sender, store: Store, platform: AdminClient, day: Day, answers: dict[str, Answer]) -> str:
    """One more dossier asks for fees while the platform hands out a tampered receipt: the gateway must stop it."""
    _step(6, "thanh toán trực tuyến: một biên lai bị sửa", "online payment: a tampered receipt")
    fees = _fees(day, answers)
    _wait(lambda: _settled(store, fees), 30)
    states = [rows[-1]["state"] for d in fees if (rows := store.payments_of(d))]
    console.print(f"  Trong ngày / during the day: {len(fees)} hồ sơ yêu cầu phí / dossiers asked for fees → "
                  f"{states.count('forwarded')} thanh toán xong, biên lai ngân hàng đã kiểm tra chữ ký và chuyển "
                  "cổng tỉnh / paid, the bank's receipt verified and forwarded to the provincial portal")
    code = f"000.00.01.H22-{day.date:%y%m%d}-9001"
    platform.faults(receipt="tampered")
    console.print("  [yellow]⚡[/] Nền tảng thanh toán gửi biên lai đã bị sửa nội dung sau khi ký / the platform hands "
                  "out a receipt altered after it was signed")
    answer = sender.post(payment.fees_dossier(code, datetime.now(Config.load().zone)), "json")
    answers[str(answer.body.get("MaGoiTin", code))] = answer
    console.print(f"  HoSo {code} (trạng thái 6, lệ phí 150.000 đ / status 6, a fee of 150,000 VND): "
                  f"{answer.status} → {', '.join(answer.body.get('NoiNhan', []))}")
    _wait(lambda: _settled(store, [code]), 30)
    platform.faults(receipt="ok")
    rows = store.payments_of(code)
    if rows:
        detail = rows[-1].get("detail") or {}
        console.print(f"  Cổng kết nối / the gateway: {rows[-1]['state']} ({detail.get('reason', '')}) — "
                      f"{detail.get('reason_vi', '')} / {detail.get('reason_en', '')}")
    return code


def _undelivered(store: Store) -> int:
    return sum(n for states in store.counts().values() for state, n in states.items() if state != "delivered")


def _the_day(sender: Sender, store: Store, portal: PortalAdmin, day: Day, refused: str, seconds: float,
             answers: dict[str, Answer], platform: AdminClient, post: AdminClient) -> Watch:
    _step(3, "một ngày làm việc của bộ phận một cửa", "a working day of the one-stop shops")
    paths = sorted({d.path for d in day.dossiers})
    console.print(f"  {len(day.packets)} gói tin / packets: {len(day.dossiers)} hồ sơ / dossiers "
                  f"({len({d.procedure for d in day.dossiers})} thủ tục / procedures; {', '.join(paths)}), "
                  f"trạng thái / statuses 1–10, JSON + XML; {sum(1 for p in day.packets if p.flaw)} gói tin sai cố ý / "
                  "deliberately wrong packets")
    console.print(f"  Ngày / day {day.date:%d/%m/%Y} 07:30–17:45 phát lại trong ~{seconds:.0f} s / "
                  f"played in ~{seconds:.0f} s")
    portal.faults(refuse={refused: REFUSAL})
    tally = Tally(total=len(day.packets))
    live = console.is_terminal
    with Watch(store, portal, tally, echo_seconds=0.0 if live else 4.0) as watch, \
            Live(watch, console=console, refresh_per_second=4) if live else nullcontext():
        play(day, sender, seconds, _moments(portal, watch, platform, post), tally)
        watch.fault = "chờ chuyển hết / draining"
        held = sum(1 for p in day.dossier(refused).packets if not p.flaw)
        _wait(lambda: _undelivered(store) <= held, 90)
        watch.fault = ""
        time.sleep(0.4)  # one more poll for the final line
    if not live:
        console.print(watch.__rich__())
    answers.update(tally.answers)
    return watch


def _ride_through(store: Store, portal: PortalAdmin, watch: Watch) -> dict[str, Any]:
    _step(4, "sự cố và cách cổng vượt qua", "the fault episode and how the gateway rode through it")
    counted, stats = outcomes(portal.stats()), portal.stats()
    jobs = store.find_jobs(JobFilter(destination="national_portal", limit=100_000))
    retried = sum(1 for j in jobs if j.attempts > 1)
    episode = {"http_500": counted["error"], "timeouts": counted["timeout"], "http_503": counted["HTTP 503"],
               "session_refused": counted["-1"], "logins": stats["logins"], "jobs_retried": retried,
               "breaker_opened": watch.breaker_opened}
    console.print(f"  Cổng DVC quốc gia đã trả / the portal answered: {episode['http_500']} × 500, "
                  f"{episode['timeouts']} × treo / hung, {episode['http_503']} × 503 bảo trì / maintenance, "
                  f"{episode['session_refused']} × phiên bị từ chối / session refused")
    console.print(f"  Cổng kết nối / the gateway: {retried} việc cần thử lại / jobs needed another attempt (lùi dần, "
                  f"ngẫu nhiên / backoff with jitter); đăng nhập / logins: {episode['logins']} (phiên mới khi phiên cũ "
                  f"bị từ chối / a new session when the old one was refused); mạch ngắt / circuit opened: "
                  f"{watch.breaker_opened} lần / time(s), thử lại sau 2 s / probed after 2 s")
    return episode


def _dead_letter(store: Store, portal: PortalAdmin, day: Day, refused: str, config: Path, folder: Path) -> bool:
    _step(5, "Cổng DVC quốc gia từ chối một hồ sơ: thư chết và gửi lại",
          "the portal refuses a dossier: dead letter and replay")
    dead = store.find_jobs(JobFilter(destination="national_portal", state=JobState.DEAD, limit=10))
    if not dead:
        console.print("  [red]Không thấy thư chết / no dead letter found[/]")
        return False
    job = dead[0]
    held = store.count_jobs(JobFilter(dossier=refused, state=JobState.PENDING))
    console.print(f"  Hồ sơ / dossier {job.dossier}: {job.packet_type} → [red]{job.state}[/] sau {job.attempts} lần / "
                  f"after {job.attempts} attempt(s)")
    console.print(f"  Lời cổng / the portal said: “{job.last_error}”")
    console.print(f"  {held} gói tin sau của hồ sơ được giữ lại, đúng thứ tự / the dossier's {held} later packets "
                  "held, in order (on_dead = \"hold\")")
    portal.faults(refuse={})
    console.print("  Quản trị Cổng DVC quốc gia khai báo đơn vị / the portal's administrators declare the unit; "
                  "vận hành viên gửi lại / an operator replays:")
    why = "Cổng DVC quốc gia đã khai báo đơn vị / the portal declared the unit"
    args = ["jobs", "replay", "--config", str(config), "--dossier", refused, "--why", why, "--actor", "demo-operator"]
    for extra in ([], ["--yes"]):
        shown = shlex.join(["gateway", *args[:2], *args[4:], *extra])  # --config left out: the demo's own
        console.print(f"    [bold]$ {shown}[/]")
        code, output = processes.cli([*args, *extra], {}, folder / "operator.log")
        for line in output.strip().splitlines():
            console.print(f"      {line}")
        if code != 0:
            return False
    delivered = _wait(lambda: store.count_jobs(JobFilter(dossier=refused, state=JobState.DELIVERED))
                      == len([p for p in day.dossier(refused).packets if not p.flaw]), 30)
    entry = portal.record(refused) or {}
    replayed = store.get_job(job.job_id)
    console.print(f"  Sau khi gửi lại / after replay: {replayed.state if replayed else '—'}, "
                  f"{replayed.attempts if replayed else 0} lần thử được giữ / attempts kept; trên cổng / on the "
                  f"portal: {len(entry.get('progress', []))} bước / steps")
    trail = [row for row in store.audit_log(limit=50) if row.get("action") == "replay"]
    if trail:
        console.print(f"  Nhật ký / audit: {trail[0].get('actor')} · {trail[0].get('action')} · "
                      f"{(trail[0].get('detail') or {}).get('reason', '')}")
    return delivered and bool(trail)


def _peer_check(peer: FaultyPeer, answers: dict[str, Answer]) -> tuple[bool, dict[str, int]]:
    """Every accepted packet routed to a peer destination arrived there (once per key, at least)."""
    expected: dict[str, set[str]] = {name: set() for name in PEER_DESTINATIONS}
    for packet_id, answer in answers.items():
        if answer.status == 202:
            for name in answer.body.get("NoiNhan", []):
                if name in expected:
                    expected[name].add(packet_id)
    arrived = {d["key"] for d in peer.deliveries()}
    wanted = set().union(*expected.values())
    return wanted <= arrived, {name: len(keys) for name, keys in expected.items()}


def _evidence(store: Store, config: Path, folder: Path, day: Day, answers: dict[str, Answer]) -> tuple[bool, str]:
    """The audit chain verifies, its checkpoints' timestamps included, and one delivered dossier's evidence
    bundle verifies as an auditor would on another machine: ``gateway evidence verify`` with only the zip,
    the gateway's certificate and the TSA's root."""
    from gateway.audit.service import checkpoint_now
    from gateway.audit.verify import verify_store
    from gateway.evidence.export import export_bundle
    from gateway.receipt.build import configured_tsa, gateway_signer
    from signing.trust import TrustPolicy

    settings = load_config(config)
    signer, tsa = gateway_signer(settings), configured_tsa(settings)
    dossier = next(d.code for d in day.dossiers if d.packets and all(
        answers.get(p.packet_id, Answer(0, {})).status == 202 for p in d.packets))
    export_bundle(store, dossier, folder / "evidence.zip", signer=signer, actor="demo", tsa=tsa)
    checkpoint_now(store, signer, tsa)
    chain = verify_store(store, [signer.certificate] if signer else None,
                         TrustPolicy.from_directory(folder / "tsa-root.pem", "tsa"))
    stamped = sum(1 for v in chain.checkpoints if v.timestamp == "passed")
    _, said = processes.cli(["evidence", "verify", str(folder / "evidence.zip"), "--cert",
                             str(folder / "gateway-cert.pem"), "--tsa-trust", str(folder / "tsa-root.pem"), "--json"],
                            {}, folder / "operator.log")
    try:
        bundle = json.loads(said)
    except ValueError:
        bundle = {"ok": False, "problems": [{"place": "gateway evidence verify", "message_en": said[-300:]}]}
    ok = chain.ok and stamped > 0 and bool(bundle.get("ok")) and bundle.get("timestamp") == "passed"
    problems = bundle.get("problems") or []
    shown = (f"{problems[0]['place']}: {problems[0]['message_en']}" if problems else
             f"OK, dấu thời gian / timestamp {bundle.get('timestamp')} {bundle.get('proven_at') or ''}".strip())
    return ok, (f"{chain.entries} mục / entries, {chain.broken or 'nguyên vẹn / intact'}, {stamped}/"
                f"{len(chain.checkpoints)} điểm chốt có dấu thời gian hợp lệ / checkpoints with a timestamp that "
                f"holds; evidence.zip ({dossier}): {shown}")


def _provincial(provincial: AdminClient, answers: dict[str, Answer], folder: Path,
                originated: frozenset[str], store: Store) -> check.ProvincialCheck:
    """What the provincial portal's simulator recorded, once the gateway has delivered what it accepted for it
    and the receipts it originated."""
    wanted = len(originated) + sum(1 for a in answers.values() if a.status in check.ACCEPTED
                                   and "provincial_portal" in a.body.get("NoiNhan", []))
    _wait(lambda: len((provincial.record() or {}).get("received", {})) >= wanted, 30)
    record = provincial.record() or {}
    (folder / "provincial-record.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    # Read after the record: a receipt the gateway made meanwhile (the example's YeuCauThanhToan is paid too) is
    # expected there, not "unexpected".
    made = frozenset(packet_id for packet_id, (kind, _, _) in postal.originated(store).items()
                     if kind in ("BienLaiThanhToan", "TrangThaiVanDon"))
    return check.provincial(answers, record, originated | made)


def _summary(folder: Path, day: Day, answers: dict[str, Answer], portal: PortalAdmin, peer: FaultyPeer,
             episode: dict[str, Any], replayed: bool, store: Store, config: Path, provincial: AdminClient,
             looked_up: lookups.LookupCheck, tampered: str, post: AdminClient) -> bool:
    _step(7, "kiểm tra: những gì Cổng DVC quốc gia nhận được", "checks: what the national portal received")
    example_codes = {json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))["NoiDung"]["HoSo"]["MaHoSo"],
                     tampered}
    by_post = postal.to_post(day, answers)
    _wait(lambda: postal.delivered_on_portal(portal, by_post, post), 40)  # the tracking feed's status 10
    record = portal.record() or {}
    (folder / "portal-record.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "portal-stats.json").write_text(json.dumps(portal.stats(), ensure_ascii=False, indent=1),
                                              encoding="utf-8")
    originated = postal.originated(store)
    on_portal = check.portal(day, answers, record, example_codes, originated)
    refused = check.refusals(day, answers)
    peers_ok, per_peer = _peer_check(peer, answers)
    fees = _fees(day, answers)
    _wait(lambda: _settled(store, fees), 30)
    forwarded = frozenset(str((rows[-1].get("detail") or {}).get("packet")) for d in fees
                          if (rows := store.payments_of(d)) and rows[-1]["state"] == "forwarded")
    tracked = frozenset(packet_id for packet_id, (kind, _, _) in originated.items() if kind == "TrangThaiVanDon")
    province = _provincial(provincial, answers, folder, forwarded | tracked, store)
    shipped = postal.check(post.record() or {}, by_post, record, originated,
                           json.loads((folder / "provincial-record.json").read_text("utf-8")))
    paid = payment.check(store, fees, tampered, json.loads((folder / "provincial-record.json").read_text("utf-8")))
    init_failed = sum(j.attempts - 1 for j in store.find_jobs(JobFilter(destination="payment", limit=100_000))
                      if j.state == JobState.DELIVERED)  # INIT calls met by the platform's fault (code 96), retried
    faults_seen = episode["http_500"] > 0 and episode["http_503"] > 0 and episode["session_refused"] > 0
    mark = {True: "[green]✓[/]", False: "[red]✗[/]"}
    console.print(f"  {mark[on_portal.ok]} Bản ghi của cổng khớp với những gì đã gửi / the portal's record "
                  f"matches what was sent: {on_portal.matched}/{on_portal.dossiers} hồ sơ đúng từng bước, đúng thứ "
                  f"tự / dossiers step for step, in order; {on_portal.steps_recorded}/{on_portal.steps_expected} "
                  f"bước / steps; {on_portal.repeated} bước lặp / repeated")
    for problem in on_portal.problems[:5]:
        console.print(f"      {problem}")
    console.print(f"  {mark[refused.accepted == refused.valid]} Gói tin hợp lệ được nhận / valid packets accepted: "
                  f"{refused.accepted}/{refused.valid}")
    console.print(f"  {mark[refused.refused == refused.flawed]} Gói tin sai bị từ chối kèm lý do / wrong packets "
                  f"refused with reasons: {refused.refused}/{refused.flawed}, ví dụ / for example:")
    for flaw, vi, en in refused.examples[:4]:
        console.print(f"      [dim]{flaw}[/]\n        → {vi}\n          {en}")
    for wrong in refused.wrongly[:5]:
        console.print(f"      [red]{wrong}[/]")
    console.print(f"  {mark[peers_ok]} Các đích khác (đích thử cục bộ) / other destinations (local test peer): "
                  + ", ".join(f"{name} {n}" for name, n in per_peer.items()))
    console.print(f"  {mark[province.ok]} Cổng tỉnh (mô phỏng) nhận mỗi gói tin đã chấp nhận đúng một lần, đúng thứ tự "
                  f"từng hồ sơ, chữ ký của cổng kết nối hợp lệ / the provincial portal (simulator) got every accepted "
                  f"packet once, in order per dossier, the gateway's signature verified: {province.received}/"
                  f"{province.expected}, {province.repeated} lặp / repeated, {province.unexpected} lạ / unexpected, "
                  f"{province.signed} chữ ký hợp lệ / signatures passed; {province.failed_calls} lời gọi lỗi đã được "
                  f"gửi lại / failed calls retried")
    console.print(f"  {mark[shipped.ok]} Bưu chính / postal: {shipped.orders} đơn / orders = {shipped.expected} hồ sơ "
                  f"trạng thái 9 trả qua bưu chính / dossiers at status 9 returned by post; {shipped.delivered} phát "
                  f"thành công → {shipped.status_10} trạng thái 10 trên Cổng DVC quốc gia sau các bước trước / "
                  f"delivered → status 10 on the national portal after the earlier steps; {shipped.tracking} gói tin "
                  f"TrangThaiVanDon do cổng tạo, {shipped.tracking_received} cổng tỉnh đã nhận / TrangThaiVanDon "
                  f"packets originated by the gateway, recorded by the provincial portal; {shipped.repeated} đơn gửi lại "
                  f"sau khi mất câu trả lời, bưu chính báo trùng / orders resent after a lost answer, answered "
                  f"duplicate")
    for problem in shipped.problems[:5]:
        console.print(f"      [red]{problem}[/]")
    console.print(f"  {mark[paid.ok]} Thanh toán trực tuyến / online payment: {paid.payments}/{paid.asked} hồ sơ yêu cầu "
                  f"phí có thanh toán / dossiers asked for fees have a payment; {paid.forwarded} chuyển cổng tỉnh = "
                  f"{paid.verified} biên lai ký số hợp lệ / forwarded to the provincial portal = receipts verified; "
                  f"{paid.delivered} cổng tỉnh đã nhận / recorded by the provincial portal; biên lai bị sửa bị chặn / "
                  f"the tampered receipt stopped: {'; '.join(f'{k} {v}' for k, v in paid.stopped.items()) or '—'}; "
                  f"{init_failed} lần khởi tạo gặp lỗi 96 đã được thử lại / INIT calls met by code 96, retried")
    for problem in paid.problems[:5]:
        console.print(f"      [red]{problem}[/]")
    console.print(f"  {mark[looked_up.ok]} Tra cứu công dân / citizen look-ups: "
                  + ", ".join(f"{case} {'✓' if good else '✗'}" for case, good in looked_up.expected.items())
                  + f"; CSDL dân cư nhận / the database got {looked_up.database_calls} lời gọi SOAP / SOAP calls "
                  f"(lời gọi thiếu mục đích không tới CSDL / the call without a purpose never reached it)")
    console.print(f"  {mark[faults_seen]} Sự cố đã thật sự xảy ra và không mất gì / the faults really happened and "
                  "nothing was lost")
    console.print(f"  {mark[replayed]} Thư chết đã được gửi lại và chuyển xong / the dead letter was replayed and "
                  "delivered")
    stamped, receipts = check.timestamped_receipts(answers)
    console.print(f"  {mark[stamped == receipts > 0]} Biên nhận có dấu thời gian của TSA / receipts with a TSA "
                  f"timestamp: {stamped}/{receipts}")
    evidence_ok, evidence = _evidence(store, config, folder, day, answers)
    console.print(f"  {mark[evidence_ok]} Nhật ký kiểm toán và gói bằng chứng kiểm tra được / the audit log and an "
                  f"evidence bundle verify: {evidence}")
    passed = (on_portal.ok and refused.ok and peers_ok and province.ok and province.failed_calls > 0 and faults_seen
              and replayed and evidence_ok and stamped == receipts > 0 and looked_up.ok
              and paid.ok and init_failed > 0 and shipped.ok)
    summary = {"passed": passed, "dossiers": on_portal.dossiers, "dossiers_matched": on_portal.matched,
               "steps_expected": on_portal.steps_expected, "steps_recorded": on_portal.steps_recorded,
               "repeated_steps": on_portal.repeated, "unexpected_dossiers": on_portal.unexpected,
               "problems": on_portal.problems, "packets": len(day.packets), "valid": refused.valid,
               "accepted": refused.accepted, "flawed": refused.flawed, "refused_with_reasons": refused.refused,
               "refusals": [{"flaw": f, "message_vi": vi, "message_en": en} for f, vi, en in refused.examples],
               "statuses_accepted": sorted({int(p.body.get("TrangThaiHoSo", p.body.get("TrangThai", 0)))
                                            for p in day.packets if p.body and not p.flaw
                                            and answers.get(p.packet_id, Answer(0, {})).status == 202}),
               "peer_destinations": per_peer, "peers_ok": peers_ok,
               "provincial_portal": {"ok": province.ok, "expected": province.expected, "received": province.received,
                                     "repeated": province.repeated, "unexpected": province.unexpected,
                                     "out_of_order": province.out_of_order, "signed": province.signed,
                                     "failed_calls": province.failed_calls}, "episode": episode, "replayed": replayed,
               "audit_and_evidence": evidence_ok, "receipts_timestamped": [stamped, receipts],
               "postal": {"ok": shipped.ok, "expected": shipped.expected, "orders": shipped.orders,
                          "delivered": shipped.delivered, "status_10": shipped.status_10,
                          "tracking": shipped.tracking, "tracking_received": shipped.tracking_received,
                          "repeated": shipped.repeated, "calls": shipped.calls, "problems": shipped.problems},
               "payment": {"ok": paid.ok, "asked": paid.asked, "payments": paid.payments,
                           "forwarded": paid.forwarded, "verified": paid.verified, "delivered": paid.delivered,
                           "stopped": paid.stopped, "problems": paid.problems,
                           "init_failed_attempts": init_failed},
               "lookups": {"ok": looked_up.ok, "expected": looked_up.expected, "database_calls": looked_up.database_calls,
                           "database_answered": looked_up.database_answered,
                           "calls": [{"case": c.case, "status": c.status, "found": c.body.get("found"),
                                      "error": c.body.get("error"), "retry_after": c.retry_after}
                                     for c in looked_up.calls]}}
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return passed


def _flow(folder: Path, seconds: float, seed: int, linger: bool) -> bool:
    key = secrets.token_urlsafe(24)
    # Made up per run, given to both the simulator and the gateway: nothing secret is written down.
    credentials = {"GATEWAY_PORTAL_USERNAME": f"demo-{secrets.token_hex(4)}",
                   "GATEWAY_PORTAL_PASSWORD": secrets.token_urlsafe(18),
                   "GATEWAY_POPULATION_USERNAME": f"demo-{secrets.token_hex(4)}",
                   "GATEWAY_POPULATION_SECRET": secrets.token_urlsafe(18),
                   "GATEWAY_POPULATION_API_KEY": secrets.token_urlsafe(18),
                   "GATEWAY_POPULATION_AUDIT_KEY": secrets.token_urlsafe(18),
                   "GATEWAY_PAYMENT_SECRET": secrets.token_urlsafe(18),
                   "GATEWAY_POSTAL_ACCESS_TOKEN": secrets.token_urlsafe(24)}
    platform_env = {"PAYMENT_SIM_SECRET": credentials["GATEWAY_PAYMENT_SECRET"]}
    portal_port, gateway_port, tsa_port = processes.free_port(), processes.free_port(), processes.free_port()
    provincial_port, population_port, payment_port = processes.free_port(), processes.free_port(), processes.free_port()
    postal_port = processes.free_port()
    yesterday = datetime.now(Config.load().zone).date() - timedelta(days=1)
    day = build_day(yesterday, seed)
    refused = [d for d in day.dossiers if d.path == "in_person"][1].code
    with FaultyPeer() as peer:
        config = _config(folder, peer, portal_port, key, tsa_port, provincial_port, population_port, payment_port,
                         postal_port)
        bank = payment.bank(folder)
        _step(1, "khởi động Cổng DVC quốc gia mô phỏng, TSA thử nghiệm và cổng kết nối",
              "start the portal simulator, the test TSA and the gateway")
        (folder / "tsa-root.pem").unlink(missing_ok=True)  # written anew by this run's TSA
        _fresh(folder)
        with processes.simulator(portal_port, folder, credentials), \
                processes.tsa(tsa_port, folder / "tsa-root.pem", folder), \
                processes.provincial_portal(provincial_port, folder / "gateway-cert.pem", folder), \
                processes.population_db(population_port, X_ROAD_CLIENT, folder, credentials), \
                processes.payment(payment_port, bank.key, bank.cert, payment.PARTNER,
                                  f"http://127.0.0.1:{gateway_port}/v1/payment/confirm", folder, platform_env), \
                processes.postal(postal_port, postal.CUSTOMER, folder,
                                 {"GATEWAY_POSTAL_ACCESS_TOKEN": credentials["GATEWAY_POSTAL_ACCESS_TOKEN"]}), \
                processes.gateway(config, gateway_port, folder, credentials):
            portal_url, gateway_url = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{gateway_port}"
            console.print(f"  Cổng kết nối / gateway:        {gateway_url}  (POST /v1/packets, /healthz, /docs)")
            console.print(f"  Cổng DVC quốc gia mô phỏng / portal simulator: {portal_url}/_admin/record  "
                          f"·  {portal_url}/_admin/stats  ·  {portal_url}/_admin/faults")
            console.print(f"  TSA thử nghiệm / test TSA (RFC 3161): http://127.0.0.1:{tsa_port}/tsa  ·  gốc tin cậy / "
                          f"root to trust: {folder}/tsa-root.pem")
            console.print(f"  Cổng tỉnh mô phỏng / provincial portal simulator: http://127.0.0.1:{provincial_port}"
                          "/_admin/record  (webhook ký số / signed webhook)")
            console.print(f"  CSDLQG về dân cư mô phỏng / population database simulator (SOAP): "
                          f"http://127.0.0.1:{population_port}/dancu?wsdl  ·  /_admin/stats")
            console.print(f"  Nền tảng thanh toán mô phỏng / payment platform simulator: http://127.0.0.1:{payment_port}"
                          f"/_admin/record  (biên lai ký bởi ngân hàng thử nghiệm / receipts signed by the test bank, "
                          f"CA: {bank.ca.name})")
            console.print(f"  Bưu chính công ích mô phỏng / postal service simulator: http://127.0.0.1:{postal_port}"
                          "/_admin/record  (đơn hàng, hành trình / orders, tracking)")
            console.print(f"  Đích thử cục bộ / local test peer: {peer.base}/_deliveries  (catalogue)")
            console.print(f"  Nhật ký, kho, cấu hình / logs, store, configuration: {folder}")
            store = open_store(f"sqlite:///{folder}/gateway.db", migrate=False)
            _console_account(store, gateway_port)
            portal = PortalAdmin(portal_url)
            sender = Sender(gateway_url, key)
            provincial = AdminClient(f"http://127.0.0.1:{provincial_port}")
            database = AdminClient(f"http://127.0.0.1:{population_port}")
            platform = AdminClient(f"http://127.0.0.1:{payment_port}")
            post = AdminClient(f"http://127.0.0.1:{postal_port}")
            # every shipment of the day reaches its citizen (some after a failed attempt); the bundled example's
            # waybill (a dossier finished long ago) comes back to the agency, so no status 10 follows it
            post.http.post("/_admin/plan", json={"weights": {"delivered": 0.7, "failed_then_delivered": 0.3},
                                                 postal.EXAMPLE_DOSSIER: "returned"})
            answers: dict[str, Answer] = {}
            try:
                _examples(sender, answers, provincial)
                looked_up = _lookups(gateway_url, key, database)
                watch = _the_day(sender, store, portal, day, refused, seconds, answers, platform, post)
                episode = _ride_through(store, portal, watch)
                replayed = _dead_letter(store, portal, day, refused, config, folder)
                tampered = _tampered(sender, store, platform, day, answers)
                passed = _summary(folder, day, answers, portal, peer, episode, replayed, store, config, provincial,
                                  looked_up, tampered, post)
                if linger:
                    console.print("  Các tiến trình vẫn chạy; Ctrl+C để dừng / the processes keep running; "
                                  "Ctrl+C stops them")
                    while True:
                        time.sleep(1)
            finally:
                sender.close()
                portal.close()
                provincial.http.close()
                database.close()
                platform.close()
                post.close()
                store.close()
    console.print("\n[bold]━━ Xong / done[/]")
    console.print("Cổng đã dừng sạch (SIGTERM): việc chưa gửi được trả lại kho, không mất gì. / "
                  "The gateway stopped cleanly (SIGTERM): unsent jobs went back to the store, nothing lost.")
    console.print(f"Nhật ký / logs: {folder}/gateway.log, simulator.log, provincial-portal.log, tsa.log, operator.log, "
                  "population-db.log, payment.log, postal.log; kết quả / results: summary.json, portal-record.json, provincial-record.json, portal-stats.json, "
                  "gateway.db")
    return passed


def run_demo(config: Path | None, validate_only: bool, folder: Path | None, day_seconds: float, seed: int,
             linger: bool) -> None:
    """The main job, narrated: validate the examples, then a day of packets through the gateway to the simulated
    national portal, with faults, a dead letter and its replay, and checks / chạy thử toàn bộ luồng."""
    where: Path | None = None
    try:
        _validate_examples(Validator(load_config(config)))
        if validate_only:
            return
        os.environ.pop("GATEWAY_CONFIG", None)  # the flow runs on its own configuration
        where = (folder or Path(tempfile.mkdtemp(prefix="gateway-demo-"))).resolve()
        where.mkdir(parents=True, exist_ok=True)
        passed = _flow(where, day_seconds, seed, linger)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        console.print(f"\nĐã dừng / stopped. Nhật ký / logs: {where or '—'}")
        raise typer.Exit(130) from None
    except processes.StartFailed as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - never a traceback for a newcomer: say what, and keep the details for a developer
        where = where or Path(tempfile.mkdtemp(prefix="gateway-demo-"))
        (where / "demo-error.log").write_text(traceback.format_exc(), encoding="utf-8")
        console.print(f"[red]Chạy thử dừng vì lỗi / the demo stopped on an error: {type(exc).__name__}: {exc}[/]\n"
                      f"Chi tiết / details: {where / 'demo-error.log'}")
        raise typer.Exit(1) from None
    if not passed:
        console.print(f"[red]Có kiểm tra không đạt / a check failed[/] — {where}/summary.json")
        raise typer.Exit(1)
    console.print("[green]Mọi kiểm tra đều đạt / every check passed[/]")
