"""Signing in and out of the site, who is signed in, and the language switch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from server.db import db
from server.models import Role, User
from server.services.access import sessions, signin
from server.services.review import decisions as review_service
from server.web import csrf, i18n
from server.web.errors import NEXT_KEY, sign_in_page
from server.web.i18n import _
from server.web.site import bp

USER_KEY = "uid"
FINGERPRINT_KEY = "fp"
SESSION_ID_KEY = "sid"  # the server-side session (`server.services.access.sessions`)


def signed_in_user() -> User | None:
    """The user of this session: active, with the password the session was opened with, and
    a server-side session that has not ended (signed out, idle, too old)."""
    if "web_user" in g:
        return g.web_user
    user = None
    uid = session.get(USER_KEY)
    if uid is not None:
        found = db.session.get(User, uid)
        if (
            found is not None
            and found.active
            and session.get(FINGERPRINT_KEY) == signin.session_fingerprint(found)
            and sessions.is_open(found, session.get(SESSION_ID_KEY))
        ):
            user = found
    g.web_user = user
    return user


def reviewer_required(view: Callable) -> Callable:
    """Decorate a page or action: signed in (else 401 with the sign-in form), and a reviewer
    (else 403: cadres use their tablets, not the review actions)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = signed_in_user()
        if user is None:
            return sign_in_page(status=401)
        review_service.require_reviewer(user)
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target:
        return url_for("web.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.dashboard")
    return target


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        if signed_in_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return sign_in_page()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return sign_in_page(400, _("Enter your user name and password."), username)
    outcome = signin.sign_in(username, password, request.remote_addr or "")
    if outcome.locked_until is not None:
        until = i18n.format_time(outcome.locked_until)
        message = _("Too many failed attempts. Try again after %(time)s.", time=until)
        return sign_in_page(429, message, username)
    if outcome.user is None:
        return sign_in_page(401, _("Wrong user name or password."), username)
    language = session.get(i18n.SESSION_KEY)
    target = _safe_next(request.form.get("next") or session.get(NEXT_KEY) or _start(outcome.user))
    session.clear()  # a new session at sign-in: nothing from before carries over
    session.permanent = True
    session[USER_KEY] = outcome.user.id
    session[FINGERPRINT_KEY] = signin.session_fingerprint(outcome.user)
    session[SESSION_ID_KEY] = sessions.open_session(outcome.user)
    if language:
        session[i18n.SESSION_KEY] = language
    csrf.renew()
    return redirect(target)


def _start(user: User) -> str | None:
    """Where a user lands after signing in when they asked for no page: agency leads review
    nothing, their pages are the administration's (pairs of their agency); cadres collect
    with their tablets, their page says how and which households are theirs."""
    if user.role == Role.AGENCY_LEAD:
        return url_for("web.admin.index")
    if user.role == Role.CADRE:
        return url_for("web.my_work")
    return None


@bp.post("/signout")
def sign_out():
    language = session.get(i18n.SESSION_KEY)
    sessions.close_session(session.get(SESSION_ID_KEY))  # ends every copy of the cookie
    session.clear()
    if language:
        session[i18n.SESSION_KEY] = language
    csrf.renew()
    return redirect(url_for("web.sign_in"))


@bp.post("/language")
def set_language():
    """Switch the site's language (vi or en) for this session, and go back where one was."""
    chosen = request.form.get("lang", "")
    if chosen in i18n.LANGUAGES:
        session[i18n.SESSION_KEY] = chosen
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/")
def home():
    user = signed_in_user()
    return redirect((user is not None and _start(user)) or url_for("web.dashboard"))


@bp.context_processor
def _user_in_templates() -> dict:
    return {"web_user": signed_in_user}
