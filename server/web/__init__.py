"""The review site: server-rendered pages for commune officials (Flask + Jinja, no build step).

The site is not a client of the JSON API: its views parse the request,
authorise with `server.services.access.scope` and call the same services. Sessions
are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure when
`GIUPHO_SECURE_COOKIES`), holding the user id, a fingerprint of the
password (a new password ends other sessions), the CSRF token and the
language. Every state-changing request carries the CSRF token
(`server.web.csrf`). Texts are English message ids translated by the
gettext catalogues in `server/translations` (`server.web.i18n`);
Vietnamese is the default.

Modules: `auth` (sign in and out, language), `review` (dashboard, queue, submission page and
decisions), `quarantine`, `households` (list, a household's page, conflict resolution),
`duplicates` (comparison, merge, distinct, undo), `exits` (poverty exits to certify);
`start` (a cadre's landing page); `reports` (the programme's reports, charts, the A4 page);
`exports` (files of submissions, households, the ledger and reports); `answers` lays out a
submission's answers under the form's labels; `admin` is the administration pages under
`/admin` (users, devices, units, agencies, pairs, forms, audit log).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel

from server import errors as server_errors
from server import i18n as catalogues
from server.web import errors, i18n
from server.web.site import bp

#: Paths of the machine protocols: every request carries its own credentials (a device
#: token or Basic/Digest), so none of them reads or writes a cookie session.
SESSIONLESS = ("/api/", "/key/")


class SiteSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, opened for the site's requests only.

    Opening one builds a signing serializer per request: a few per cent of
    an OpenRosa submission's CPU spent on a session it never uses. The
    protocols get Flask's null session (writing to it is an error).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS):
            return None  # Flask then uses `make_null_session`, and saves nothing
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Cookie settings, Flask-Babel (the catalogues, dates and numbers per language, the time
    zone), the routes."""
    app.session_interface = SiteSessions()
    if app.config["SESSION_COOKIE_NAME"] == "session":  # Flask's default: name it for giupho
        app.config["SESSION_COOKIE_NAME"] = "giupho_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=app.config["WEB_SESSION_HOURS"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["TIMEZONE"])
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(catalogues.TRANSLATIONS))
    Babel(app, locale_selector=i18n.language)
    from server.web import (  # noqa: F401 - they add the routes to bp
        admin,
        auth,
        duplicates,
        exits,
        exports,
        households,
        monitoring,
        quarantine,
        reports,
        review,
        reviews,
        start,
    )

    app.register_blueprint(bp)
    app.extensions[server_errors.PAGES] = errors  # browsers get pages for unrouted errors too
