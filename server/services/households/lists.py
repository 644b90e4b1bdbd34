"""What tablets read of households: the entity list ODK Collect downloads, and which ids it
should drop (the entity list's integrity check).

The list is a CSV per user's scope (`name,label,__version`, then every
property); the JSON sync API reads households through the change log
(`server.services.sync.exchange`).
"""

from __future__ import annotations

import csv
import hashlib
import io

import sqlalchemy as sa

from server.db import db
from server.models import Household, HouseholdStatus, User
from server.services.access import scope
from server.services.households.versions import normalise_id
from server.services.review import decisions as review

#: Columns every entity list starts with (ODK entities spec: the id, label and version).
LIST_COLUMNS = ("name", "label", "__version")
#: The column that carries a reviewer's comment on a returned record (only when there is one).
REVIEW_COMMENT_COLUMN = "review_comment"


def in_scope(user: User, dataset: str = "households") -> sa.Select:
    """Active households of `dataset` in `user`'s scope (their villages' and those paired
    with them), in a stable order."""
    stmt = sa.select(Household).where(
        Household.dataset == dataset,
        Household.status == HouseholdStatus.ACTIVE,
        scope.households(user),
    )
    return stmt.order_by(Household.id)


def entity_list(user: User, dataset: str = "households") -> bytes:
    """The entity list CSV ODK Collect reads: `name,label,__version`, then every property.

    The same households give the same bytes (rows by id, property columns
    sorted), so the manifest hash changes only when this user's list does.
    """
    rows = list(db.session.scalars(in_scope(user, dataset)))
    names = sorted({k for h in rows for k in (h.properties or {})} - set(LIST_COLUMNS))
    # A reviewer's return (issue 6): Collect shows the comment on the household to fix.
    returned = review.returned_comments([h.id for h in rows], {h.commune_id for h in rows})
    extra = [REVIEW_COMMENT_COLUMN] if returned else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*LIST_COLUMNS, *names, *extra])
    for h in rows:
        props = h.properties or {}
        comment = [returned.get(h.id, "")] if returned else []
        writer.writerow(
            [h.id, h.label or "", h.version, *(props.get(n, "") for n in names), *comment]
        )
    return out.getvalue().encode("utf-8")


def list_hash(data: bytes) -> str:
    """The hex MD5 the manifest shows for an entity list."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def deleted_states(user: User, ids: list[str]) -> dict[str, bool]:
    """For each requested id, whether the tablet should drop it (closed or merged).

    Ids the server does not know (a registration still on its way) or that
    are outside the user's scope are reported as not deleted: saying
    "deleted" would make Collect throw away a household it created offline.
    """
    wanted = {normalise_id(i): i for i in ids if i.strip()}
    stmt = sa.select(Household.id, Household.status).where(
        Household.id.in_(list(wanted)), scope.households(user)
    )
    gone = {hid for hid, status in db.session.execute(stmt) if status != HouseholdStatus.ACTIVE}
    return {original: key in gone for key, original in wanted.items()}
