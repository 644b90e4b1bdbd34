"""Attachment files: kept on disk once per content, named by their SHA-256.

Photos arrive with submissions (OpenRosa multipart parts, several POSTs for a
large submission) and must never be lost, even when the submission they
came with is quarantined. The bytes go to the attachment folder
(`ATTACHMENT_DIR`) under `ab/cd/<sha256>`: the same photo sent twice is
stored once, a file is written aside and renamed into place so a reader
never sees half of it, and several workers writing the same content at
once are harmless.

A file written for a transaction that then rolls back stays on disk without
a row pointing at it: content-addressed, so a later upload of the same bytes
reuses it; a cleanup job can remove unreferenced files.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import current_app

#: What a stored attachment is called when the client gave no usable name.
UNNAMED = "attachment"
MAX_FILENAME = 300


@dataclass(frozen=True)
class StoredFile:
    """Where one attachment's bytes are kept, relative to the attachment folder."""

    sha256: str
    size: int
    storage_path: str


def root() -> Path:
    """The attachment folder of the current app."""
    return Path(current_app.config["ATTACHMENT_DIR"])


def store(data: bytes) -> StoredFile:
    """Keep `data` in the attachment folder (once per content); returns where it is."""
    sha = hashlib.sha256(data).hexdigest()
    relative = f"{sha[:2]}/{sha[2:4]}/{sha}"
    path = root() / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha}.{os.getpid()}.{secrets.token_hex(4)}")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # atomic: readers see nothing or the whole file
    return StoredFile(sha, len(data), relative)


def upload_folder() -> Path:
    """Where resumable uploads keep the bytes received so far (`server.services.receiving.uploads`).

    Inside the attachment folder, so the verified file is moved into the store
    on the same file system.
    """
    return root() / "uploads"


def read(storage_path: str) -> bytes:
    """The bytes of a stored attachment."""
    path = (root() / storage_path).resolve()
    if root().resolve() not in path.parents:
        raise ValueError(f"attachment path escapes the attachment folder: {storage_path!r}")
    return path.read_bytes()


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
