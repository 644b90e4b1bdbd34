"""Per-sender request rate limits on the routes that make the server work: sending.

Flask-Limiter (with `limits`) counts requests per sender, where a sender is
what the request signs in with: a device token in an OpenRosa `/key/<token>/`
path or an `Authorization: Bearer` header, the user name of a Basic or Digest
header, and the client's address when there is none. The count is kept where
`GIUPHO_RATE_LIMIT_STORAGE` says: `memory://` (the default, one count per
worker process, enough for `make run`) or `redis://host:6379` (one count for
every worker, what a deployment with several workers sets). A sender over the
limit gets 429.1 with `Retry-After` in its protocol's shape; the sync client
and ODK Collect wait and send again, so nothing is lost.
"""

from __future__ import annotations

import hashlib
import math
import re
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RequestLimit

from server.problems import Problem

_KEY_PATH = re.compile(r"^/key/([^/]+)/")
_DIGEST_USER = re.compile(r'username="([^"]*)"')


def sender() -> str:
    """Who sends this request, as a short digest (never the secret itself)."""
    found = _KEY_PATH.match(request.path)
    if found:
        what = "token:" + found.group(1)
    else:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            what = "token:" + value.strip()
        elif scheme == "basic" and request.authorization and request.authorization.username:
            what = "user:" + request.authorization.username
        elif scheme == "digest" and (user := _DIGEST_USER.search(value)):
            what = "user:" + user.group(1)
        else:
            what = "address:" + (request.remote_addr or "")
    return hashlib.blake2b(what.encode("utf-8", "replace"), digest_size=12).hexdigest()


def _refuse(limit: RequestLimit) -> None:
    problem = Problem("429.1")
    problem.retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    raise problem


limiter = Limiter(key_func=sender, on_breach=_refuse, key_prefix="giupho")


def sending() -> str:
    """The limit of the sending routes, from the settings (read per request)."""
    return current_app.config["RATE_LIMIT_SENDING"]


def sending_limit(view):
    """Decorate a view that receives submissions, pushes or upload chunks."""
    return limiter.shared_limit(sending, scope="sending", methods=["POST", "PATCH", "PUT"])(view)


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATE_LIMIT_STORAGE"]
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATE_LIMIT_SENDING"])
    limiter.init_app(app)
