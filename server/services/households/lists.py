"""What tablets read of households: the entity list ODK Collect downloads, and which ids it
should drop (the entity list's integrity check).

The list is a CSV per user's scope (`name,label,__version`, then every
property); the JSON sync API reads households through the change log
(`server.services.sync.exchange`).

The manifest shows the list's MD5 and the media request sends its bytes, for
every tablet of every cadre, several times a day: `cached` keeps both per scope
(the unit and paired household ids, so users with the same scope share one
entry) and dataset in `entity_list_cache`, with the version they were made at.
That version is a hash of what the list is made of (each household's id,
version, label and last change, the returned review comments), read by the
same index scans as the list but without its properties, so an edited, merged,
closed, paired or returned household changes it and the next request makes
the list again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from server.db import db
from server.models import EntityListCache, Household, HouseholdStatus, User
from server.models.base import utcnow
from server.services import transactional
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
    Made afresh: `cached` is what requests read.
    """
    return _csv(user, dataset, None)


def _csv(user: User, dataset: str, returned: dict[str, str] | None) -> bytes:
    rows = list(db.session.scalars(in_scope(user, dataset)))
    names = sorted({k for h in rows for k in (h.properties or {})} - set(LIST_COLUMNS))
    if returned is None:
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


#: Entries not made again for this long are deleted when another is stored, so the table
#: holds about one entry per scope that downloaded its list recently.
CACHE_DAYS = 7


@dataclass(frozen=True)
class CachedList:
    """An entity list as kept: its MD5 and, when asked for, its bytes."""

    md5: str
    data: bytes | None = None


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def scope_key(user: User) -> str:
    """What makes two users' lists the same: their unit ids and paired household ids."""
    units = scope.unit_id_list(user)
    if units is None:
        return "all"
    paired = scope.paired_id_list(user)
    return _digest([",".join(map(str, units)), ",".join(paired)])


def version_key(user: User, dataset: str) -> tuple[str, dict[str, str]]:
    """A hash of what `user`'s list of `dataset` is made of, and the returned comments.

    Reads the id, version, label and last change of the households in the list
    (the same index scans as the list, none of their properties) and the
    comments of the submissions returned about them.
    """
    stmt = in_scope(user, dataset).with_only_columns(
        Household.id, Household.version, Household.label, Household.updated_at, Household.commune_id
    )
    rows = db.session.execute(stmt).all()
    returned = review.returned_comments([r.id for r in rows], {r.commune_id for r in rows})
    parts = [f"{r.id}\t{r.version}\t{r.label}\t{r.updated_at}" for r in rows]
    parts += [f"returned\t{hid}\t{comment}" for hid, comment in sorted(returned.items())]
    return _digest(parts), returned


def cached(user: User, dataset: str = "households", *, body: bool = True) -> CachedList:
    """`user`'s entity list of `dataset` from `entity_list_cache`, made and kept there when
    the kept one is older than the households it lists. Without `body` only the MD5 is read
    (the manifest). The MD5 and bytes returned always belong together."""
    key = scope_key(user)
    version, returned = version_key(user, dataset)
    columns = [EntityListCache.md5, EntityListCache.body] if body else [EntityListCache.md5]
    found = db.session.execute(
        sa.select(*columns).where(
            EntityListCache.scope_key == key,
            EntityListCache.dataset == dataset,
            EntityListCache.version_key == version,
        )
    ).first()
    if found is not None:
        return CachedList(found.md5, found.body if body else None)
    data = _csv(user, dataset, returned)
    made = CachedList(list_hash(data), data)
    _store(key, dataset, version, made)
    return made if body else CachedList(made.md5)


_COLUMNS = ("version_key", "md5", "body", "made_at")


@transactional
def _store(key: str, dataset: str, version: str, made: CachedList) -> None:
    """Keep `made` as the list of scope `key` (replacing an older one), and drop the entries
    not made again for `CACHE_DAYS`."""
    now = utcnow()
    db.session.execute(
        sa.delete(EntityListCache).where(EntityListCache.made_at < now - dt.timedelta(CACHE_DAYS))
    )
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(EntityListCache)
    values = {"version_key": version, "md5": made.md5, "body": made.data, "made_at": now}
    statement = insert.values(scope_key=key, dataset=dataset, **values).on_conflict_do_update(
        index_elements=["scope_key", "dataset"],
        set_={name: insert.excluded[name] for name in _COLUMNS},
    )
    db.session.execute(statement)


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
