"""Who is calling an OpenRosa endpoint: a device token in the URL, HTTP Basic or HTTP Digest.

ODK Collect needs no password prompt when the server URL it was given
carries a device token (`/key/<token>`). Clients that answer a 401 challenge
get two: Digest (RFC 7616 with MD5, the only algorithm Collect speaks) and,
over HTTPS (or when `ALLOW_INSECURE_BASIC` is set for development), Basic.

Digest is written here rather than taken from a library because none is
installed and what Collect needs is small: Werkzeug parses the header, the
nonce is stateless (a timestamp signed with the app's secret key, valid for
`NONCE_LIFETIME`), and the check compares MD5 digests built from the user's
stored HA1 (`User.digest_ha1`, see `server.services.access.auth.digest_ha1`: the
trade-off of keeping it is documented there). Without server state, a
captured request can be replayed while its nonce lives, as with any Digest
server that does not track nonce counts; device tokens over HTTPS are the
recommended setup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from flask import Response, current_app, request
from werkzeug.datastructures import Authorization

from server.api.auth import Principal
from server.problems import Problem
from server.services.access import auth, signin

NONCE_LIFETIME = 3600  # seconds; an expired nonce gets a fresh challenge marked stale


def authenticate(token: str | None) -> Principal:
    """The caller: by the URL's device token, else by Basic or Digest; Problem 401 otherwise."""
    if token is not None:
        device = auth.authenticate_token(token)
        return Principal(device.user, device)
    credentials = request.authorization
    if credentials is not None and credentials.type == "basic" and basic_allowed():
        user = signin.check_password(
            credentials.username or "", credentials.password or "", request.remote_addr or ""
        )
        if user is not None:
            return Principal(user)
    if credentials is not None and credentials.type == "digest" and digest_enabled():
        user = _digest_user(credentials)
        if user is not None:
            return Principal(user)
    raise Problem("401.1")


def basic_allowed() -> bool:
    """Basic sends the password readable: only over HTTPS, unless explicitly allowed."""
    return request.is_secure or bool(current_app.config.get("ALLOW_INSECURE_BASIC"))


def digest_enabled() -> bool:
    return bool(current_app.config.get("OPENROSA_DIGEST", True))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _sign(stamp: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"openrosa-nonce:{stamp}".encode(), hashlib.sha256).hexdigest()[:32]


def new_nonce() -> str:
    """A nonce the server can check later without remembering it: time, salt and signature."""
    stamp = f"{int(time.time()):x}.{secrets.token_hex(4)}"
    return f"{stamp}.{_sign(stamp)}"


def nonce_state(nonce: str) -> str:
    """ "valid", "stale" (ours but expired) or "bad"."""
    stamp, _, signature = nonce.rpartition(".")
    if not stamp or not hmac.compare_digest(signature, _sign(stamp)):
        return "bad"
    try:
        issued = int(stamp.split(".")[0], 16)
    except ValueError:
        return "bad"
    return "valid" if 0 <= time.time() - issued <= NONCE_LIFETIME else "stale"


def _digest_user(credentials: Authorization):
    """The user whose Digest response checks out, or None."""
    p = credentials.parameters
    username, nonce, uri, answer = (p.get(k) for k in ("username", "nonce", "uri", "response"))
    if not (username and nonce and uri and answer) or p.get("realm") != auth.DIGEST_REALM:
        return None
    if (p.get("algorithm") or "MD5").upper() != "MD5" or nonce_state(nonce) != "valid":
        return None
    if uri.split("?")[0] != request.path:
        return None
    # The site's lock-out covers Digest too: a wrong response is a failed sign-in, and while
    # the name is locked even the right one gets 429 (issue 13, finding 5).
    address = request.remote_addr or ""
    signin.check_not_locked(username, address)
    user = auth.digest_user(username)
    if user is None:
        _digest_failed(username, address)
        return None
    ha2 = _md5(f"{request.method}:{uri}")
    qop = p.get("qop")
    if qop == "auth":
        expected = _md5(f"{user.digest_ha1}:{nonce}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
    elif qop is None:
        expected = _md5(f"{user.digest_ha1}:{nonce}:{ha2}")
    else:
        return None
    if not hmac.compare_digest(expected, answer.lower()):
        _digest_failed(username, address)
        return None
    signin.record_success(user, username, address, always=False)
    return user


def _digest_failed(username: str, address: str) -> None:
    until = signin.record_failure(username, address)
    if until is not None:
        raise signin.locked_problem(until)


def challenge(response: Response) -> Response:
    """Add the 401 challenges a client may answer: Digest (MD5), and Basic where allowed."""
    if digest_enabled():
        credentials = request.authorization
        stale = (
            credentials is not None
            and credentials.type == "digest"
            and nonce_state(credentials.parameters.get("nonce") or "") == "stale"
        )
        response.headers.add(
            "WWW-Authenticate",
            f'Digest realm="{auth.DIGEST_REALM}", qop="auth", algorithm=MD5, '
            f'nonce="{new_nonce()}", opaque="{secrets.token_hex(8)}"'
            + (", stale=true" if stale else ""),
        )
    if basic_allowed():
        response.headers.add("WWW-Authenticate", f'Basic realm="{auth.DIGEST_REALM}"')
    return response
