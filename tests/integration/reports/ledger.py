"""Ledger rows and households for the report tests: the shipped support catalogue, entries,
and households registered through the JSON sync API.

The catalogue is what the migration inserts (`forms.library.support_kinds`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa

from server.db import db
from server.models import SupportEntry, SupportKind, SupportSource
from server.services.programme import ledger
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration
from tests.integration.helpers import bearer
from tests.integration.live import FormPlaces


def lay_catalogue() -> dict[str, SupportKind]:
    """The shipped kinds, by code (inside an app context): the ledger's own loader puts back
    what the migration inserted and the emptied test tables lack."""
    ledger.load_catalogue()
    return {k.code: k for k in db.session.scalars(sa.select(SupportKind))}


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


# -- households, registered as tablets send them ------------------------------------------------

PUSH = "/api/v1/sync/push"


def push(client, token: str, items: list[dict]) -> None:
    """Send `items` through the JSON sync API in batches of 500 (SYNC_MAX_ITEMS); each must
    be stored (201)."""
    for start in range(0, len(items), 500):
        body = json.dumps({"items": items[start : start + 500]}).encode()
        got = client.post(
            PUSH, data=body, headers={"Content-Type": "application/json", **bearer(token)}
        )
        assert got.status_code == 200, got.json
        assert {r["status"] for r in got.json["results"]} == {201}, got.json["results"][:3]


def registration_item(n: int, village: str, device_time: str, **answers: str) -> tuple[str, dict]:
    """Household number `n`'s registration in `village` (a unit path) as a push item, with
    its own phone (households apart, as real ones are: no duplicate pairs to score)."""
    hid = str(uuid.uuid4())
    form = registration(
        household_id=hid,
        head_name=f"Hộ số {n}",
        village=FormPlaces.answer(village),
        head__phone=f"09{n:08d}",
        **answers,
    )
    return hid, answers_item(form, device_time=device_time)
