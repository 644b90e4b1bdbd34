"""The database store: files as `blobs` rows of at most `PART_BYTES` (the default store).

Every statement goes through the request's session, so a file written by a service is
part of its transaction: the attachment of a submission that rolls back is rolled back
with it, and a resumable upload's chunk and the offset that counts it commit together
(the offset never claims bytes the store lacks). Under replica routing
(`server.replica`) writes go to the primary like every other write; reads of a GET may
go to the replica.

Reads go a part at a time (one indexed look-up on the primary key each), so serving or
backing up a 50 MiB file holds 1 MiB in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from server.db import db
from server.models.storage import Blob
from server.storage.base import PART_BYTES, MissingFile, check_key

_BLOBS = Blob.__table__
_PART = (
    sa.select(_BLOBS.c.data)
    .where(_BLOBS.c.key == sa.bindparam("key"), _BLOBS.c.part == sa.bindparam("part"))
)  # fmt: skip


def _parts(data: bytes) -> Iterator[bytes]:
    if not data:
        yield b""
    for start in range(0, len(data), PART_BYTES):
        yield data[start : start + PART_BYTES]


class DatabaseStore:
    kind = "database"

    def put(self, key: str, data: bytes) -> None:
        self.put_stream(key, _parts(data))

    def add(self, key: str, data: bytes) -> None:
        """Keep `data` under `key` unless the key holds a file already (content-addressed
        keys: two requests adding the same photo at once both succeed, one row set kept)."""
        check_key(key)
        dialect = db.session.get_bind(clause=_BLOBS.insert()).dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_BLOBS)
        statement = insert.on_conflict_do_nothing(index_elements=["key", "part"])
        rows = [{"key": key, "part": n, "data": part} for n, part in enumerate(_parts(data))]
        db.session.execute(statement, rows)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        check_key(key)
        self.delete(key)
        size, part, pending = 0, 0, bytearray()
        for chunk in chunks:
            pending += chunk
            size += len(chunk)
            while len(pending) >= PART_BYTES:
                self._insert(key, part, bytes(pending[:PART_BYTES]))
                del pending[:PART_BYTES]
                part += 1
        if pending or part == 0:
            self._insert(key, part, bytes(pending))
        return size

    def _insert(self, key: str, part: int, data: bytes) -> None:
        db.session.execute(sa.insert(_BLOBS).values(key=key, part=part, data=data))

    def get(self, key: str) -> bytes:
        """The whole file, read in the caller's transaction (it sees what the caller wrote)."""
        check_key(key)
        parts = []
        while (data := self._part(key, len(parts))) is not None:
            parts.append(data)
        if not parts:
            raise MissingFile(key)
        return b"".join(parts)

    def _part(self, key: str, part: int) -> bytes | None:
        return db.session.execute(_PART, {"key": key, "part": part}).scalar()

    def open_stream(self, key: str) -> Iterator[bytes]:
        """The first part at once (a missing file is known before a response starts), the
        others as they are sent, each in an application context of its own: a response is
        sent after its request's context has ended, and a download left unread must not
        hold a context or a connection open."""
        check_key(key)
        first = self._part(key, 0)
        if first is None:
            raise MissingFile(key)
        return self._rest(current_app._get_current_object(), key, first)

    def _rest(self, app: Flask, key: str, first: bytes) -> Iterator[bytes]:
        yield first
        part = 1
        while True:
            with app.app_context():
                data = self._part(key, part)
                db.session.remove()
            if data is None:
                return
            yield data
            part += 1

    def exists(self, key: str) -> bool:
        check_key(key)
        statement = sa.select(sa.literal(1)).where(_BLOBS.c.key == key, _BLOBS.c.part == 0)
        return db.session.execute(statement).first() is not None

    def size(self, key: str) -> int:
        check_key(key)
        statement = sa.select(sa.func.count(), sa.func.sum(sa.func.length(_BLOBS.c.data))).where(
            _BLOBS.c.key == key
        )
        count, total = db.session.execute(statement).one()
        if not count:
            raise MissingFile(key)
        return int(total or 0)

    def delete(self, key: str) -> None:
        check_key(key)
        db.session.execute(sa.delete(_BLOBS).where(_BLOBS.c.key == key))

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under `prefix` (batch work only: backup, migrate), a page at a time."""
        after = ""
        while True:
            statement = (
                sa.select(_BLOBS.c.key)
                .where(_BLOBS.c.part == 0, _BLOBS.c.key > after)
                .order_by(_BLOBS.c.key)
                .limit(1000)
            )
            if prefix:
                statement = statement.where(_BLOBS.c.key.startswith(prefix, autoescape=True))
            page = list(db.session.scalars(statement))
            yield from page
            if len(page) < 1000:
                return
            after = page[-1]
