"""Exports sent straight to the browser: small ones, written to a file then streamed.

The file is written whole before the first byte goes out, so an error becomes a proper
problem answer rather than a truncated download; it is read back in chunks and removed once
sent (a local file: the request that wrote it sends it). A background job's file is read
from the file store (`server.storage`) a part at a time. An export larger than
`EXPORT_DIRECT_MAX_ROWS` is refused (409.61): it is made in the background instead (`jobs`),
with its progress shown.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping

from flask import Response, current_app

from server.models import User
from server.problems import Problem
from server.services.access import scope
from server.services.reports import exports, jobs, writers
from server.services.reports.exports import ExportRequest

#: Query parameters of an export itself; a report's export passes the others to the report.
_OWN = ("form", "labels", "review_states", "include_superseded", "lang")
_PERIOD = ("year", "phase", "from", "to")


def request_from_query(kind: str, fmt: str, args: Mapping[str, str]) -> ExportRequest:
    """The export a query string describes (a report: every other parameter is the report's)."""
    values: dict = {k: args[k] for k in _OWN + _PERIOD if args.get(k)}
    if hasattr(args, "getlist") and args.getlist("review_states"):
        values["review_states"] = ",".join(args.getlist("review_states"))
    if kind == "report":
        values = {k: args[k] for k in ("lang",) if args.get(k)}
        values["report"] = {k: v for k, v in args.items() if k != "lang"}
    return ExportRequest.parse(kind, fmt, values)


def direct(user: User, request: ExportRequest) -> Response:
    """Write the export, then stream it to the caller."""
    today = scope.today()
    total = exports.count(user, request, today)
    limit = current_app.config["EXPORT_DIRECT_MAX_ROWS"]
    if total is not None and total > limit:
        raise Problem("409.61", rows=total, limit=limit)
    path = jobs.export_dir() / f"direct-{secrets.token_hex(8)}"
    result = exports.write(user, request, path, today)
    size = path.stat().st_size
    return send(exports.iter_file(path, remove=True), result.filename, size)


def send(chunks: Iterator[bytes], filename: str, size: int) -> Response:
    """`chunks` as a download named `filename` of `size` bytes, read while it is sent."""
    suffix = next(s for s in (".csv.zip", ".xlsx", ".csv") if filename.endswith(s))
    response = Response(
        chunks,
        mimetype=writers.MEDIA_TYPES[suffix],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
        },
        direct_passthrough=True,
    )
    return response
