"""Values remembered until the current database transaction ends.

Ingest asks the same questions for every submission of a batch (is this form
version open, may this user fill it, which admin unit is village 03325_01,
which units does the user work in). Within one transaction the answers do
not change, so they are computed once and kept in the session's `info`; the
cache is dropped when the outermost transaction commits or rolls back, so a
later request never sees an answer older than its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from server.db import db

T = TypeVar("T")
_KEY = "giupho.txcache"


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """The value cached under `key` in this transaction, computed by `compute` on first use."""
    cache = db.session.info.setdefault(_KEY, {})
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = compute()
        return value


def forget() -> None:
    """Drop every cached value now (after a write that changes an answer)."""
    db.session.info.pop(_KEY, None)


def forget_group(group: str, session: Session | None = None) -> None:
    """Drop the cached values whose key is a tuple starting with `group` (e.g. "scope")."""
    cache = (session or db.session).info.get(_KEY)
    if cache:
        for key in [k for k in cache if isinstance(k, tuple) and k and k[0] == group]:
            del cache[key]


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)
