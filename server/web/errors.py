"""The site's error page: the one HTML shape for problems and HTTP errors in the browser.

A 401 answers with the sign-in page instead, so it lives here too (the sign-in
views in `auth` use it as well).
"""

from __future__ import annotations

from flask import current_app, g, render_template, request, session
from werkzeug.exceptions import HTTPException

from server.errors import problem_from_http
from server.problems import Problem
from server.web.i18n import _, language

#: Where the sign-in page sends the official back to once signed in (kept in the session).
NEXT_KEY = "next"


def sign_in_page(status: int = 200, message: str | None = None, username: str = ""):
    """The sign-in form. Asked for instead of a page (401), it remembers that page in the
    session (not in the form: a refusal never repeats what was asked for)."""
    nxt = request.form.get("next") or request.args.get("next") or ""
    if status == 401 and request.method == "GET" and request.endpoint != "web.sign_in":
        session[NEXT_KEY] = request.full_path.rstrip("?")
    body = render_template(
        "signin.html", next=nxt, message=message, username=username, status=status
    )
    return body, status


#: Paths of the machine protocols (JSON API, OpenRosa): their errors keep their own shapes.
MACHINE_PATHS = ("/api/", "/key/", "/formList", "/forms/", "/datasets/", "/submission")

#: Seconds a client is told to wait before trying again while the database is down.
RETRY_AFTER = "30"


def wants_page() -> bool:
    """Whether an error outside the site's routes goes to a person: a browser (it names
    text/html in Accept) asking for an address outside the machine protocols."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    return any(value == "text/html" for value, _quality in request.accept_mimetypes)


def _page(status: int, message: str, title: str | None = None):
    from server.web import csrf, i18n  # the site's template globals, also outside its routes

    titles = {403: _("Not allowed"), 404: _("Not found"), 503: _("Database unavailable")}
    title = title or titles.get(status, _("Something went wrong"))
    context = {**i18n.template_globals(), **csrf.template_globals()}
    if "web" not in request.blueprints:  # outside the site's routes: no signed-in header
        context["web_user"] = lambda: None
    body = render_template(
        "error.html",
        title=title,
        message=message,
        status=status,
        **context,
    )
    return body, status


def on_problem(exc: Problem):
    if exc.status == 401:
        return sign_in_page(401)
    return _page(exc.status, exc.message(language()))


def on_http_error(exc: HTTPException):
    if exc.code == 400 and exc.description == "csrf":
        message = _(
            "The form expired or did not come from this site. Reload the page and try again."
        )
        return _page(400, message)
    return _page(exc.code or 500, problem_from_http(exc).message(language()))


def on_database_unavailable(exc: Exception):
    """503, saying the database cannot be reached: the page asks nothing of the database."""
    current_app.logger.exception("database unavailable on %s %s", request.method, request.path)
    g.web_user = None  # the header would ask the database who is signed in
    body, status = _page(503, Problem("503.1").message(language()))
    return body, status, {"Retry-After": RETRY_AFTER}


def on_unexpected(exc: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _page(500, Problem("500.1").message(language()))
