"""Ledger rows for the report tests: the shipped support catalogue and entries.

The catalogue is what the migration inserts (`forms.library.support_kinds`); the test
database is emptied between tests, so each test lays it again.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from forms.library.support_kinds import KINDS
from server.db import db
from server.models import SupportCategory, SupportEntry, SupportKind, SupportSource


def lay_catalogue() -> dict[str, SupportKind]:
    """The shipped kinds, by code (inside an app context)."""
    found = {}
    for n, k in enumerate(KINDS):
        kind = SupportKind(
            code=k.code,
            category=SupportCategory(k.category),
            unit=k.unit,
            name_vi=k.vi,
            name_en=k.en,
            group=k.group,
            counts_pupils=k.counts_pupils,
            position=n,
        )
        db.session.add(kind)
        found[k.code] = kind
    db.session.flush()
    return found


def entry(
    kind: SupportKind,
    given_on: dt.date,
    source: SupportSource,
    *,
    household=None,
    commune_id: int | None = None,
    quantity: float | None = None,
    value_vnd: int | None = None,
    pupils: int | None = None,
    **more,
) -> dict:
    """A row for `SupportEntry` (insert many with `db.session.execute(insert(...), rows)`)."""
    return dict(
        kind_id=kind.id,
        household_id=household.id if household is not None else None,
        commune_id=household.commune_id if household is not None else commune_id,
        village_id=household.village_id if household is not None else None,
        quantity=quantity,
        unit=kind.unit,
        value_vnd=value_vnd,
        pupils=pupils,
        given_on=given_on,
        source_type=source,
        **more,
    )


def add_entries(rows: list[dict]) -> None:
    """Insert many entries in one statement (thousands in a few milliseconds)."""
    if rows:
        db.session.execute(sa.insert(SupportEntry), rows)
