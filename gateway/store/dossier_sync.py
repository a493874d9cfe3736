"""Each dossier's sync path in one row (dossier_sync) and when each agency sent for it (dossier_sync_agencies),
kept in the transaction that accepts its packets: what the sync-quality view needs, read without the packets.

A path keeps what any transition graph is judged on: its first and latest status, the distinct moves between
successive statuses; and whether its latest HoSo is finished (``NgayKetThucXuLy`` and ``NgayHenTra`` given) and on
time (the first ≤ the second, as stored text: ``NgayGio`` compares in order).
A packet arriving earlier than the path's latest (another transaction's, committed later) makes the dossier's
path read again from its packets; so does the migration that creates the tables (0018)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gateway.packets.stored import hoso_fields
from gateway.store.tables import dossier_sync, dossier_sync_agencies, packets

DATES = ("NgayKetThucXuLy", "NgayHenTra")
CHUNK = 500
Unseal = Callable[[str, bytes], bytes | None]  # (packet id, stored raw) → the raw received (None: cannot open)


@dataclass
class Path:
    """One dossier's packets in arrival order, summed up."""
    packets: int = 0
    last_at: datetime | None = None
    first_status: int | None = None
    last_status: int | None = None
    moves: set[tuple[int, int]] = field(default_factory=set)  # (from, to), from ≠ to
    hoso_packet: str | None = None  # the latest HoSo's id
    finished: bool = False
    on_time: bool = False

    def follow(self, at: datetime, status: int | None, packet_type: str, packet_id: str) -> bool:
        """One more packet, the latest; True when it is the new latest HoSo (its dates are to be read)."""
        self.packets += 1
        self.last_at = at
        if status is not None:
            if self.last_status is None:
                self.first_status = status
            elif status != self.last_status:
                self.moves.add((self.last_status, status))
            self.last_status = status
        if packet_type == "HoSo":
            self.hoso_packet, self.finished, self.on_time = packet_id, False, False
            return True
        return False

    def dated(self, raw: bytes | None, encoding: str) -> None:
        if raw is not None:
            found = hoso_fields(raw, encoding, DATES)
            end, due = found[DATES[0]], found[DATES[1]]
            self.finished = bool(end and due)
            self.on_time = bool(end and due and end <= due)

    def row(self, dossier: str) -> dict[str, Any]:
        return dict(dossier=dossier, packets=self.packets, last_at=self.last_at, first_status=self.first_status,
                    last_status=self.last_status, moves=moves_text(self.moves), hoso_packet=self.hoso_packet,
                    finished=self.finished, on_time=self.on_time)

    @classmethod
    def of(cls, row: Any) -> Path:
        return cls(row.packets, row.last_at, row.first_status, row.last_status, parse_moves(row.moves),
                   row.hoso_packet, row.finished, row.on_time)


def moves_text(moves: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{a}>{b}" for a, b in sorted(moves))


def parse_moves(text: str) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, _, b in (m.partition(">") for m in text.split(",") if m)}


_UPSERTS: dict[tuple[str, str], Any] = {}  # built once per dialect and table: the intake runs one per batch
_PATHS_OF = sa.select(dossier_sync).where(dossier_sync.c.dossier.in_(sa.bindparam("names", expanding=True)))
_SPANS_OF = sa.select(dossier_sync_agencies).where(
    dossier_sync_agencies.c.dossier.in_(sa.bindparam("names", expanding=True)))


def _upsert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _UPSERTS.get((connection.dialect.name, table.name))
    if statement is None:
        insert = (sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert)(table)
        keys = [c.name for c in table.primary_key.columns]
        statement = _UPSERTS[(connection.dialect.name, table.name)] = insert.on_conflict_do_update(
            index_elements=keys, set_={c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys})
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start:start + 5000])


def record(connection: sa.Connection, accepted: Sequence[Any], unseal: Unseal) -> None:
    """The paths of the dossiers of ``accepted`` (packets just inserted, in this transaction) brought up to date."""
    by_dossier: dict[str, list[Any]] = {}
    for packet in sorted((p for p in accepted if p.dossier is not None), key=lambda p: p.received_at):
        by_dossier.setdefault(packet.dossier, []).append(packet)
    if not by_dossier:
        return
    names = sorted(by_dossier)
    known: dict[str, Path] = {}
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for start in range(0, len(names), CHUNK):
        part = names[start:start + CHUNK]
        for row in connection.execute(_PATHS_OF, {"names": part}):
            known[row.dossier] = Path.of(row)
        for row in connection.execute(_SPANS_OF, {"names": part}):
            spans[(row.dossier, row.agency)] = (row.first_at, row.last_at)
    paths, again = [], []
    for dossier, arrived in by_dossier.items():
        path = known.get(dossier) or Path()
        if path.last_at is not None and arrived[0].received_at < path.last_at:
            again.append(dossier)  # arrived before packets already summed up: read the whole path again
            continue
        latest_hoso = None
        for packet in arrived:
            if path.follow(packet.received_at, packet.status, packet.packet_type, packet.packet_id):
                latest_hoso = packet
            key = (dossier, packet.agency or "")
            first, _ = spans.get(key, (packet.received_at, packet.received_at))
            spans[key] = (first, packet.received_at)
        if latest_hoso is not None:
            path.dated(latest_hoso.raw, latest_hoso.encoding)
        paths.append(path.row(dossier))
    _upsert(connection, dossier_sync, paths)
    _upsert(connection, dossier_sync_agencies,
            [dict(dossier=d, agency=a, first_at=f, last_at=last) for (d, a), (f, last) in spans.items()
             if d not in again])
    if again:
        rebuild(connection, unseal, again)


def rebuild(connection: sa.Connection, unseal: Unseal, dossiers: Sequence[str] | None = None) -> int:
    """The paths of ``dossiers`` (None: every dossier) read from their packets and written; how many."""
    if dossiers is None:
        connection.execute(dossier_sync.delete())
        connection.execute(dossier_sync_agencies.delete())
        parts: Iterable[Sequence[str] | None] = [None]
    else:
        parts = [dossiers[i:i + CHUNK] for i in range(0, len(dossiers), CHUNK)]
    written = 0
    for part in parts:
        query = (sa.select(packets.c.dossier, packets.c.received_at, packets.c.status, packets.c.packet_type,
                           packets.c.packet_id, packets.c.agency)
                 .where(packets.c.dossier.is_not(None) if part is None else packets.c.dossier.in_(part))
                 .order_by(packets.c.dossier, packets.c.received_at))
        current: str | None = None
        path = Path()
        paths: dict[str, Path] = {}
        spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for dossier, at, status, packet_type, packet_id, agency in connection.execute(query):
            if dossier != current:
                current, path = dossier, Path()
                paths[dossier] = path
            path.follow(at, status, packet_type, packet_id)
            key = (dossier, agency or "")
            spans[key] = (spans.get(key, (at, at))[0], at)
        _dates(connection, unseal, paths)
        if part is not None:
            connection.execute(dossier_sync.delete().where(dossier_sync.c.dossier.in_(part)))
            connection.execute(dossier_sync_agencies.delete().where(dossier_sync_agencies.c.dossier.in_(part)))
        _upsert(connection, dossier_sync, [p.row(d) for d, p in paths.items()])
        _upsert(connection, dossier_sync_agencies,
                [dict(dossier=d, agency=a, first_at=f, last_at=last) for (d, a), (f, last) in spans.items()])
        written += len(paths)
    return written


def _dates(connection: sa.Connection, unseal: Unseal, paths: dict[str, Path]) -> None:
    """Each path's latest HoSo's dates, from its stored content (none once purged)."""
    wanted = {p.hoso_packet: p for p in paths.values() if p.hoso_packet is not None}
    ids = sorted(wanted)
    for start in range(0, len(ids), CHUNK):
        for packet_id, raw, encoding in connection.execute(
                sa.select(packets.c.packet_id, packets.c.raw, packets.c.encoding)
                .where(packets.c.packet_id.in_(ids[start:start + CHUNK]), packets.c.raw.is_not(None))):
            wanted[packet_id].dated(unseal(packet_id, raw), encoding)


def forget_contents(connection: sa.Connection, purged: Sequence[str] | None, dossier: str | None = None) -> None:
    """Packets whose content was purged (``purged``, or all of ``dossier``'s): a path whose latest HoSo is among
    them is finished no more (its dates are gone with it)."""
    forget = dossier_sync.update().values(finished=False, on_time=False)
    if dossier is not None:
        connection.execute(forget.where(dossier_sync.c.dossier == dossier))
    for start in range(0, len(purged or ()), CHUNK):
        connection.execute(forget.where(dossier_sync.c.hoso_packet.in_((purged or [])[start:start + CHUNK])))
