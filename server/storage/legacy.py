"""Files of the attachment folder kept on one machine's disk before the file store.

`giupho storage migrate` moves them into the store (`move_folder`), and `giupho restore`
puts the files of an archive made before the store into it (`key_for`): attachments keep
their name (`ab/cd/<sha256>`, the `storage_path` their rows hold), and the part file of an
unfinished resumable upload (`uploads/<token>.part`) becomes the upload's first chunk,
`uploads/<token>/000000000000`, so the tablet carries on from the offset the server holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from server import storage
from server.db import db


@dataclass
class Moved:
    files: int = 0
    bytes: int = 0
    skipped: int = 0


def key_for(relative: str) -> str | None:
    """The store key of the attachment folder's file `relative`; None for what is not kept
    (a half-written temporary file, anything outside the folder's layout)."""
    path = PurePosixPath(relative)
    if any(part.startswith(".") for part in path.parts):
        return None  # `.<sha>.<pid>.<hex>`: a write that never finished
    if len(path.parts) == 2 and path.parts[0] == "uploads" and path.name.endswith(".part"):
        return f"uploads/{path.name[: -len('.part')]}/{0:012d}"
    try:
        return storage.check_key(path.as_posix())
    except ValueError:
        return None


def chunks_of(handle, size: int = storage.PART_BYTES) -> Iterator[bytes]:
    while block := handle.read(size):
        yield block


def move_folder(root: Path, *, remove: bool = False) -> Moved:
    """Put every file of the attachment folder `root` into the store, one transaction per
    file (a file is never held whole in memory); remove each from disk once committed when
    `remove`. Running it again is harmless: the store's copy is replaced by the same bytes."""
    moved = Moved()
    if not root.is_dir():
        return moved
    store = storage.current()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        key = key_for(file.relative_to(root).as_posix())
        if key is None:
            moved.skipped += 1
            continue
        with open(file, "rb") as handle:
            moved.bytes += store.put_stream(key, chunks_of(handle))
        db.session.commit()
        moved.files += 1
        if remove:
            file.unlink()
    return moved
