"""The site's error page: the one HTML shape for problems and HTTP errors in the browser."""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

from server.errors import problem_from_http
from server.problems import Problem
from server.web.i18n import _, language


def _page(status: int, message: str):
    titles = {403: _("Not allowed"), 404: _("Not found")}
    title = titles.get(status, _("Something went wrong"))
    return render_template("error.html", title=title, message=message, status=status), status


def on_problem(exc: Problem):
    if exc.status == 401:
        from server.web.auth import sign_in_page

        return sign_in_page(401)
    return _page(exc.status, exc.message(language()))


def on_http_error(exc: HTTPException):
    if exc.code == 400 and exc.description == "csrf":
        message = _(
            "The form expired or did not come from this site. Reload the page and try again."
        )
        return _page(400, message)
    return _page(exc.code or 500, problem_from_http(exc).message(language()))


def on_unexpected(exc: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _page(500, Problem("500.1").message(language()))
