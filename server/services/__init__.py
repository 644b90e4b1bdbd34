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
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from server.db import db

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("giupho_transaction_depth", default=0)


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` in a transaction: commit when the outermost call returns, roll back on error."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        depth = _depth.get()
        token = _depth.set(depth + 1)
        try:
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
