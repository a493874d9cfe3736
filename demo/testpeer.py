"""A local destination with switchable faults, for tests, the demo and the benchmark.

It is a strict peer, not a mock: it reads each packet it is sent (hardened parser), takes the
dossier code from the packet itself, and records every delivery with its idempotency key in
arrival order. Faults are switched over HTTP while it runs:

  POST /_faults   {"error_rate": 0.2, "latency_ms": 50, "maintenance": true, …}   (merged; {} keeps)
  DELETE /_faults                                                                  (all off)
  GET  /_deliveries?since=N   the recorded deliveries from number N on
  GET  /_stats                counts, and overlaps: calls for one dossier (or one key) in flight at once
  POST /_reset                forget the deliveries

Any other POST path is a delivery: one packet (XML or JSON) with an ``Idempotency-Key`` header,
or a batch ``{"batch": [{"idempotency_key", "encoding", "packet"}, …]}`` marked ``X-Gateway-Batch``.

Run alone: ``python -m demo.testpeer --port 8808``.
"""

from dataclasses import asdict, dataclass, field, fields
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import random
import socket
import struct
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from gateway.validate.wellformed import Unreadable, parse_xml


@dataclass
class Faults:
    error_rate: float = 0.0  # 500
    throttle_rate: float = 0.0  # 429 with Retry-After
    retry_after: float = 1.0  # seconds, for 429 and maintenance 503
    maintenance: bool = False  # 503 with Retry-After, for every call
    reset_rate: float = 0.0  # connection reset without an answer
    timeout_rate: float = 0.0  # take the packet, then hang for hang_seconds before answering
    hang_seconds: float = 10.0
    malformed_rate: float = 0.0  # take the packet, answer 200 with a body that is not the agreed JSON
    cut_rate: float = 0.0  # take the packet, then close the connection halfway through a 200 answer
    latency_ms: float = 0.0  # added to every call
    fail_next: int = 0  # the next N calls answer 500 (deterministic)
    reject_keys: list[str] = field(default_factory=list)  # 422: this content is refused, with a message
    quote_back: bool = False  # 422 for every packet, its refusal quoting the packet back (as careless peers do)
    seed: int | None = None


@dataclass(frozen=True)
class Item:
    key: str
    encoding: str
    body: bytes


def _dossier_of(item: Item) -> str | None:
    if item.encoding == "json":
        data = json.loads(item.body)
        body: Any = next(iter(data.get("NoiDung", {}).values()), {})
        return body.get("MaHoSo") if isinstance(body, dict) else None
    root = parse_xml(item.body)
    found = root.xpath("//*[local-name()='MaHoSo']/text()")
    return str(found[0]) if found else None


class PeerState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults = Faults()
        self.rng = random.Random()
        self.deliveries: list[dict[str, Any]] = []
        self.calls = 0
        self.call_times: list[float] = []  # when each call arrived (time.time), whatever the answer
        self.answered: dict[str, int] = {}
        self.in_flight_keys: dict[str, int] = {}
        self.in_flight_dossiers: dict[str, int] = {}
        self.key_overlaps = 0
        self.dossier_overlaps = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def set_faults(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(Faults)}
        if unknown := set(changes) - names:
            raise ValueError(f"unknown fault(s): {sorted(unknown)}")
        with self.lock:
            self.faults = Faults(**{**asdict(self.faults), **changes})
            if "seed" in changes:
                self.rng = random.Random(changes["seed"])

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def count(self, answer: str) -> None:
        with self.lock:
            self.answered[answer] = self.answered.get(answer, 0) + 1

    def enter(self, items: list[Item], dossiers: list[str | None]) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            for key in {i.key for i in items}:
                self.key_overlaps += self.in_flight_keys.get(key, 0) > 0
                self.in_flight_keys[key] = self.in_flight_keys.get(key, 0) + 1
            for dossier in {d for d in dossiers if d}:
                self.dossier_overlaps += self.in_flight_dossiers.get(dossier, 0) > 0
                self.in_flight_dossiers[dossier] = self.in_flight_dossiers.get(dossier, 0) + 1

    def leave(self, items: list[Item], dossiers: list[str | None]) -> None:
        with self.lock:
            self.in_flight -= 1
            for key in {i.key for i in items}:
                self.in_flight_keys[key] -= 1
            for dossier in {d for d in dossiers if d}:
                self.in_flight_dossiers[dossier] -= 1

    def record(self, items: list[Item], dossiers: list[str | None]) -> None:
        with self.lock:
            for index, (item, dossier) in enumerate(zip(items, dossiers)):
                self.deliveries.append({"n": len(self.deliveries), "at": time.time(), "key": item.key,
                                        "dossier": dossier, "encoding": item.encoding,
                                        "sha256": hashlib.sha256(item.body).hexdigest(),
                                        "batch": len(items), "index": index})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real destination
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if not self.path.startswith("/_"):  # answers to deliveries, not to the control endpoints
            self.server.state.count(str(status) if raw is None else "malformed")

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer"
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.server.state.count("reset")
        self.server.shutdown_request(self.connection)

    def _cut(self) -> None:
        """Headers announcing a body, half of it, then the connection closes."""
        body = json.dumps({"ok": True, "error_code": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.server.state.count("cut")
        self.server.shutdown_request(self.connection)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        state, url = self.server.state, urlparse(self.path)
        if url.path == "/_deliveries":
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            with state.lock:
                found = {"count": len(state.deliveries), "deliveries": state.deliveries[since:]}
            self._answer(200, found)
        elif url.path == "/_stats":
            with state.lock:
                stats = {"deliveries": len(state.deliveries), "calls": state.calls, "answers": dict(state.answered),
                         "key_overlaps": state.key_overlaps, "dossier_overlaps": state.dossier_overlaps,
                         "max_in_flight": state.max_in_flight,
                         "faults": asdict(state.faults)}
            self._answer(200, stats)
        elif url.path == "/_faults":
            self._answer(200, asdict(state.faults))
        else:
            self._answer(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        if urlparse(self.path).path == "/_faults":
            self.server.state.set_faults(asdict(Faults()))
            self._answer(200, asdict(self.server.state.faults))
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        state, path = self.server.state, urlparse(self.path).path
        body = self._body()
        if path == "/_faults":
            try:
                state.set_faults(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return self._answer(400, {"error": str(exc)})
            return self._answer(200, asdict(state.faults))
        if path == "/_reset":
            with state.lock:
                state.deliveries.clear()
            return self._answer(200, {"ok": True})
        self._deliver(body)

    def _items(self, body: bytes) -> list[Item]:
        if self.headers.get("X-Gateway-Batch"):
            return [Item(str(e["idempotency_key"]), str(e["encoding"]), str(e["packet"]).encode())
                    for e in json.loads(body)["batch"]]
        encoding = "xml" if "xml" in (self.headers.get("Content-Type") or "") else "json"
        return [Item(self.headers.get("Idempotency-Key") or "", encoding, body)]

    def _deliver(self, body: bytes) -> None:
        state = self.server.state
        with state.lock:
            state.calls += 1
            state.call_times.append(time.time())
            faults, roll = state.faults, state.roll
            fail_now = faults.fail_next > 0
            if fail_now:
                state.faults = Faults(**{**asdict(faults), "fail_next": faults.fail_next - 1})
            draw = {name: roll(getattr(faults, name)) for name in
                    ("reset_rate", "error_rate", "throttle_rate", "timeout_rate", "malformed_rate", "cut_rate")}
        try:
            items = self._items(body)
            dossiers = [_dossier_of(i) for i in items]
        except (ValueError, KeyError, TypeError, Unreadable) as exc:
            return self._answer(400, {"error_code": 400, "message": f"Gói tin không đọc được / unreadable: {exc}"})
        if any(not i.key for i in items):
            return self._answer(400, {"error_code": 400, "message": "Thiếu Idempotency-Key / missing Idempotency-Key"})
        state.enter(items, dossiers)
        try:
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000)
            if draw["reset_rate"]:
                return self._reset()
            if faults.maintenance:
                return self._answer(503, {"message": "Bảo trì / under maintenance"},
                                    {"Retry-After": f"{faults.retry_after:g}"})
            if fail_now or draw["error_rate"]:
                return self._answer(500, {"message": "Lỗi máy chủ / internal error"})
            if draw["throttle_rate"]:
                return self._answer(429, {"message": "Quá nhiều yêu cầu / too many requests"},
                                    {"Retry-After": f"{faults.retry_after:g}"})
            if faults.quote_back:
                quoted = " ".join(i.body.decode("utf-8", "replace") for i in items)
                return self._answer(422, {"error_code": 3, "message": f"Gói tin bị từ chối / refused: {quoted}",
                                          "packet": quoted})
            refused = [i.key for i in items if i.key in faults.reject_keys]
            if refused and len(items) == 1:
                return self._answer(422, {"error_code": 3, "message": f"Hồ sơ bị từ chối / dossier refused: {refused[0]}"})
            accepted = items if not refused else items[:[i.key for i in items].index(refused[0])]
            state.record(accepted, dossiers[:len(accepted)])
            if draw["timeout_rate"]:
                time.sleep(faults.hang_seconds)  # taken, but the answer comes too late
            if draw["malformed_rate"]:
                return self._answer(200, None, raw=b"<html>502 Bad Gateway</html")
            if draw["cut_rate"]:
                return self._cut()
            if len(items) == 1:
                return self._answer(200, {"ok": True, "error_code": 0})
            results: list[dict[str, Any]] = [{"ok": True} for _ in accepted]
            if refused:
                results.append({"ok": False, "status": 422, "message": f"Hồ sơ bị từ chối / dossier refused: {refused[0]}"})
            return self._answer(200, {"ok": not refused, "results": results})
        finally:
            state.leave(items, dossiers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.state = PeerState()

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        # A client that gave up (its timeout) closed the socket: normal for this peer, not worth a traceback.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FaultyPeer:
    """The peer on 127.0.0.1 in a background thread: ``with FaultyPeer() as peer: peer.url …``."""

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port))
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/deliver"
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-peer", daemon=True)

    @property
    def state(self) -> PeerState:
        return self._server.state

    def set_faults(self, **changes: Any) -> None:
        self.state.set_faults(changes)

    def clear_faults(self) -> None:
        self.state.set_faults(asdict(Faults()))

    def deliveries(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.deliveries)

    def start(self) -> "FaultyPeer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultyPeer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Local destination with switchable faults / đích nhận thử có lỗi bật tắt được")
    parser.add_argument("--port", type=int, default=8808)
    args = parser.parse_args()
    peer = FaultyPeer(args.port)
    print(f"listening on {peer.url}", flush=True)
    try:
        peer._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
