"""What a pull tells a tablet: rows of the database as `sync.protocol.Change` entries.

`ScopeView` is the user's scope read once per pull (a handful of unit ids and
the households paired with them, for a cadre), so every later check is a set
lookup instead of another query.
`Renderer` turns forms, households and returned submissions into changes
with the data schemas of `sync.protocol`, and renders a page of the change
log with one batched query per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload, undefer

from server.db import db
from server.models import (
    AdminUnit,
    AuditEvent,
    Change,
    FormState,
    FormVersion,
    Household,
    HouseholdStatus,
    ReviewState,
    Submission,
    User,
)
from server.services.access import scope
from server.services.duplicates import detection as dedup
from server.services.sync import changes as change_log
from sync import protocol

FORM_CHANGE = "form_version"  # the change-log kind `forms.publish/close` record
HOUSEHOLD_CHANGE = "household"
REVIEW_RETURN_CHANGE = "review_return"
PAIR_CHANGE = change_log.PAIR_CHANGE
RETURN_ACTION = "submission.return"  # the audit action whose `comment` a return carries

# One instance of each data schema: building a marshmallow schema copies its fields,
# which costs more than dumping a record with it (hundreds of households per page).
_FORM = protocol.FormDataSchema()
_HOUSEHOLD = protocol.HouseholdDataSchema()
_REDIRECT = protocol.RedirectDataSchema()
_REMOVAL = protocol.RemovalDataSchema()
_REVIEW_RETURN = protocol.ReviewReturnDataSchema()


@dataclass(frozen=True)
class ScopeView:
    """A user's scope, read once: the units they work in, those they may read, and the
    households paired with them or their team (P1: wherever those households are)."""

    user: User
    work: frozenset[int] | None  # None: everything (admin)
    readable: tuple[int, ...] | None
    paired: frozenset[str] = frozenset()
    helpers: tuple[str, ...] = ()  # the user's keys as a pair's helper (`changes.helper_key`)

    @classmethod
    def of(cls, user: User) -> ScopeView:
        helpers = (change_log.helper_key(user_id=user.id),)
        if user.agency_id is not None:
            helpers += (change_log.helper_key(agency_id=user.agency_id),)
        work = scope.unit_ids(user)
        if work is None:
            return cls(user, None, None, helpers=helpers)
        readable = db.session.scalars(scope.readable_unit_ids(user))
        paired = frozenset(db.session.scalars(scope.paired_household_ids(user)))
        return cls(
            user,
            frozenset(db.session.scalars(work)),
            tuple(sorted(readable)),
            paired,
            helpers,
        )

    def readable_select(self) -> sa.Select | None:
        """The readable units as SQL for `changes.read` (forms live at the province level)."""
        if self.readable is None:
            return None
        return sa.select(AdminUnit.id).where(AdminUnit.id.in_(self.readable))

    def log_clause(self) -> sa.ColumnElement[bool]:
        """SQL for `changes.read`: the change rows about this user's pairs and paired
        households, which may lie outside their units."""
        about_paired = sa.and_(
            Change.kind == HOUSEHOLD_CHANGE,
            Change.entity_id.in_(scope.paired_household_ids(self.user)),
        )
        return sa.or_(change_log.helper_clause(list(self.helpers)), about_paired)

    def household_clause(self) -> sa.ColumnElement[bool]:
        """SQL: the household is in this scope."""
        if self.work is None:
            return sa.true()
        ids = sorted(self.work)
        return sa.or_(
            Household.village_id.in_(ids),
            Household.commune_id.in_(ids),
            Household.id.in_(scope.paired_household_ids(self.user)),
        )

    def holds(self, household: Household) -> bool:
        """Whether `household` is in this scope (the same rule as `household_clause`)."""
        return self.holds_place(household.village_id, household.commune_id, household.id)

    def holds_place(
        self, village_id: int | None, commune_id: int | None, household_id: str | None = None
    ) -> bool:
        if self.work is None:
            return True
        return village_id in self.work or commune_id in self.work or household_id in self.paired

    def covers(self, unit_id: int | None) -> bool:
        """Whether a change logged for `unit_id` is about this scope (not only above it)."""
        return self.work is None or unit_id in self.work


def form_key(version: FormVersion) -> str:
    """The id of a form version in pulls: "<form_id>@<version>"."""
    return f"{version.form.form_id}@{version.version}"


def removal(kind: str, key: str) -> protocol.Change:
    """Tell the tablet to drop `kind` `key`: it left the user's scope."""
    data = _REMOVAL.dump({"kind": kind})
    return protocol.Change("removal", key, "delete", data)


class Renderer:
    """Rows to changes for one pull; caches the unit paths it has looked up."""

    def __init__(self, view: ScopeView) -> None:
        self.view = view
        self._paths: dict[int, str] = {}

    # -- single records -----------------------------------------------------------------

    def form(self, version: FormVersion) -> protocol.Change:
        """A published version as an upsert, any other state as a delete."""
        key = form_key(version)
        if version.state != FormState.PUBLISHED:
            return protocol.Change("form", key, "delete")
        args = {"form_id": version.form.form_id, "version": version.version}
        data = {
            **args,
            "title": version.title,
            "hash": f"md5:{version.md5}",
            "entity_dataset": version.entity_dataset,
            "download_url": url_for("api.sync.download_form", **args),
            "media": [
                {
                    "filename": m.filename,
                    "hash": f"md5:{m.md5}",
                    "download_url": url_for(
                        "api.sync.download_media", **args, filename=quote(m.filename)
                    ),
                }
                for m in version.media
            ],
        }
        return protocol.Change("form", key, "upsert", _FORM.dump(data))

    def household(self, household: Household, redirect_to: str | None) -> protocol.Change:
        """An active household in full; a closed one as a delete; a merged one as a redirect."""
        if household.status == HouseholdStatus.MERGED and redirect_to:
            data = _REDIRECT.dump({"to": redirect_to})
            return protocol.Change("redirect", household.id, "upsert", data)
        if household.status != HouseholdStatus.ACTIVE:
            return protocol.Change("household", household.id, "delete")
        data = {
            "id": household.id,
            "dataset": household.dataset,
            "label": household.label,
            "version": household.version,
            "status": household.status.value,
            "properties": household.properties or {},
            "village": self._path(household.village_id),
            "commune": self._path(household.commune_id),
            "updated_at": household.updated_at,
        }
        return protocol.Change("household", household.id, "upsert", _HOUSEHOLD.dump(data))

    def review_return(self, submission: Submission, event: AuditEvent | None) -> protocol.Change:
        """A submission returned to its cadre; once it is no longer returned, a delete."""
        key = submission.instance_id
        if submission.review_state != ReviewState.RETURNED or submission.superseded:
            return protocol.Change("review_return", key, "delete")
        answers = submission.answers or {}
        entity = (answers.get("meta") or {}).get("entity")
        household_id = entity.get("@id") if isinstance(entity, dict) else None
        data = {
            "instance_id": key,
            "form_id": submission.form_version.form.form_id,
            "version": submission.form_version.version,
            "review_state": submission.review_state.value,
            "comment": (event.details or {}).get("comment") if event else None,
            "returned_at": event.at if event else None,
            "household_id": household_id if isinstance(household_id, str) else None,
            "submitted_at": submission.device_time or submission.received_at,
            "answers": answers,
        }
        return protocol.Change("review_return", key, "upsert", _REVIEW_RETURN.dump(data))

    # -- batches ------------------------------------------------------------------------

    def households(self, rows: Iterable[Household]) -> list[protocol.Change]:
        rows = list(rows)
        merged = [h.id for h in rows if h.status == HouseholdStatus.MERGED]
        targets = redirect_targets(merged)
        self.load_paths({u for h in rows for u in (h.village_id, h.commune_id) if u})
        return [self.household(h, targets.get(h.id)) for h in rows]

    def review_returns(self, rows: Iterable[Submission]) -> list[protocol.Change]:
        rows = list(rows)
        events = return_events([s.id for s in rows])
        return [self.review_return(s, events.get(s.id)) for s in rows]

    def changes(self, log: list[Change]) -> list[protocol.Change]:
        """A page of the change log as changes, one per record, in log order."""
        firsts: dict[tuple[str, str], Change] = {}
        for row in log:
            firsts.setdefault((row.kind, row.entity_id), row)
        by_kind: dict[str, list[Change]] = {}
        for row in firsts.values():
            by_kind.setdefault(row.kind, []).append(row)
        rendered: dict[tuple[str, str], list[protocol.Change]] = {}
        for kind, rows in by_kind.items():
            render = self._LOG_KINDS.get(kind)
            if render is not None:  # kinds this protocol version does not know are skipped
                rendered.update(render(self, rows))
        return [c for key in firsts for c in rendered.get(key, [])]

    def _log_forms(self, rows: list[Change]) -> dict[tuple[str, str], list[protocol.Change]]:
        ids = [int(r.entity_id) for r in rows if r.entity_id.isdigit()]
        stmt = (
            scope.form_versions(self.view.user)
            .where(FormVersion.id.in_(ids), FormVersion.state != FormState.DRAFT)
            .options(joinedload(FormVersion.form), selectinload(FormVersion.media))
        )
        found = {str(v.id): v for v in db.session.scalars(stmt)}
        return {
            (r.kind, r.entity_id): [self.form(found[r.entity_id])]
            for r in rows
            if r.entity_id in found
        }

    def _log_households(self, rows: list[Change]) -> dict[tuple[str, str], list[protocol.Change]]:
        found = {
            h.id: h
            for h in db.session.scalars(
                sa.select(Household).where(Household.id.in_([r.entity_id for r in rows]))
            )
        }
        held = [found[r.entity_id] for r in rows if r.entity_id in found]
        rendered = {h.id: c for h, c in zip(held, self.households(held), strict=True)}
        linked = self._linked([r.entity_id for r in rows if r.entity_id not in found])
        out = {}
        for r in rows:
            household = found.get(r.entity_id)
            if r.entity_id in linked and self.view.covers(r.unit_id):
                out[(r.kind, r.entity_id)] = [linked[r.entity_id]]
            elif household is not None and self.view.holds(household):
                out[(r.kind, r.entity_id)] = [rendered[household.id]]
            elif self.view.covers(r.unit_id):
                # Logged in this scope but no longer in it (moved away): drop it. A change
                # only seen through a unit above the scope says nothing to this tablet.
                out[(r.kind, r.entity_id)] = [removal("household", r.entity_id)]
        return out

    def _log_pairs(self, rows: list[Change]) -> dict[tuple[str, str], list[protocol.Change]]:
        """This user's pairs that started or ended: the household in full while it is in
        their scope (paired, or in their villages), else its removal. Other helpers' pairs
        say nothing to this tablet."""
        mine = {}
        for r in rows:
            helper, household_id = change_log.parse_pair_entity(r.entity_id)
            if helper in self.view.helpers and household_id:
                mine[(r.kind, r.entity_id)] = household_id
        found = {
            h.id: h
            for h in db.session.scalars(
                sa.select(Household).where(Household.id.in_(sorted(set(mine.values()))))
            )
        }
        held = [h for h in found.values() if self.view.holds(h)]
        rendered = {h.id: c for h, c in zip(held, self.households(held), strict=True)}
        return {
            key: [rendered[hid] if hid in rendered else removal("household", hid)]
            for key, hid in mine.items()
        }

    def _log_review_returns(
        self, rows: list[Change]
    ) -> dict[tuple[str, str], list[protocol.Change]]:
        ids = [int(r.entity_id) for r in rows if r.entity_id.isdigit()]
        stmt = (
            sa.select(Submission)
            .where(Submission.id.in_(ids), Submission.submitter_id == self.view.user.id)
            .options(
                joinedload(Submission.form_version).joinedload(FormVersion.form),
                undefer(Submission.answers),
            )
        )
        found = list(db.session.scalars(stmt))
        changes = self.review_returns(found)
        return {(REVIEW_RETURN_CHANGE, str(s.id)): [c] for s, c in zip(found, changes, strict=True)}

    def _linked(self, own_ids: list[str]) -> dict[str, protocol.Change]:
        """The redirects of ids whose registration D1 linked to an existing household (to
        its survivor, if it was merged since): the tablet that created such an id keeps its
        visits on the household they now update."""
        links = dedup.links_of(own_ids)
        ends = redirect_targets(sorted(set(links.values())))
        return {
            own: protocol.Change("redirect", own, "upsert", _REDIRECT.dump({"to": ends.get(t, t)}))
            for own, t in links.items()
        }

    _LOG_KINDS: ClassVar[dict[str, Callable]] = {
        FORM_CHANGE: _log_forms,
        HOUSEHOLD_CHANGE: _log_households,
        REVIEW_RETURN_CHANGE: _log_review_returns,
        PAIR_CHANGE: _log_pairs,
    }

    # -- unit paths ---------------------------------------------------------------------

    def load_paths(self, ids: set[int]) -> None:
        missing = ids - self._paths.keys()
        if missing:
            stmt = sa.select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(missing))
            self._paths.update((uid, path) for uid, path in db.session.execute(stmt))

    def _path(self, unit_id: int | None) -> str | None:
        return self._paths.get(unit_id) if unit_id is not None else None


def redirect_targets(ids: list[str], max_hops: int = 8) -> dict[str, str]:
    """The final survivor of each merged household in `ids` (absorbed id -> survivor id).

    A survivor may itself be merged later: the chain is followed (one query
    per hop, a hop or two in practice) so the tablet goes straight to the
    live record.
    """
    if not ids:
        return {}
    ends = {hid: hid for hid in ids}
    for _ in range(max_hops):
        stmt = sa.select(Household.id, Household.merged_into_id).where(
            Household.id.in_(sorted(set(ends.values()))), Household.merged_into_id.is_not(None)
        )
        step = {hid: into for hid, into in db.session.execute(stmt)}
        if not step:
            break
        ends = {absorbed: step.get(end, end) for absorbed, end in ends.items()}
    return {absorbed: end for absorbed, end in ends.items() if end != absorbed}


def return_events(submission_ids: list[int]) -> dict[int, AuditEvent]:
    """The latest return (audit event with the reviewer's `comment`) of each submission."""
    if not submission_ids:
        return {}
    stmt = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.target_type == Submission.__tablename__,
            AuditEvent.target_id.in_([str(i) for i in submission_ids]),
            AuditEvent.action == RETURN_ACTION,
        )
        .order_by(AuditEvent.id)
    )
    return {int(event.target_id): event for event in db.session.scalars(stmt)}
