"""Attachment files: kept in the file store once per content, named by their SHA-256.

Photos arrive with submissions (OpenRosa multipart parts, several POSTs for a
large submission) and must never be lost, even when the submission they
came with is quarantined. The bytes go to the file store every machine reaches
(`server.storage`) under `ab/cd/<sha256>`: the same photo sent twice is stored
once, and several workers adding the same content at once are harmless.

In the database store (the default) the file is written in the transaction of the
rows that point at it, so a rolled-back submission leaves no file behind. In an
object store a file written for a transaction that then rolls back stays without a
row pointing at it: content-addressed, so a later upload of the same bytes reuses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from server import storage

#: What a stored attachment is called when the client gave no usable name.
UNNAMED = "attachment"
MAX_FILENAME = 300


@dataclass(frozen=True)
class StoredFile:
    """Where one attachment's bytes are kept: its key in the file store."""

    sha256: str
    size: int
    storage_path: str


def key_of(sha256: str) -> str:
    """The store key of the attachment with this SHA-256 (the attachment folder's layout)."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def store(data: bytes) -> StoredFile:
    """Keep `data` in the file store (once per content); returns where it is."""
    sha = hashlib.sha256(data).hexdigest()
    relative = key_of(sha)
    storage.current().add(relative, data)
    return StoredFile(sha, len(data), relative)


def keep_verified(sha256: str, size: int, chunks: Iterator[bytes]) -> StoredFile:
    """Keep a file whose SHA-256 was checked already (a finished upload), read from `chunks`
    a part at a time; nothing is written when the store holds that content already."""
    relative = key_of(sha256)
    store_ = storage.current()
    if not store_.exists(relative):
        store_.put_stream(relative, chunks)
    return StoredFile(sha256, size, relative)


def read(storage_path: str) -> bytes:
    """The bytes of a stored attachment (`storage.MissingFile`, an OSError, when gone)."""
    return storage.current().get(storage_path)


def open_stream(storage_path: str) -> Iterator[bytes]:
    """The bytes of a stored attachment in parts (a download holds one part at a time)."""
    return storage.current().open_stream(storage_path)


def safe_filename(name: str | None) -> str:
    """The client's file name reduced to a plain base name (no folders, no control characters).

    Collect names parts after the answer's file name ("1732150000.jpg"); the
    name is only a label matched against the answers, never a path on disk.
    """
    text = (name or "").replace("\x00", "")
    text = PureWindowsPath(PurePosixPath(text).name).name
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    if text in ("", ".", ".."):
        return UNNAMED
    return text[-MAX_FILENAME:]
