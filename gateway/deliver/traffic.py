"""Generated dossier traffic for the demo, the crash test and the benchmark: valid packets, in order.

Each dossier is a HoSo packet (received, status 2) followed by progress steps (TienDoXuLy:
4 … 4, 9, 10), built from the bundled examples with a fresh dossier code and packet ids.
"""

from collections.abc import Iterator
import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path
import random
from typing import Any
import uuid

from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin
from gateway.store.api import NewPacket

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIRST_STEP = datetime(2024, 12, 2, 8, 0)  # after the example dossier was received, local time


@dataclass(frozen=True)
class Packet:
    packet_id: str
    dossier: str
    packet_type: str
    encoding: str  # "xml" | "json"
    raw: bytes
    agency: str = "000.00.01.H22"  # NoiGui

    @property
    def content_type(self) -> str:
        return f"application/{self.encoding}; charset=utf-8"

    def stored(self, sender: str = "traffic") -> NewPacket:
        """As the API would store it (for feeding a store directly, without HTTP)."""
        return NewPacket(packet_id=self.packet_id, sha256=hashlib.sha256(self.raw).hexdigest(), raw=self.raw,
                         encoding=self.encoding, sender=sender, received_at=datetime.now(UTC),  # type: ignore[arg-type]  # encoding is xml or json: the generator makes only those
                         packet_type=self.packet_type, dossier=self.dossier, agency=self.agency)


def _template(name: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return template


class Traffic:
    def __init__(self, seed: int = 0, agency: str = "000.00.01.H22") -> None:
        self.rng = random.Random(seed)
        self.agency = agency
        self.hoso, self.step = _template("HoSo"), _template("TienDoXuLy")
        for field in ("NgayTra", "NgayKetThucXuLy"):  # not yet: the dossier has only been received
            self.hoso["NoiDung"]["HoSo"].pop(field, None)
        self.hoso["NoiDung"]["HoSo"]["TrangThaiHoSo"] = 2

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _encode(self, data: dict[str, Any], encoding: str) -> bytes:
        if encoding == "json":
            return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return xml_codec.encode(GoiTin.model_validate(data))

    def dossier(self, number: int, steps: int, encoding: str = "json", prefix: str = "241201") -> list[Packet]:
        """One dossier: its HoSo then ``steps`` progress steps (at least 2: the last two are 9 and 10)."""
        code = f"{self.agency}-{prefix}-{number:06d}"
        hoso = copy.deepcopy(self.hoso)
        hoso["MaGoiTin"], hoso["NoiGui"] = self._id(), self.agency
        hoso["NoiDung"]["HoSo"]["MaHoSo"] = code
        packets = [Packet(hoso["MaGoiTin"], code, "HoSo", encoding, self._encode(hoso, encoding), self.agency)]
        statuses = [4] * max(0, steps - 2) + [9, 10][-steps:] if steps else []
        for i, status in enumerate(statuses):
            step = copy.deepcopy(self.step)
            step["MaGoiTin"], step["NoiGui"] = self._id(), self.agency
            body = step["NoiDung"]["TienDoXuLy"]
            body["MaHoSo"], body["TrangThai"] = code, status
            began = FIRST_STEP + timedelta(hours=i)
            body["NgayBatDau"] = f"{began:%Y%m%d%H%M%S}"
            body["ThoiDiemXuLy"] = f"{began + timedelta(minutes=30):%Y%m%d%H%M%S}"
            body["NgayKetThucTheoQuyDinh"] = f"{FIRST_STEP + timedelta(days=10):%Y%m%d%H%M%S}"
            body["NoiDungXuLy"] = f"Bước xử lý {i + 1}"  # packet content, not a sentence of ours (EXEMPT)
            packets.append(Packet(step["MaGoiTin"], code, "TienDoXuLy", encoding, self._encode(step, encoding),
                                  self.agency))
        return packets

    def interleaved(self, dossiers: int, steps: int, encoding: str = "json", start: int = 1,
                    prefix: str = "241201") -> Iterator[Packet]:
        """Many dossiers' packets mixed as a one-stop system would send them, each dossier still in order."""
        queues = [self.dossier(start + n, steps, encoding, prefix) for n in range(dossiers)]
        while queues:
            queue = self.rng.choice(queues)
            yield queue.pop(0)
            if not queue:
                queues.remove(queue)
