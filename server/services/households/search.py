"""The search box of the site and the API's `q`: households by name, CCCD or phone.

One rule for every search box: the typed text is reduced by `server.dedup.keys.search_query`
(folded words, or the digits of a number) and looked for in `duplicate_profiles.search`,
which `search_text` writes with each profile (head and members' folded names, CCCDs, phone,
household code). So "nguyen van dinh", "NGUYỄN VĂN DÌNH", "Thuỷ"/"Thủy" and "dinh"/"Đình"
find the same households on SQLite and PostgreSQL alike (every household has a profile:
duplicate detection stores it when the household is registered).
"""

from __future__ import annotations

import sqlalchemy as sa

from server.dedup.keys import search_query
from server.models import DuplicateProfile, Household

PROFILES = DuplicateProfile.__table__


def matching(stmt: sa.Select, text: str | None) -> sa.Select:
    """`stmt` (a select of households) narrowed to those the search `text` finds."""
    text = (text or "").strip()
    if not text:
        return stmt
    wanted = search_query(text)
    if not wanted:  # punctuation only: nothing a household could be found by
        return stmt.where(sa.false())
    found = sa.select(PROFILES.c.household_id).where(
        PROFILES.c.search.like(f"%{_escaped(wanted)}%", escape="\\")
    )
    return stmt.where(Household.id.in_(found))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
