"""The OpenRosa blueprint: the headers every answer carries and the error envelopes.

Apart from the package, so `views` adds its routes to `bp` importing it from here,
and the package imports both with no circle between them.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from server.errors import negotiate_language, problem_from_http
from server.openrosa import render
from server.openrosa.auth import challenge
from server.problems import Problem

bp = Blueprint("openrosa", __name__)

OPENROSA_VERSION = "1.0"


def xml_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=render.XML_CONTENT_TYPE)


@bp.before_request
def _require_openrosa() -> None:
    # Submissions have their own, smaller, limit than form uploads.
    request.max_content_length = current_app.config["MAX_SUBMISSION_BYTES"]
    request.max_form_memory_size = current_app.config["MAX_SUBMISSION_BYTES"]
    if request.headers.get("X-OpenRosa-Version", "").strip() != OPENROSA_VERSION:
        raise Problem("400.8")


@bp.after_request
def _openrosa_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    headers["X-OpenRosa-Accept-Content-Length"] = str(current_app.config["MAX_SUBMISSION_BYTES"])
    headers["Content-Language"] = negotiate_language()
    # Gunicorn always writes its own Date header; other servers (and the test client) may not.
    server = request.environ.get("SERVER_SOFTWARE", "")
    if "Date" not in headers and not server.startswith("gunicorn"):
        headers["Date"] = http_date()
    return response


def error_response(problem: Problem, status: int | None = None) -> Response:
    """A problem as the OpenRosa error envelope, in the officer's language."""
    body = render.response(problem.message(negotiate_language()), "error")
    response = xml_response(body, status or problem.status)
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    if response.status_code == 401 and not (request.view_args or {}).get("token"):
        challenge(response)
    return response


@bp.errorhandler(Problem)
def _on_problem(exc: Problem) -> Response:
    return error_response(exc)


@bp.errorhandler(HTTPException)
def _on_http_error(exc: HTTPException) -> Response:
    return error_response(problem_from_http(exc), exc.code)


@bp.errorhandler(sa.exc.OperationalError)
def _on_database_unavailable(exc: sa.exc.OperationalError) -> Response:
    current_app.logger.exception("database unavailable on %s %s", request.method, request.path)
    response = error_response(Problem("503.1"))
    response.headers["Retry-After"] = "30"
    return response


@bp.errorhandler(Exception)
def _on_unexpected(exc: Exception) -> Response:
    # The trace goes to the server log; Collect gets an envelope it can show, and retries.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(Problem("500.1"))
