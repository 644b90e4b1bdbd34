"""One structured line per request, without secrets (`GIUPHO_REQUEST_LOG`).

Each line says when, which route and path, the method, the status, how long it took, who
asked (user id, device id) and the request's id (the `X-Request-ID` a proxy sent, else a
new one, echoed in the response), so an operator can follow one request through the
proxy's, gunicorn's and giupho's logs. With `GIUPHO_LOG_FORMAT=json` the lines are JSON
objects (python-json-logger), one per line, for a log collector.

Secrets: the path goes through `server.logs.redact` (a device token in `/key/<token>/`),
the query string is not logged at all, nor any header but the request id.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

from server.logs import RedactSecrets, redact

LOGGER = logging.getLogger("giupho.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def formatter(kind: str) -> logging.Formatter:
    """The formatter of `GIUPHO_LOG_FORMAT`: `json` (one object per line) or `text`."""
    if kind == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def _started() -> None:
    g.request_started = time.perf_counter()
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex


def _finished(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    started = g.pop("request_started", None)
    if started is None:
        return response
    principal = g.get("principal")
    user = getattr(getattr(principal, "user", None), "id", None)
    device = getattr(getattr(principal, "device", None), "id", None)
    if user is None:
        user = getattr(g.get("web_user"), "id", None)
    rule = request.url_rule
    fields = {
        "request_id": request_id,
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "path": redact(request.path),
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "user_id": user,
        "device_id": device,
        "remote": request.remote_addr,
        "bytes_in": request.content_length or 0,
    }
    LOGGER.info(
        "%s %s %s %sms", fields["method"], fields["path"], fields["status"], fields["ms"],
        extra=fields,
    )  # fmt: skip
    return response


def init_app(app: Flask) -> None:
    """Log every request when `REQUEST_LOG` is on, in `LOG_FORMAT`, on standard error."""
    if not app.config["REQUEST_LOG"]:
        return
    LOGGER.setLevel(logging.INFO)
    if not any(getattr(h, "giupho_requests", False) for h in LOGGER.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.giupho_requests = True
        handler.setFormatter(formatter(app.config["LOG_FORMAT"]))
        handler.addFilter(RedactSecrets())
        LOGGER.addHandler(handler)
        LOGGER.propagate = False
    app.before_request(_started)
    app.after_request(_finished)
