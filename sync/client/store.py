"""The tablet's local store: one SQLite file per user and server (stdlib `sqlite3`).

What it holds: the forms the user may fill (XForm and media), the households
of the user's scope as last pulled (and their local view with unsent edits
re-applied, C4), redirects from merges, review returns, the outbox of
finished submissions with their attachments, the pull cursor and the clock
offset measured at each sync, and the drafts of forms being filled (saved after
every answer, so an interrupted form resumes where it stopped).

Durability (C1): WAL journal with `synchronous=FULL`, so a transaction that
returned is on disk; every write runs in one `BEGIN IMMEDIATE` transaction,
and `save` returns only after its commit. A visit is in the outbox together
with its photos, or not at all. Writes that the server acknowledges are
applied in one transaction per answer, so a crash at any point leaves
either the state before the answer (the item is sent again and the server
answers `duplicate`, R2) or the state after it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS forms (
    form_id TEXT NOT NULL, version TEXT NOT NULL, title TEXT NOT NULL, hash TEXT NOT NULL,
    data TEXT NOT NULL, xform BLOB, PRIMARY KEY (form_id, version));
CREATE TABLE IF NOT EXISTS form_media (
    form_id TEXT NOT NULL, version TEXT NOT NULL, filename TEXT NOT NULL, hash TEXT NOT NULL,
    data BLOB, PRIMARY KEY (form_id, version, filename));
CREATE TABLE IF NOT EXISTS households (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL,
    local TEXT, conflicts TEXT);
CREATE TABLE IF NOT EXISTS redirects (id TEXT PRIMARY KEY, target TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL UNIQUE,
    form_id TEXT NOT NULL, version TEXT NOT NULL,
    household_id TEXT, base_version INTEGER, base TEXT, edits TEXT,
    item TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    code TEXT, message TEXT, result TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ix_outbox_state ON outbox (state, seq);
CREATE TABLE IF NOT EXISTS drafts (
    key TEXT PRIMARY KEY, form_id TEXT NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_files (
    instance_id TEXT NOT NULL REFERENCES outbox (instance_id) ON DELETE CASCADE,
    filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, data BLOB NOT NULL, upload_id TEXT, done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, filename));
"""

#: Outbox states. `pending`: not yet held by the server. `sent`: accepted or duplicate, its
#: files may still be uploading (the row leaves the outbox when they are all up). The others
#: stay, with the server's reason, until the officer deals with them: never deleted.
PENDING, SENT = "pending", "sent"
KEPT_STATES = ("conflict", "invalid", "quarantined", "refused")


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def store_path(folder: Path, server: str, username: str) -> Path:
    """The store file of `username` on `server`: one per user and server."""
    parts = urlsplit(server)
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", (parts.netloc or parts.path or "server"))
    path = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.path.strip("/")) if parts.netloc else ""
    user = re.sub(r"[^A-Za-z0-9._-]+", "_", username.lower())
    name = "__".join(p for p in (host, path, user) if p)
    return folder / f"{name}.sqlite3"


@dataclass
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class OutboxItem:
    seq: int
    instance_id: str
    form_id: str
    version: str
    household_id: str | None
    base_version: int | None
    base: dict[str, Any] | None
    edits: dict[str, Any] | None
    item: dict[str, Any]
    state: str
    code: str | None = None
    message: str | None = None
    created_at: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)


class LocalStore:
    """The local SQLite store (see the module docstring). Not shared between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # C1: a commit that returned is on disk
        self.db.execute("PRAGMA foreign_keys=ON")
        self._create_schema()

    def _create_schema(self) -> None:
        with self.transaction():  # one commit for every table
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if self.get_meta("schema_version") is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); nested calls join the outer one.

        `durable=False` is for what the server already holds (its acknowledgements): the
        commit survives a crash of the process but may be lost with the power, in which
        case the item is sent again and the server answers `duplicate` (R2). Saving a
        visit is always durable (C1).
        """
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None else default

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    @property
    def cursor(self) -> str | None:
        return self.get_meta("cursor")

    @property
    def clock_offset_ms(self) -> int | None:
        value = self.get_meta("clock_offset_ms")
        return int(value) if value is not None else None

    def record_clock_offset(self, offset_ms: int) -> None:
        with self.transaction():
            self.set_meta("clock_offset_ms", str(int(offset_ms)))
            self.set_meta("clock_measured_at", now_text())

    # -- outbox (C1) ---------------------------------------------------------------------------

    def save(
        self,
        item: dict[str, Any],
        attachments: list[Attachment] = (),  # type: ignore[assignment]
        *,
        household_id: str | None = None,
        base_version: int | None = None,
        base: dict[str, Any] | None = None,
        edits: dict[str, Any] | None = None,
        draft: str | None = None,
    ) -> int:
        """Put a finished form and its files in the outbox; returns after the commit (C1).

        Saving the same instanceID again changes nothing (the first copy stays). `draft`:
        the key of the draft this form finishes, dropped in the same transaction, so a
        form is either a draft or in the outbox, never both (it is sent once).
        """
        stamp = now_text()
        with self.transaction():
            if draft is not None:
                self.db.execute("DELETE FROM drafts WHERE key = ?", (draft,))
            cur = self.db.execute(
                "INSERT INTO outbox (instance_id, form_id, version, household_id, base_version,"
                " base, edits, item, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO NOTHING",
                (
                    item["instance_id"], item["form_id"], item.get("version") or "",
                    household_id, base_version, _dump(base), _dump(edits),
                    _dump(item), stamp, stamp,
                ),
            )  # fmt: skip
            if cur.rowcount == 0:
                row = self.db.execute(
                    "SELECT seq FROM outbox WHERE instance_id = ?", (item["instance_id"],)
                ).fetchone()
                return row[0]
            for file in attachments:
                self.db.execute(
                    "INSERT INTO outbox_files (instance_id, filename, content_type, size, sha256,"
                    " data) VALUES (?, ?, ?, ?, ?, ?)",
                    (item["instance_id"], file.filename, file.content_type, len(file.data),
                     file.sha256, file.data),
                )  # fmt: skip
            return cur.lastrowid

    def pending(self, limit: int | None = None) -> list[OutboxItem]:
        """Items the server does not hold yet, oldest first (each device keeps its order, H4)."""
        sql = "SELECT * FROM outbox WHERE state = ? ORDER BY seq"
        params: tuple = (PENDING,)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [_item(row) for row in self.db.execute(sql, params)]

    def outbox(self) -> list[OutboxItem]:
        """Everything still in the outbox, with its files' upload state."""
        items = [_item(r) for r in self.db.execute("SELECT * FROM outbox ORDER BY seq")]
        files: dict[str, list] = {}
        for row in self.db.execute(
            "SELECT instance_id, filename, size, sha256, upload_id, done FROM outbox_files"
        ):
            files.setdefault(row["instance_id"], []).append(dict(row))
        for item in items:
            item.files = files.get(item.instance_id, [])
        return items

    def counts(self) -> dict[str, int]:
        out = {state: n for state, n in self.db.execute(
            "SELECT state, count(*) FROM outbox GROUP BY state")}  # fmt: skip
        out["files_to_upload"] = self.db.execute(
            "SELECT count(*) FROM outbox_files WHERE done = 0"
        ).fetchone()[0]
        return out

    def apply_results(self, items: list[OutboxItem], results: list) -> None:
        """The server's receipts for a batch, in one transaction (C2).

        accepted/duplicate: `sent` (the row leaves once its files are up);
        conflict/invalid/quarantined/refused: kept with the reason; error: stays pending,
        unless its status is a final 4xx (kept as refused).
        """
        stamp = now_text()
        with self.transaction(durable=False):
            for item, result in zip(items, results, strict=True):
                if result.result in ("accepted", "duplicate"):
                    state = SENT
                elif result.result == "error":
                    # A server fault (5xx) or a limit (408, 429) passes: send it again. Any
                    # other status is final: kept with its message, not retried forever.
                    final = 400 <= (result.status or 500) < 500 and result.status not in (408, 429)
                    state = "refused" if final else PENDING
                else:
                    state = result.result
                replaced = item.item.get("deprecated_id")
                if replaced and state in (SENT, "invalid"):
                    # The correction of a returned record is held: the return is dealt with.
                    self.db.execute(
                        "DELETE FROM records WHERE kind = 'review_return' AND id = ?", (replaced,)
                    )
                receipt = {"result": result.result, "status": result.status,
                           "submission_id": result.submission_id,
                           "quarantine_id": result.quarantine_id,
                           "issues": [vars(i) for i in result.issues]}  # fmt: skip
                self.db.execute(
                    "UPDATE outbox SET state = ?, code = ?, message = ?, result = ?,"
                    " updated_at = ?, attempts = attempts + 1 WHERE seq = ?",
                    (state, result.code, result.message, _dump(receipt), stamp, item.seq),
                )
            self._drop_finished()

    def files_to_upload(self) -> list[dict[str, Any]]:
        """Files of items the server holds, not yet uploaded (a conflict's photos stay here)."""
        rows = self.db.execute(
            "SELECT f.instance_id, f.filename, f.content_type, f.size, f.sha256, f.upload_id"
            " FROM outbox_files f JOIN outbox o USING (instance_id)"
            " WHERE f.done = 0 AND o.state IN ('sent', 'invalid', 'quarantined')"
            " ORDER BY o.seq, f.filename"
        )
        return [dict(r) for r in rows]

    def file_data(self, instance_id: str, filename: str) -> bytes:
        row = self.db.execute(
            "SELECT data FROM outbox_files WHERE instance_id = ? AND filename = ?",
            (instance_id, filename),
        ).fetchone()
        return bytes(row[0])

    def set_upload_id(self, instance_id: str, filename: str, upload_id: str) -> None:
        with self.transaction(durable=False):
            self.db.execute(
                "UPDATE outbox_files SET upload_id = ? WHERE instance_id = ? AND filename = ?",
                (upload_id, instance_id, filename),
            )

    def file_uploaded(self, instance_id: str, filename: str) -> None:
        with self.transaction(durable=False):
            self.db.execute(
                "UPDATE outbox_files SET done = 1 WHERE instance_id = ? AND filename = ?",
                (instance_id, filename),
            )
            self._drop_finished()

    def _drop_finished(self) -> None:
        """Items the server holds with every file uploaded leave the outbox."""
        gone = self.db.execute(
            "DELETE FROM outbox WHERE state = 'sent' AND NOT EXISTS (SELECT 1 FROM outbox_files f"
            " WHERE f.instance_id = outbox.instance_id AND f.done = 0)"
        ).rowcount
        if gone:
            total = int(self.get_meta("sent_total", "0") or 0) + gone
            self.set_meta("sent_total", str(total))

    # -- pulled state (P1-P4) ------------------------------------------------------------------

    def forms(self) -> list[dict[str, Any]]:
        return [
            json.loads(r["data"]) | {"downloaded": r["xform"] is not None}
            for r in self.db.execute("SELECT data, xform FROM forms ORDER BY form_id, version")
        ]

    def form_hash(self, form_id: str, version: str) -> str | None:
        row = self.db.execute(
            "SELECT hash FROM forms WHERE form_id = ? AND version = ? AND xform IS NOT NULL",
            (form_id, version),
        ).fetchone()
        return row[0] if row else None

    def form_xform(self, form_id: str, version: str | None = None) -> tuple[str, bytes] | None:
        """(version, XForm bytes) of `form_id` (the newest version held when none is given)."""
        sql = "SELECT version, xform FROM forms WHERE form_id = ? AND xform IS NOT NULL"
        params: tuple = (form_id,)
        if version is not None:
            sql += " AND version = ?"
            params += (version,)
        rows = list(self.db.execute(sql, params))
        if not rows:
            return None
        rows.sort(key=lambda r: _version_key(r[0]))
        return rows[-1][0], bytes(rows[-1][1])

    def media_hash(self, form_id: str, version: str, filename: str) -> str | None:
        row = self.db.execute(
            "SELECT hash FROM form_media WHERE form_id = ? AND version = ? AND filename = ?",
            (form_id, version, filename),
        ).fetchone()
        return row[0] if row else None

    def households(self) -> list[dict[str, Any]]:
        """Every household held, as the officer sees it: server state plus unsent edits."""
        out = []
        for row in self.db.execute("SELECT * FROM households ORDER BY id"):
            data = json.loads(row["data"])
            if row["local"]:
                data["properties"] = json.loads(row["local"])
            data["conflicts"] = json.loads(row["conflicts"]) if row["conflicts"] else []
            out.append(data)
        return out

    def household(self, household_id: str) -> dict[str, Any] | None:
        household_id = self.resolve(household_id)
        row = self.db.execute("SELECT * FROM households WHERE id = ?", (household_id,)).fetchone()
        if row is None:
            return None
        data = json.loads(row["data"])
        data["server_properties"] = dict(data.get("properties") or {})
        if row["local"]:
            data["properties"] = json.loads(row["local"])
        return data

    def held_versions(self) -> dict[str, int]:
        """(id -> version) of the active households held: what the digest (P4) is made of."""
        return {
            r[0]: r[1]
            for r in self.db.execute("SELECT id, version FROM households WHERE status = 'active'")
        }

    def resolve(self, household_id: str) -> str:
        """The survivor a household id redirects to (after merges), or the id itself."""
        seen = set()
        while household_id not in seen:
            seen.add(household_id)
            row = self.db.execute(
                "SELECT target FROM redirects WHERE id = ?", (household_id,)
            ).fetchone()
            if row is None:
                return household_id
            household_id = row[0]
        return household_id

    def has_pending_edits(self, household_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM outbox WHERE household_id = ? AND state = 'pending' LIMIT 1",
            (household_id,),
        ).fetchone()
        return row is not None

    def apply_page(self, changes: list, cursor: str, files: dict[tuple, bytes]) -> None:
        """One pull page, atomically with its cursor (P3): all of it, or none of it.

        `files` are the XForms and media downloaded for the page's form changes,
        by (form_id, version) and (form_id, version, filename).
        """
        with self.transaction():
            for change in changes:
                _APPLY[change.kind](self, change, files)
            self.set_meta("cursor", cursor)

    def reset_pulled(self, cursor: str | None) -> None:
        """Drop the pulled households (P4 resync) except those with unsent edits; new cursor."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM households WHERE id NOT IN (SELECT household_id FROM outbox"
                " WHERE state = 'pending' AND household_id IS NOT NULL)"
            )
            self.set_meta("cursor", cursor)

    def set_local_view(self, household_id: str, properties: dict | None, conflicts: list) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE households SET local = ?, conflicts = ? WHERE id = ?",
                (_dump(properties), _dump(conflicts) if conflicts else None, household_id),
            )

    def returned(self) -> list[dict[str, Any]]:
        """The records reviewers returned for correction, oldest return first; each with
        `correction`: the instanceID of its correction waiting in the outbox, or None."""
        waiting = {
            item.item.get("deprecated_id"): item.instance_id
            for item in self.pending()
            if item.item.get("deprecated_id")
        }
        out = [r | {"correction": waiting.get(r.get("instance_id"))}
               for r in self.records("review_return")]  # fmt: skip
        return sorted(out, key=lambda r: (r.get("returned_at") or "", r.get("instance_id")))

    # -- drafts ----------------------------------------------------------------------------------

    def save_draft(self, key: str, form_id: str, version: str, data: dict[str, Any]) -> None:
        """Keep the answers so far of a form being filled (after each answer; durable)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO drafts (key, form_id, version, data, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " form_id = excluded.form_id, version = excluded.version,"
                " data = excluded.data, updated_at = excluded.updated_at",
                (key, form_id, version, _dump(data), now_text()),
            )

    def draft(self, key: str) -> dict[str, Any] | None:
        """The draft kept under `key` ({form_id, version, data, updated_at}), or None."""
        row = self.db.execute("SELECT * FROM drafts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return dict(row) | {"data": json.loads(row["data"])}

    def drop_draft(self, key: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM drafts WHERE key = ?", (key,))

    def records(self, kind: str) -> list[dict[str, Any]]:
        return [
            json.loads(r[0])
            for r in self.db.execute("SELECT data FROM records WHERE kind = ? ORDER BY id", (kind,))
        ]


# -- applying pulled changes ----------------------------------------------------------------


def _apply_form(store: LocalStore, change, files: dict) -> None:
    form_id, _, version = change.id.rpartition("@")
    if change.op == "delete":
        _remove_form(store, change.id)
        return
    data = change.data or {}
    form_id, version = data.get("form_id", form_id), data.get("version", version)
    xform = files.get((form_id, version))
    store.db.execute(
        "INSERT INTO forms (form_id, version, title, hash, data, xform) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (form_id, version) DO UPDATE SET title = excluded.title,"
        " hash = excluded.hash, data = excluded.data,"
        " xform = coalesce(excluded.xform, forms.xform)",
        (form_id, version, data.get("title", ""), data.get("hash", ""), _dump(data), xform),
    )
    for media in data.get("media") or []:
        blob = files.get((form_id, version, media["filename"]))
        if blob is not None:
            store.db.execute(
                "INSERT INTO form_media (form_id, version, filename, hash, data)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (form_id, version, filename)"
                " DO UPDATE SET hash = excluded.hash, data = excluded.data",
                (form_id, version, media["filename"], media["hash"], blob),
            )


def _remove_form(store: LocalStore, key: str) -> None:
    """Drop a form version unless unsent submissions of it are waiting (they need it)."""
    form_id, _, version = key.rpartition("@")
    waiting = store.db.execute(
        "SELECT 1 FROM outbox WHERE form_id = ? AND version = ? AND state = 'pending' LIMIT 1",
        (form_id, version),
    ).fetchone()
    if waiting is None:
        store.db.execute("DELETE FROM forms WHERE form_id = ? AND version = ?", (form_id, version))
        store.db.execute(
            "DELETE FROM form_media WHERE form_id = ? AND version = ?", (form_id, version)
        )


def _apply_household(store: LocalStore, change, _files: dict) -> None:
    if change.op == "delete":
        _remove_household(store, change.id)
        return
    data = change.data or {}
    store.db.execute(
        "INSERT INTO households (id, version, status, data) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET version = excluded.version, status = excluded.status,"
        " data = excluded.data, local = NULL, conflicts = NULL",
        (change.id, int(data.get("version") or 0), data.get("status") or "active", _dump(data)),
    )


def _remove_household(store: LocalStore, household_id: str) -> None:
    """A household left the scope: drop the copy unless unsent edits of it wait (P1)."""
    if not store.has_pending_edits(household_id):
        store.db.execute("DELETE FROM households WHERE id = ?", (household_id,))


def _apply_redirect(store: LocalStore, change, _files: dict) -> None:
    """`id` was merged into `to`: remember it and point local references at the survivor."""
    if change.op == "delete":
        store.db.execute("DELETE FROM redirects WHERE id = ?", (change.id,))
        return
    target = (change.data or {}).get("to")
    if not target or target == change.id:
        return
    store.db.execute(
        "INSERT INTO redirects (id, target) VALUES (?, ?)"
        " ON CONFLICT (id) DO UPDATE SET target = excluded.target",
        (change.id, target),
    )
    survivor = store.resolve(target)
    store.db.execute(
        "UPDATE outbox SET household_id = ? WHERE household_id = ? AND state = 'pending'",
        (survivor, change.id),
    )
    store.db.execute("DELETE FROM households WHERE id = ?", (change.id,))


def _apply_removal(store: LocalStore, change, _files: dict) -> None:
    kind = (change.data or {}).get("kind")
    if kind == "household":
        _remove_household(store, change.id)
    elif kind == "form":
        _remove_form(store, change.id)
    else:
        store.db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, change.id))


def _apply_record(store: LocalStore, change, _files: dict) -> None:
    if change.op == "delete":
        store.db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (change.kind, change.id))
        return
    store.db.execute(
        "INSERT INTO records (kind, id, data) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
        (change.kind, change.id, _dump(change.data or {})),
    )


_APPLY = {
    "form": _apply_form,
    "household": _apply_household,
    "redirect": _apply_redirect,
    "removal": _apply_removal,
    "assignment": _apply_record,
    "review_return": _apply_record,
}


# -- helpers ------------------------------------------------------------------------------


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _load(text: str | None) -> Any:
    return json.loads(text) if text else None


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        seq=row["seq"],
        instance_id=row["instance_id"],
        form_id=row["form_id"],
        version=row["version"],
        household_id=row["household_id"],
        base_version=row["base_version"],
        base=_load(row["base"]),
        edits=_load(row["edits"]),
        item=json.loads(row["item"]),
        state=row["state"],
        code=row["code"],
        message=row["message"],
        created_at=row["created_at"],
    )


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-_]", version))
