"""Read replica: read-only requests read from `GIUPHO_DATABASE_REPLICA_URL`, writes go to the
primary (`GIUPHO_DATABASE_URL`).

The decision is made per request and per statement by the session (`RoutingSession`, the
session class of `server.db.db`):

* a GET or HEAD request may read from the replica (`before_request`); any other request
  never does, so every service that writes reads what it writes from the primary;
* on such a request, plain SELECTs go to the replica; anything else goes to the primary: a
  flush, INSERT/UPDATE/DELETE, SELECT ... FOR UPDATE, SQL text, and
  `db.session.connection()` without a statement (what `@transactional` and Core writes
  use). From then on the request stays on the primary, so a request that wrote reads its
  own writes;
* a GET that reads what the same client has just written stays on the primary: an upload's
  offset, an export's status and file (`PRIMARY_ENDPOINTS`), and every page of a site
  session that wrote in the last `REPLICA_PIN_S` seconds (the page a form's redirect
  shows must show the decision just taken; `after_request` marks the session).

Devices' and sessions' "last seen" times are noted in memory and written to the primary
in batches (`server.services.access.seen`), so reading routes write nothing.
Without a replica URL every statement goes to the primary, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, request, session
from flask_sqlalchemy.session import Session

_EXTENSION = "giupho_replica"
_ROUTE = "giupho_db_route"  # on `g`: "replica" while the request may read from the replica
_PIN = "primary_until"  # in the site's session cookie: a time before which it reads the primary
READING_METHODS = frozenset({"GET", "HEAD"})
#: GET routes that read what the same client has just written, from the primary.
PRIMARY_ENDPOINTS = frozenset(
    {
        "api.uploads.upload_state",
        "api.exports.list_exports",
        "api.exports.show_export",
        "api.exports.download_export",
        "web.exports.page",
        "web.exports.job_file",
    }
)
#: Seconds a site session reads from the primary after it wrote.
REPLICA_PIN_S = 10


def _reads_only(clause) -> bool:
    return (
        isinstance(clause, sa.Select | sa.CompoundSelect)
        and getattr(clause, "_for_update_arg", None) is None
    )


def _replica_in_use() -> sa.Engine | None:
    if not has_app_context() or g.get(_ROUTE) != "replica":
        return None
    return current_app.extensions.get(_EXTENSION)


def stay_on_primary() -> None:
    """The rest of this request reads from the primary (it wrote, or it must see writes)."""
    if has_app_context() and g.get(_ROUTE) == "replica":
        g.pop(_ROUTE)


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a reading request's plain SELECTs to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        replica = None if bind is not None else _replica_in_use()
        if replica is not None:
            if not self._flushing and _reads_only(clause):
                return replica
            if clause is not None or self._flushing:
                stay_on_primary()
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def connection(self, bind_arguments=None, execution_options=None):
        if not bind_arguments:  # a caller about to write (or to lock) through Core
            stay_on_primary()
        return super().connection(bind_arguments, execution_options)


def _route() -> None:
    if (
        request.method in READING_METHODS
        and request.endpoint not in PRIMARY_ENDPOINTS
        and session.get(_PIN, 0) < time.time()
    ):
        g.setdefault(_ROUTE, "replica")


def _pin_after_write(response):
    if request.method not in READING_METHODS and "uid" in session:
        session[_PIN] = int(time.time()) + REPLICA_PIN_S
    return response


def replica_engine() -> sa.Engine | None:
    """The current app's replica engine (None without a replica)."""
    return current_app.extensions.get(_EXTENSION)


def replica_engine_of(app: Flask) -> sa.Engine | None:
    return app.extensions.get(_EXTENSION)


def init_app(app: Flask, engine_options: Callable[[str], dict]) -> None:
    """Create the replica's engine when `DATABASE_REPLICA_URL` is set and route requests
    (`engine_options(url)`: the options of an engine for that URL)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    from server.settings import normalise_database_url

    url = normalise_database_url(url)
    app.extensions[_EXTENSION] = sa.create_engine(url, **engine_options(url))
    app.before_request(_route)
    app.after_request(_pin_after_write)


def dispose(app: Flask) -> None:
    engine = app.extensions.get(_EXTENSION)
    if engine is not None:
        engine.dispose()
