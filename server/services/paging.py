"""Keyset pages: the one way lists of the API and the review site are paged.

A page is the rows after a key, in key order, one more read than shown to
know whether another page follows. Unlike OFFSET, a row inserted meanwhile
never shifts a page, so a client walking the pages sees each row once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import db

#: The most rows one page may ask for.
MAX_PAGE = 200


@dataclass(frozen=True)
class Page:
    items: list
    next_after: Any  # pass as `after` for the next page; None on the last page


def keyset_page(
    stmt: sa.Select, key: Any, after: Any, limit: int, *, descending: bool = False
) -> Page:
    """The page of `stmt`'s rows with `key` greater than `after` (all from the first when
    None), at most `limit` (clamped to 1..MAX_PAGE), ordered by `key`; `descending`: newest
    first, the rows with `key` less than `after`."""
    if after is not None:
        stmt = stmt.where(key < after if descending else key > after)
    limit = max(1, min(limit, MAX_PAGE))
    order = key.desc() if descending else key
    found = list(db.session.scalars(stmt.order_by(order).limit(limit + 1)))
    more = len(found) > limit
    return Page(found[:limit], getattr(found[limit - 1], key.key) if more else None)
