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
"""

from __future__ import annotations

from collections.abc import Iterator

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


__all__ = ["PART_BYTES", "MissingFile", "Store", "check_key", "current", "stream_file"]


def stream_file(path, chunk: int = PART_BYTES) -> Iterator[bytes]:
    """The bytes of a local file in parts (to `put_stream` a file written on this machine)."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            yield block
