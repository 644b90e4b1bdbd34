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

from collections.abc import Iterable, Iterator
from typing import Protocol

from flask import Flask, current_app

#: Files are read and written in parts of this size (bounded memory for big files).
PART_BYTES = 1024 * 1024
_EXTENSION = "giupho_store"


class MissingFile(FileNotFoundError):
    """No file under this key (a `FileNotFoundError`, as a missing file on disk was)."""


class Store(Protocol):
    """What every backend does; keys are relative POSIX-like paths (see `check_key`)."""

    #: "database" or "s3": what `giupho backup` must copy besides the database.
    kind: str

    def put(self, key: str, data: bytes) -> None:
        """Keep `data` under `key`, replacing what was there."""

    def add(self, key: str, data: bytes) -> None:
        """Keep `data` under `key` unless it holds a file already (content-addressed keys:
        the same key always holds the same bytes, so concurrent adds are harmless)."""

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Keep the concatenation of `chunks` under `key` (a part in memory at a time);
        returns its size."""

    def get(self, key: str) -> bytes:
        """The whole file (MissingFile when there is none)."""

    def open_stream(self, key: str) -> Iterator[bytes]:
        """The file in parts of at most `PART_BYTES` (MissingFile before the first part)."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The file's size in bytes (MissingFile when there is none)."""

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with `prefix`, in order."""


def check_key(key: str) -> str:
    """`key` when it is a relative path without `..`, empty or control parts; else ValueError.

    Keys come from the code (hashes, tokens, job ids), never from a client, but a stored
    `storage_path` is data: it must not name something outside the store's space.
    """
    parts = key.split("/")
    if (
        not key
        or len(key) > 500
        or any(p in ("", ".", "..") for p in parts)
        or any(not ch.isprintable() or ch == "\\" for ch in key)
    ):
        raise ValueError(f"not a storage key: {key!r}")
    return key


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


def stream_file(path, chunk: int = PART_BYTES) -> Iterator[bytes]:
    """The bytes of a local file in parts (to `put_stream` a file written on this machine)."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            yield block
