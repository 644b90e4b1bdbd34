"""Session-less authentication for the API: a Bearer device token or HTTP Basic.

Each request carries its credential; nothing is remembered between requests,
so any worker behind a load balancer can serve any request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request

from server.models import Device, Role, User
from server.problems import Problem
from server.services.access import auth, scope, signin


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, and the device when a device token was used."""

    user: User
    device: Device | None = None


def authenticate() -> Principal:
    """The caller of this request; Problem 401.1 (none or invalid), 401.2 (revoked device) or
    429.2 (the user name is locked out after failed sign-ins: the site's lock-out)."""
    credentials = request.authorization
    if credentials is None:
        raise Problem("401.1")
    if credentials.type == "bearer" and credentials.token:
        device = auth.authenticate_token(credentials.token)
        return Principal(device.user, device)
    if credentials.type == "basic" and credentials.username:
        user = signin.check_password(
            credentials.username, credentials.password or "", request.remote_addr or ""
        )
        if user is not None:
            return Principal(user)
    raise Problem("401.1")


def login_required(*roles: Role) -> Callable:
    """Decorate a view: authenticate the caller into `g.principal`, optionally requiring a role."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.principal = authenticate()
            if roles:
                scope.require_role(g.principal.user, *roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def current_user() -> User:
    """The authenticated user of this request (inside a `login_required` view)."""
    return g.principal.user
