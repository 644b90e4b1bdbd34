"""What every file store shares: the interface, the part size, the missing-file error and
the rule of keys (`server.storage` says which store is used and why)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

#: Files are read and written in parts of this size (bounded memory for big files).
PART_BYTES = 1024 * 1024


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
