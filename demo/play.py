"""Plays the day: every packet is POSTed to the gateway when its moment comes on a sped-up clock
(07:30–17:45 in ``seconds``), each dossier's packets one after another, many dossiers at once; the
fault episode is switched at its moments on the same clock. What each packet got back is kept."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time as clock_time
import threading
import time
from typing import Any

import httpx

from demo.day import Day, Outgoing

DAY_STARTS, DAY_ENDS = clock_time(7, 30), clock_time(17, 45)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Tally:
    """What the sender has seen so far (read by the progress line while it runs)."""

    total: int
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    clock: str = "07:30"
    answers: dict[str, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass(frozen=True)
class Moment:
    """Something that happens at a time of the day (a fault switched on or off)."""

    at: clock_time
    action: Callable[[], None]


class Sender:
    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, trust_env=False,
                                 headers={"Authorization": f"Bearer {key}"}, limits=httpx.Limits(max_connections=16))

    def post(self, raw: bytes, encoding: str) -> Answer:
        """One packet; like a careful one-stop system, it tries again when the gateway says 'later'."""
        for attempt in range(6):
            try:
                answer = self.http.post("/v1/packets", content=raw,
                                        headers={"Content-Type": f"application/{encoding}; charset=utf-8"})
            except httpx.TransportError as exc:
                if attempt == 5:
                    return Answer(0, {"message_vi": "Không gọi được cổng", "message_en": f"gateway unreachable: {exc}"})
            else:
                if answer.status_code not in (429, 503) or attempt == 5:
                    try:
                        body = answer.json()
                    except ValueError:
                        body = {"message_en": answer.text[:300]}
                    return Answer(answer.status_code, body if isinstance(body, dict) else {"errors": body})
            time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.http.close()


def play(day: Day, sender: Sender, seconds: float, moments: list[Moment], tally: Tally) -> None:
    """Sends the whole day in about ``seconds``; returns when every packet has its answer."""
    start_of_day = datetime.combine(day.date, DAY_STARTS)
    length = (datetime.combine(day.date, DAY_ENDS) - start_of_day).total_seconds()
    scale = seconds / length
    began = time.monotonic()

    def wait_until(moment: datetime) -> None:
        due = began + max(0.0, (moment - start_of_day).total_seconds()) * scale
        while (left := due - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))
        with tally.lock:
            tally.clock = f"{moment:%H:%M}"

    def send(packet: Outgoing, before: Future[None] | None) -> None:
        if before is not None:
            before.result()  # the dossier's previous packet has its answer: keep the sender's order
        answer = sender.post(packet.raw, packet.encoding)
        with tally.lock:
            tally.sent += 1
            tally.answers[packet.packet_id] = answer
            if answer.status in (200, 202):
                tally.accepted += 1
            else:
                tally.refused += 1

    timeline: list[tuple[datetime, int, Any]] = [(p.at, 1, p) for p in day.packets]
    timeline += [(datetime.combine(day.date, m.at), 0, m) for m in moments]
    timeline.sort(key=lambda item: (item[0], item[1]))
    last: dict[str, Future[None]] = {}
    with ThreadPoolExecutor(12, thread_name_prefix="one-stop") as pool:
        for moment, _, item in timeline:
            wait_until(moment)
            if isinstance(item, Moment):
                item.action()
            else:
                last[item.dossier] = pool.submit(send, item, last.get(item.dossier))
        for future in last.values():
            future.result()
    with tally.lock:
        tally.clock = f"{DAY_ENDS:%H:%M}"
