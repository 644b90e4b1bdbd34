"""JSON on the ingest path, encoded and decoded by orjson.

A push batch is JSON in, the payload kept for every item, the answers and
version documents written to the database and read back by the merge: the
standard `json` module took a tenth of a push's CPU, orjson (a maintained
C library) a fifth of that. Output is compact UTF-8, as the stored
payloads always were; dict keys that are not strings are written as strings
(as `json` does). Anything orjson refuses (an integer beyond 64 bits, say)
falls back to `json`, so nothing a client sent is refused for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(
    value: Any, default: Callable[[Any], Any] | None = None, *, own_datetimes: bool = False
) -> bytes:
    """Compact UTF-8 JSON of `value`; `default` converts what JSON has no type for (and
    datetimes, with `own_datetimes`; otherwise they are written in ISO 8601)."""
    option = _OPTIONS | (orjson.OPT_PASSTHROUGH_DATETIME if own_datetimes else 0)
    try:
        return orjson.dumps(value, default=default, option=option)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")


def dumps_text(value: Any) -> str:
    """`dumps` as text: what SQLAlchemy's JSON columns are written with (`server.db`)."""
    return dumps(value).decode("utf-8")


def loads(data: bytes | str) -> Any:
    """The value of a JSON document; ValueError (`orjson.JSONDecodeError`) when it is not."""
    return orjson.loads(data)
