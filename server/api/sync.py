"""The JSON sync API v1 for the giupho client: push, pull, digest, server time, form files.

Views only read the request (gzip, caps, JSON), authorise, call the sync
service and render with the protocol schemas of `sync.protocol`. A push is
one request and one transaction (a SAVEPOINT per item inside it); its
answer goes out after the commit, so an item reported stored is stored.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from server import json_codec
from server.api import params
from server.api.auth import current_user, login_required
from server.errors import negotiate_language
from server.limits import sending_limit
from server.operations import metrics
from server.problems import Problem
from server.services.sync import exchange as sync
from sync import protocol

bp = Blueprint("sync", __name__, url_prefix="/sync")

_JSON_TYPES = ("application/json",)


def _limits() -> tuple[int, int]:
    config = current_app.config
    return config["SYNC_MAX_ITEMS"], config["SYNC_MAX_BYTES"]


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress a gzip body, stopping at `limit` bytes: a small bomb cannot fill memory."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise Problem("400.1", reason=f"gzip: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise Problem("413.1", limit=limit)
    if not inflater.eof:
        raise Problem("400.1", reason="gzip: the body ends early")
    return out


def read_json_body() -> Any:
    """The request body as JSON: gunzipped when `Content-Encoding: gzip`, size-capped."""
    mimetype = request.mimetype
    if mimetype and mimetype not in _JSON_TYPES:
        raise Problem("415.1", content_type=request.content_type)
    _max_items, max_bytes = _limits()
    raw = request.get_data(cache=False)
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw, max_bytes)
    elif encoding != "identity":
        raise Problem("415.1", content_type=f"Content-Encoding: {encoding}")
    if len(raw) > max_bytes:
        raise Problem("413.1", limit=max_bytes)
    try:
        return json_codec.loads(raw)
    except ValueError as exc:  # orjson.JSONDecodeError, bad UTF-8 included
        raise Problem("400.1", reason=f"JSON: {exc}") from None


def _batch_items(body: Any) -> list[Any]:
    """The items of a push body, checked only as far as the batch needs; items go to ingest.

    A malformed item is not refused here: ingest keeps it in quarantine, so
    nothing a user sent is lost because one field was wrong.
    """
    if not isinstance(body, dict):
        raise Problem("400.3", field="body", reason="expected a JSON object")
    if "items" not in body:
        raise Problem("400.2", field="items")
    items = body["items"]
    if not isinstance(items, list):
        raise Problem("400.3", field="items", reason="expected a list")
    max_items, _max_bytes = _limits()
    if len(items) > max_items:
        raise Problem("413.3", count=len(items), limit=max_items)
    return items


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.post("/push")
@sending_limit
@login_required()
def push():
    """Send finished forms: one result per item, in the order sent.

    Body `{"items": [...]}`, optionally gzip-compressed (`Content-Encoding:
    gzip`). Each item is `{"instance_id", "form_id", "version",
    "deprecated_id", "answers", "device_time", "clock_offset_ms"}` or
    `{"xml": "<data ...>"}`. Sending the same batch again is safe: items
    already stored answer `duplicate` with their original receipt. Only
    items with result `error` should be sent again.
    """
    items = _batch_items(read_json_body())
    results = sync.push(
        items, user=current_user(), device=g.principal.device, lang=negotiate_language()
    )
    metrics.count_submissions("json", (result.result for result in results))
    response = protocol.PushResponse(results, server_time=_now())
    return protocol.PushResponseSchema().dump(response)


@bp.get("/pull")
@login_required()
def pull():
    """The changes in the caller's scope after `cursor`, a page at a time.

    Without a cursor: a full snapshot of the scope (start from an empty store),
    paged the same way. Apply each page, keep its `cursor`, and ask again while
    `has_more` is true; an interrupted pull resumes from the last kept cursor.
    """
    query = params.load(protocol.PullQuerySchema(), request.args)
    page = sync.pull(current_user(), query["cursor"], query["limit"])
    page.server_time = _now()
    return protocol.PullPageSchema().dump(page)


@bp.post("/digest")
@login_required()
def digest():
    """Check the tablet's households against the server (P4).

    `resync: true` means the copies differ: drop the local households and pull
    from the returned `cursor` (a fresh snapshot).
    """
    held = params.load(protocol.DigestRequestSchema(), read_json_body())
    answer = sync.digest(current_user(), held)
    answer.server_time = _now()
    return protocol.DigestResponseSchema().dump(answer)


@bp.get("/time")
def server_time():
    """The server clock, for the device to measure its clock offset (C5). No login needed."""
    return protocol.ServerTimeSchema().dump({"server_time": _now()})


@bp.get("/forms/<form_id>/versions/<version>/xform")
@login_required()
def download_form(form_id: str, version: str):
    """The XForm of a form version the caller may see (the `download_url` of a form change)."""
    found = sync.form_version(current_user(), form_id, version)
    return Response(found.xform, mimetype="text/xml", headers={"ETag": f'"{found.md5}"'})


@bp.get("/forms/<form_id>/versions/<version>/media/<filename>")
@login_required()
def download_media(form_id: str, version: str, filename: str):
    """A media file of a form version the caller may see."""
    media = sync.form_media(current_user(), form_id, version, filename)
    return Response(media.data, mimetype=media.content_type, headers={"ETag": f'"{media.md5}"'})
