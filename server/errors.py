"""Turn every error into a catalogue problem in the JSON shape; never leak a stack trace.

Blueprints that speak another protocol (OpenRosa XML, HTML pages) register
their own handlers for `Problem` and `HTTPException`; Flask prefers a
blueprint's handler for errors raised in its views. Routing errors (no
blueprint matched) and everything else land here.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from server.problems import BY_STATUS, Problem


def negotiate_language() -> str:
    """The language to answer in: what the client asks for among vi/en, else the default."""
    default = current_app.config.get("DEFAULT_LANGUAGE", "vi")
    return request.accept_languages.best_match(["vi", "en"], default=default)


def problem_from_http(exc: HTTPException) -> Problem:
    """The catalogue problem for an HTTP error Flask or Werkzeug raised."""
    status = exc.code or 500
    code = BY_STATUS.get(status, "500.1" if status >= 500 else "400.1")
    params = {
        "reason": exc.description or exc.name,
        "method": request.method,
        "limit": current_app.config.get("MAX_CONTENT_LENGTH"),
        "content_type": request.content_type or "",
    }
    return Problem(code, **params)


#: The key in `app.extensions` of the site's error pages (`server.web.errors`), which
#: answer errors outside any blueprint (an unknown address) when a browser asks.
PAGES = "giupho.error_pages"


def _pages():
    pages = current_app.extensions.get(PAGES)
    return pages if pages is not None and pages.wants_page() else None


def problem_response(problem: Problem, status: int | None = None):
    """A JSON response in the one error shape, with the problem's HTTP status."""
    response = jsonify(problem.to_dict(negotiate_language()))
    response.status_code = status or problem.status
    response.headers["Content-Language"] = negotiate_language()
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    return response


def _on_problem(exc: Problem):
    if pages := _pages():
        return pages.on_problem(exc)
    response = problem_response(exc)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="giupho"'  # RFC 6750 wants one
    return response


def _on_http_error(exc: HTTPException):
    if pages := _pages():
        return pages.on_http_error(exc)
    response = problem_response(problem_from_http(exc), exc.code)
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _on_database_unavailable(exc: sa.exc.OperationalError):
    # Lost connection, locked SQLite file, missing schema: the client should retry later.
    if pages := _pages():
        return pages.on_database_unavailable(exc)
    current_app.logger.exception("database unavailable on %s %s", request.method, request.path)
    response = problem_response(Problem("503.1"))
    response.headers["Retry-After"] = "30"
    return response


def _on_unexpected(exc: Exception):
    # The trace goes to the server log only; the client gets a catalogue problem.
    if pages := _pages():
        return pages.on_unexpected(exc)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(Problem("500.1"))


def init_app(app: Flask) -> None:
    """Register the JSON error handlers on `app`."""
    app.register_error_handler(Problem, _on_problem)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(sa.exc.OperationalError, _on_database_unavailable)
    app.register_error_handler(Exception, _on_unexpected)
