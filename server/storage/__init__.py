"""The file store every application machine reaches: attachments, upload chunks, exports.

Several machines behind a load balancer serve the same database, so no file may live on
one machine's disk: an upload started on one machine is finished on another, a photo sent
to one is shown by another, an export made by a worker is downloaded through any web
process. `current()` is the app's store, chosen by `GIUPHO_STORAGE`:

* `database` (the default): the `blobs` table, in parts of 1 MiB (`database.py`). A clone
  on SQLite and a cluster on PostgreSQL both work without another service, and a file
  written by a request commits or rolls back with the rows that point at it.
* `s3://bucket/prefix`: an S3-compatible object store through boto3 (`s3.py`), for
  installs whose files outgrow the database.

Files are named by keys: `ab/cd/<sha256>` for attachments (content-addressed, the same
names as the attachment folder had, so rows written before keep working),
`uploads/<token>/<offset>` for the chunks of a resumable upload, and
`exports/<job>-<name>` for export files. `giupho storage migrate` moves the files of the
old attachment folder (`GIUPHO_ATTACHMENT_DIR`) into the store.

A row that names a file must never outlive the file, so services remove files with
`delete_after_commit`, not `Store.delete`: an object store cannot roll a delete back, and an
upload whose chunks were deleted by a transaction that then failed could never be finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Flask, current_app

from server.storage.base import PART_BYTES, MissingFile, Store, check_key

_EXTENSION = "giupho_store"


def from_setting(value: str, app: Flask) -> Store:
    """The backend `GIUPHO_STORAGE` names."""
    if value.startswith("s3://"):
        from server.storage.s3 import S3Store

        return S3Store.from_url(value, app.config)
    if value == "database":
        from server.storage.database import DatabaseStore

        return DatabaseStore()
    raise ValueError(f"GIUPHO_STORAGE must be 'database' or 's3://bucket/prefix', not {value!r}")


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = from_setting(app.config["STORAGE"], app)


def current() -> Store:
    """The current app's store."""
    return current_app.extensions[_EXTENSION]


__all__ = [
    "PART_BYTES",
    "MissingFile",
    "Store",
    "check_key",
    "current",
    "delete_after_commit",
    "stream_file",
]

log = logging.getLogger(__name__)
_PENDING = "giupho_store_deletes"  # in the database session's `info`: (store, key) to delete


def delete_after_commit(key: str) -> None:
    """Remove the file at `key` when the current transaction commits, and not at all if it
    rolls back. The database store's delete is part of the transaction already, so it is done
    now; an object store's waits for the commit (see the module docstring). A delete that fails
    after the commit (logged with its key), or a process that dies in between, leaves a file
    nothing names: space, never a row without its file."""
    from server.db import db

    store = current()
    if store.kind == "database":
        store.delete(key)
        return
    session = db.session()
    session.connection()  # begins the transaction if nothing has yet, so its end is seen
    # The innermost transaction asking: a savepoint that rolls back forgets its deletes.
    owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((owner, store, key))


def _after_commit(session) -> None:
    for _owner, store, key in session.info.pop(_PENDING, ()):
        try:
            store.delete(key)
        except Exception:  # the commit stands; the file is only space now
            log.warning("store: could not delete %s after the commit", key, exc_info=True)


def _after_soft_rollback(session, previous_transaction) -> None:
    """Forget the deletes asked inside the transaction rolled back (a savepoint, or the
    whole transaction: then every one)."""
    pending = session.info.get(_PENDING)
    if pending:
        kept = [p for p in pending if not _inside(p[0], previous_transaction)]
        session.info[_PENDING] = kept


def _inside(transaction, rolled_back) -> bool:
    while transaction is not None:
        if transaction is rolled_back:
            return True
        transaction = transaction.parent
    return False


def _listen() -> None:
    from server.replica import RoutingSession

    if not sa.event.contains(RoutingSession, "after_commit", _after_commit):
        sa.event.listen(RoutingSession, "after_commit", _after_commit)
        sa.event.listen(RoutingSession, "after_soft_rollback", _after_soft_rollback)


_listen()


def stream_file(path, chunk: int = PART_BYTES) -> Iterator[bytes]:
    """The bytes of a local file in parts (to `put_stream` a file written on this machine)."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            yield block
