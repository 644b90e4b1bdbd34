"""Services: the only code that touches the database session and owns transactions.

A public write function is `@transactional`: called from a view or a command
it runs as one transaction and commits before returning; called from another
transactional function it joins the caller's transaction, so a composite
operation (the demo seed, an ingest with its audit rows) commits or fails
as a whole.

One package per domain, each naming its modules and the sync-contract rules
it enforces: `receiving` (R1-R8, C3), `households` (H1-H9), `duplicates`
(D1-D4), `sync` (P1-P4), `review`, `access`, `forms`, `programme`, `demo`.
Shared by all of them: `audit` (the audit log), `paging` (keyset pages),
`memory` (values kept for the app's life), `txcache` (values kept until the
transaction ends) and `system` (operational checks).
"""

from __future__ import annotations

import functools
import random
import sqlite3
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import current_app, has_app_context

from server.db import db

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("giupho_transaction_depth", default=0)


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` in a transaction: commit when the outermost call returns, roll back on error.

    On SQLite the outermost call takes the write lock before `fn` reads anything
    (`write_lock_on_sqlite`), so every write path serialises the same way.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        depth = _depth.get()
        token = _depth.set(depth + 1)
        try:
            if depth == 0:
                write_lock_on_sqlite()
            result = fn(*args, **kwargs)
            if depth == 0:
                db.session.commit()
            return result
        except BaseException:
            if depth == 0:
                db.session.rollback()
            raise
        finally:
            _depth.reset(token)

    return wrapper


def write_lock_on_sqlite() -> None:
    """Take SQLite's write lock before a transaction reads anything, waiting for it as long
    as `SQLITE_WRITE_WAIT_S` allows; nothing on PostgreSQL (its services lock rows).

    Python's sqlite3 module sends BEGIN only before the first INSERT/UPDATE/DELETE,
    so what a write function read before that came from outside its transaction:
    another request could change a household in between, and the write then met
    a row that had moved ("household ... changed while it was merged", issue 13,
    finding 8); a transaction that read and then writes after another connection
    committed fails with "database is locked" (its snapshot is stale; the busy
    timeout cannot help). `BEGIN IMMEDIATE` takes the lock first. SQLite's
    waiting is not first come, first served, and several workers writing big
    batches can keep a writer waiting longer than the busy timeout: as nothing is
    done yet, the BEGIN is simply tried again until the wait is over, so a busy
    server makes a write slower, not refused.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        return
    wait_s = current_app.config.get("SQLITE_WRITE_WAIT_S", 30) if has_app_context() else 30
    deadline = time.monotonic() + wait_s
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or an extended BUSY
            if not busy or time.monotonic() > deadline:
                raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            time.sleep(random.uniform(0.001, 0.01))
